"""Feature scaling fitted without leakage: on each fold's training rows only, and on the whole
training set for the refit. The scaling becomes part of the trained model (see the backends),
so a saved model takes raw rows as they are in the data file.

Each value of an example becomes::

    x' = (x - shift) / scale

    standard:  shift = mean of the training rows,  scale = their standard deviation (ddof 0)
    minmax:    shift = min of the training rows,   scale = max - min   (x' in [0, 1] on them)

per feature (per pixel and channel for images), computed by scikit-learn's ``StandardScaler``
and ``MinMaxScaler``. A scale below :data:`SCALE_FLOOR` (a constant feature) becomes 1, as
scikit-learn does for zero, so that Keras' ``Normalization`` layer, which divides by
``max(sqrt(variance), 1e-7)``, gives the same numbers in the saved model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from regsearch.errors import ConfigError

if TYPE_CHECKING:
    from regsearch.data.dataset import Dataset

SCALE_FLOOR = 1e-7
"""Keras' ``epsilon()``, the smallest divisor its ``Normalization`` layer uses."""


@dataclass(frozen=True)
class Scaling:
    """One fitted scaling: ``(x - shift) / scale``, both shaped like one example."""

    method: str
    shift: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, method: str, x: np.ndarray) -> Scaling:
        """Fit ``method`` (``standard`` or ``minmax``) on the rows ``x`` (``(n, ...)``)."""
        from sklearn.preprocessing import MinMaxScaler, StandardScaler

        rows = x.reshape(len(x), -1)
        if method == "standard":
            standard = StandardScaler().fit(rows)
            shift, scale = standard.mean_, standard.scale_
        elif method == "minmax":
            minmax = MinMaxScaler().fit(rows)
            shift, scale = minmax.data_min_, minmax.data_range_
        else:
            raise ConfigError(f"no scaling method {method!r}; expected standard or minmax")
        scale = np.where(scale < SCALE_FLOOR, 1.0, scale)
        shape = x.shape[1:]
        return cls(
            method,
            np.asarray(shift, dtype=np.float32).reshape(shape),
            np.asarray(scale, dtype=np.float32).reshape(shape),
        )

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``(x - shift) / scale`` as float32."""
        return ((x - self.shift) / self.scale).astype(np.float32, copy=False)


def fit_scaling(method: str, x: np.ndarray) -> Scaling | None:
    """:meth:`Scaling.fit`, or ``None`` for ``none``."""
    return None if method == "none" else Scaling.fit(method, x)


def resolve_scaling(requested: str, dataset: Dataset) -> tuple[str, str]:
    """The method ``requested`` stands for on ``dataset``, and why, as a sentence's end.

    ``auto`` is ``standard`` for tabular features; for images it is ``none`` when they are
    pixels (scaled by a fixed 1/255 when loaded) or values already in [0, 1], else ``standard``.
    Only that last case reads the training values (a pass over all of them).
    """
    if requested != "auto":
        return requested, "as asked"
    if dataset.kind == "features":
        return "standard", "the default for tabular features"
    if dataset.pixels:
        return "none", "pixels, scaled by a fixed factor when loaded"
    low, high = dataset.value_range()
    if low >= 0.0 and high <= 1.0:
        return "none", "images with values in [0, 1]"
    return "standard", f"images with values in [{low:g}, {high:g}], outside [0, 1]"


def describe_scaling(method: str, why: str) -> str:
    """The line a run prints about its scaling."""
    if method == "none":
        return f"Scaling: none ({why})."
    formula = "(x - mean) / std" if method == "standard" else "(x - min) / (max - min)"
    return (
        f"Scaling: {method}, {formula} per feature ({why}), fitted on each fold's training rows "
        "only and on the whole training set for the refit; the saved model applies it to raw "
        "rows."
    )
