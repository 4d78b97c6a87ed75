"""The penalty's reference value, the weights' statistics and the metrics from logits."""

from __future__ import annotations

import numpy as np
import pytest

from regsearch.metrics import accuracy, cross_entropy
from regsearch.penalty import Penalty, weight_stats


def test_penalty_value_is_keras_l1l2_over_kernels():
    w1 = np.array([[1.0, -2.0], [0.5, 0.0]])
    w2 = np.array([[3.0], [-1.0]])
    p = Penalty(l1=0.1, l2=0.01)
    expected = 0.1 * (3.5 + 4.0) + 0.01 * (1 + 4 + 0.25 + 9 + 1)
    assert p.value([w1, w2]) == pytest.approx(expected)
    assert p.kind == "l1_l2" and Penalty(l2=1).kind == "l2" and Penalty().kind == "none"
    assert not Penalty().active and Penalty().value([w1]) == 0.0


def test_weight_stats():
    stats = weight_stats([np.array([[3.0, 0.0]]), np.array([[-4.0], [0.0005]])])
    assert stats.l1_norm == pytest.approx(7.0005)
    assert stats.l2_norm == pytest.approx(np.sqrt(25 + 0.0005**2))
    assert stats.sparsity == pytest.approx(0.5)


def test_metrics():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    y = np.array([0, 1, 1])
    assert accuracy(logits, y) == pytest.approx(2 / 3)
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert cross_entropy(logits, y) == pytest.approx(-np.mean(log_softmax[[0, 1, 2], y]))
    assert np.isfinite(cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1])))
