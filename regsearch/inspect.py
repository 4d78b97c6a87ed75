"""``python -m regsearch.inspect``: what a storage holds, and one study's trials; the command's
logic is :mod:`regsearch.cli.inspect`."""

from regsearch.cli.inspect import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
