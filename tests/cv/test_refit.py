"""The refit's weight decay keeps the folds' timescale."""

from __future__ import annotations

import pytest

from regsearch.cv.refit import refit_decay


def test_refit_decay_keeps_the_timescale_in_epochs():
    # 5 folds of 1,000 rows train on 800 each; the refit on all 1,000: the decay per step
    # falls by 800/1000, so lr * wd * N / B (the inverse timescale in epochs) is unchanged.
    wd = refit_decay(0.1, fold_rows=800, all_rows=1000)
    assert wd == pytest.approx(0.08)
    lr, batch = 1e-3, 32
    assert lr * wd * 1000 / batch == pytest.approx(lr * 0.1 * 800 / batch)
