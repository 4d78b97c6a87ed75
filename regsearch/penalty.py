"""The weight penalty, its NumPy reference value, and the statistics of penalized weights.

One meaning of lambda in both backends, Keras' ``L1L2`` kernel regularizer::

    penalty = l1 * sum(|W|) + l2 * sum(W^2)

summed over the weight matrices (kernels) only, not the biases, and added once per batch,
undivided, to the batch's mean cross-entropy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SPARSITY_THRESHOLD = 1e-3
"""A weight with ``|w| < SPARSITY_THRESHOLD`` counts as zero in :func:`weight_stats`."""


@dataclass(frozen=True)
class Penalty:
    """Strengths of the L1 and L2 terms; ``Penalty()`` is no regularization."""

    l1: float = 0.0
    l2: float = 0.0

    @property
    def kind(self) -> str:
        """``none``, ``l1``, ``l2`` or ``l1_l2``."""
        if self.l1 and self.l2:
            return "l1_l2"
        if self.l1:
            return "l1"
        if self.l2:
            return "l2"
        return "none"

    @property
    def active(self) -> bool:
        return bool(self.l1 or self.l2)

    def value(self, kernels: Sequence[np.ndarray]) -> float:
        """``l1 * sum|W| + l2 * sum W^2`` over ``kernels``, in float64 (the reference)."""
        total = 0.0
        for w in kernels:
            w64 = np.asarray(w, dtype=np.float64)
            total += self.l1 * float(np.abs(w64).sum()) + self.l2 * float(np.square(w64).sum())
        return total

    def lambdas(self, spec: str = ".2e", sep: str = ", ") -> str:
        """The non-zero strengths, e.g. ``l1=3.00e-05, l2=1.20e-03`` (``spec`` formats each
        value; empty for no penalty). Every text that names a configuration is built on it."""
        return sep.join(f"{name}={v:{spec}}" for name, v in (("l1", self.l1), ("l2", self.l2)) if v)

    def describe(self) -> str:
        """A short human-readable form, e.g. ``l2 (l2=3.20e-04)``."""
        return f"{self.kind} ({self.lambdas()})" if self.active else "none"


def lambda_cell(value: float) -> str:
    """One lambda for a table column: ``3.20e-04``, or ``-`` for none."""
    return f"{value:.2e}" if value else "-"


@dataclass(frozen=True)
class WeightStats:
    """Statistics of a trained model's kernels (biases excluded), all kernels pooled."""

    l1_norm: float
    """``sum |w|``"""
    l2_norm: float
    """``sqrt(sum w^2)``"""
    sparsity: float
    """fraction of weights with ``|w| < 1e-3``"""


def weight_stats(kernels: Sequence[np.ndarray]) -> WeightStats:
    """Pool all kernels and compute :class:`WeightStats`."""
    flat = np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in kernels])
    return WeightStats(
        l1_norm=float(np.abs(flat).sum()),
        l2_norm=float(np.sqrt(np.square(flat).sum())),
        sparsity=float(np.mean(np.abs(flat) < SPARSITY_THRESHOLD)),
    )
