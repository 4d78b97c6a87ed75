"""The landscape figure: a panel per family over (strength, lr), or over strength alone."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the report needs pip install 'regsearch[report]'")

from regsearch.present.figures.landscape_plots import landscape


def _row(trial, kind, score, lr=None, **strengths):
    row = {"trial": trial, "state": "COMPLETE", "param_penalty": kind, "param_lr": lr}
    row |= {f"param_{n}": strengths.get(n, 0.0) for n in ("l1", "l2", "weight_decay")}
    return row | {"mean_test_accuracy": score}


def test_landscape_over_strength_and_learning_rate(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(0)
    rows = [_row(0, "none", 0.90, lr=1e-3), _row(1, "none", 0.91, lr=3e-3)]
    for i in range(8):  # enough for a contour of each family
        lr = float(10 ** rng.uniform(-4, -2))
        rows.append(_row(2 + i, "l2", 0.9 + 0.01 * i, lr=lr, l2=float(10 ** rng.uniform(-6, -1))))
        rows.append(
            _row(10 + i, "weight_decay", 0.88, lr=lr, weight_decay=float(10 ** rng.uniform(-4, 1)))
        )
    name = landscape(rows, tmp_path)
    assert name == "landscape.png"
    assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_landscape_without_a_regularized_trial(tmp_path):
    assert landscape([_row(0, "none", 0.9)], tmp_path) is None
