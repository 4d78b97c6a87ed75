"""``python -m regsearch.study``: search the regularization of a network from the command
line; the command's logic is :mod:`regsearch.cli.study`."""

from regsearch.cli.study import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
