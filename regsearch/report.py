"""``python -m regsearch.report``: an HTML page with PNG figures of one study; the command's
logic is :mod:`regsearch.cli.report`."""

from regsearch.cli.report import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
