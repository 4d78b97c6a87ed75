"""``python -m tests.fake_cli ARGS``: the study command with the fake backend, for tests that
need real worker processes (kills, several workers, read-only disks).

``REGSEARCH_FAKE_FIT_SECONDS`` makes each fold's training take that long, one fold at a time,
so that a test can catch a worker in the middle of a trial. optuna-dashboard's figures are left
out (``--no-dashboard`` first, so ``--dashboard`` among ARGS turns them back on).
"""

from __future__ import annotations

import os
import sys
import time

from regsearch.run import session
from regsearch.testing import FakeBackend, FakeTrainer


def main() -> int:
    delay = float(os.environ.get("REGSEARCH_FAKE_FIT_SECONDS", "0"))
    if delay > 0:
        fit = FakeTrainer.fit

        def slow_fit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            time.sleep(delay)
            return fit(self, *args, **kwargs)

        FakeTrainer.fit = slow_fit  # type: ignore[method-assign]
    # One fold at a time when slow (no batched path), so that a test can kill a trial between
    # its folds, with some folds recorded and some not.
    session.get_backend = lambda name: FakeBackend(batched=delay <= 0)  # type: ignore[assignment]
    from regsearch.study import main as study_main

    return study_main(["--no-dashboard", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
