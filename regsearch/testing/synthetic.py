"""Tiny synthetic data for tests: separable blobs, and the same features on raw measurement
scales."""

from __future__ import annotations

import numpy as np

from regsearch.data import Dataset


def synthetic_dataset(
    n_train: int = 240, n_test: int = 60, n_classes: int = 3, seed: int = 0
) -> Dataset:
    """Separable blobs in [0, 1], 8 features: a tiny stand-in for images."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.2, 0.8, size=(n_classes, 8))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(n) % n_classes
        x = np.clip(centers[y] + rng.normal(0, 0.3, size=(n, 8)), 0, 1).astype(np.float32)
        return x, y.astype(np.int64)

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    return Dataset("synthetic", x_train, y_train, x_test, y_test, n_classes=n_classes)


def raw_scales(x: np.ndarray) -> np.ndarray:
    """``x`` with its features on scales from 1e-3 to 1e3 and offsets up to 1e3, as raw
    measurements are: what a scaling must undo."""
    features = x.reshape(len(x), -1).shape[1]
    scales = np.logspace(-3, 3, features).reshape(x.shape[1:])
    offsets = np.linspace(-1e3, 1e3, features).reshape(x.shape[1:])
    return (x * scales + offsets).astype(np.float32)
