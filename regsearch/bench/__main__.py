"""``python -m regsearch.bench``: see :mod:`regsearch.bench.cli`."""

from regsearch.bench.cli import main

raise SystemExit(main())
