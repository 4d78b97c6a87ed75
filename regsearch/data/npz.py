"""A user's ``.npz`` file of ``x_train, y_train`` (and ``x_test, y_test``), never unpickled."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from regsearch.data.dataset import ARRAY_KEYS, Dataset, with_test_set
from regsearch.errors import DataError, param


def load_npz(
    path: Path, name: str | None = None, test_size: float | None = None, seed: int = 0
) -> Dataset:
    """A user's ``.npz`` with ``x_train, y_train`` and, optionally, ``x_test, y_test``; never
    unpickled.

    ``x`` may be uint8 pixels (scaled by 1/255) or any real values (kept as they are), shaped
    ``(N, F)`` (features), ``(N, H, W)`` (grey images, given ``C = 1``) or ``(N, H, W, C)``
    (images, channels last). Labels may be any integers; they become classes
    ``0..n_classes-1`` in sorted order. Without ``x_test, y_test``, a stratified ``test_size``
    of the examples is held out as the test set, drawn with ``seed``.
    """
    if not path.is_file():
        raise DataError(
            f"{path}: no such file. {param('dataset')} takes mnist, digits, or a path to an "
            ".npz or .csv file."
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            found = list(npz.files)
            arrays = {key: npz[key] for key in ARRAY_KEYS if key in found}
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc}).") from exc
    except ValueError as exc:  # object arrays need pickle, which is refused
        raise DataError(
            f"{path}: {exc}. Arrays must be numeric; object arrays are never unpickled."
        ) from exc
    if "x_test" in found or "y_test" in found:
        missing = [key for key in ARRAY_KEYS if key not in found]
    else:
        missing = [key for key in ("x_train", "y_train") if key not in found]
    if missing:
        lower = {key.lower(): key for key in found}
        renames = [f"{lower[key]} -> {key}" for key in missing if key in lower]
        hint = f" Names are case-sensitive: rename {', '.join(renames)}." if renames else ""
        raise DataError(
            f"{path}: missing array(s) {', '.join(missing)}; an .npz dataset needs x_train and "
            f"y_train, and x_test and y_test unless {param('test_size')} holds out its test set "
            f"(found {', '.join(found) or 'none'}).{hint}"
        )
    if "x_test" in arrays and test_size is not None:
        raise DataError(
            f"{path} has its own test set (x_test, y_test), so there is nothing to hold out: "
            f"leave {param('test_size')} out."
        )
    return with_test_set(name or path.stem, arrays, path, test_size, seed, param("test_size"))
