"""scikit-learn's 8x8 digits: a small image set that needs no download."""

from __future__ import annotations

import numpy as np

from regsearch.data.dataset import Dataset


def load_digits() -> Dataset:
    """scikit-learn's 8x8 digits (offline) as ``(8, 8, 1)`` images, pixels 0..16 scaled by 1/16.

    The data set has no official test split, so a fixed stratified 25% (``random_state=0``) is
    held out as the test set.
    """
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    x = (bunch.images[..., None] / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, stratify=y, random_state=0
    )
    return Dataset("digits", x_train, y_train, x_test, y_test, n_classes=10, pixels=True)
