"""The weights' regularization, its NumPy reference value, and the statistics of penalized
weights.

Two kinds, on the same weights (see :mod:`regsearch.models.summary`: every trainable tensor of
two or more dimensions) in both backends:

- **A penalty in the loss**, Keras' ``L1L2`` kernel regularizer::

      penalty = l1 * sum(|W|) + l2 * sum(W^2)

  added once per batch, undivided, to the batch's mean cross-entropy.
- **Decoupled weight decay**, as both frameworks' AdamW define it: before each Adam step,
  every such weight shrinks by the same factor::

      W <- W - lr * weight_decay * W

  (``torch.optim.AdamW``, ``Adam(decoupled_weight_decay=True)``, and Keras 3 optimizers'
  ``weight_decay``). It adds nothing to the loss. Note the trap: ``torch.optim.Adam(
  weight_decay=x)`` is *not* this; it adds ``x * W`` to the gradient, an L2 term with
  ``l2 = x / 2`` that Adam then rescales per weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SPARSITY_THRESHOLD = 1e-3
"""A weight with ``|w| < SPARSITY_THRESHOLD`` counts as zero in :func:`weight_stats`."""

STRENGTHS: tuple[str, ...] = ("l1", "l2", "weight_decay")
"""The strengths a configuration may have, as its Optuna parameters are named."""

_KINDS: dict[tuple[bool, ...], str] = {
    (True, False, False): "l1",
    (False, True, False): "l2",
    (True, True, False): "l1_l2",
    (False, False, True): "weight_decay",
}


@dataclass(frozen=True)
class Penalty:
    """Strengths of the L1 and L2 terms and of the decoupled weight decay (see the module);
    ``Penalty()`` is no regularization."""

    l1: float = 0.0
    l2: float = 0.0
    weight_decay: float = 0.0

    @property
    def kind(self) -> str:
        """``none``, ``l1``, ``l2``, ``l1_l2`` or ``weight_decay`` (the families a study
        samples); any other combination is its strengths' names joined by ``+``."""
        if not self.active:
            return "none"
        present = tuple(bool(v) for v in self.strengths().values())
        return _KINDS.get(present) or "+".join(name for name, v in self.strengths().items() if v)

    @property
    def active(self) -> bool:
        return bool(self.l1 or self.l2 or self.weight_decay)

    @property
    def in_loss(self) -> bool:
        """Whether it adds a term to the loss (L1 or L2; decay acts in the optimizer)."""
        return bool(self.l1 or self.l2)

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Penalty:
        """The penalty of a stored record (a refit's, an outer fold's): its strengths by
        their names, missing ones (records written before a strength existed) zero."""
        return cls(**{name: float(record.get(name) or 0.0) for name in STRENGTHS})

    def strengths(self) -> dict[str, float]:
        """Every strength by its name (:data:`STRENGTHS`), zeros included."""
        return {"l1": self.l1, "l2": self.l2, "weight_decay": self.weight_decay}

    def value(self, kernels: Sequence[np.ndarray]) -> float:
        """The loss term ``l1 * sum|W| + l2 * sum W^2`` over ``kernels``, in float64 (the
        reference); the weight decay adds nothing to it."""
        total = 0.0
        for w in kernels:
            w64 = np.asarray(w, dtype=np.float64)
            total += self.l1 * float(np.abs(w64).sum()) + self.l2 * float(np.square(w64).sum())
        return total

    def lambdas(self, spec: str = ".2e", sep: str = ", ") -> str:
        """The non-zero strengths, e.g. ``l1=3.00e-05, l2=1.20e-03`` or ``weight_decay=0.05``
        (``spec`` formats each value; empty for no penalty). Every text that names a
        configuration is built on it."""
        return sep.join(f"{name}={v:{spec}}" for name, v in self.strengths().items() if v)

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
