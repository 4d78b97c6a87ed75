"""The data settings' checks, and the names and folders derived from them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from regsearch.config.choices import (
    BUILTIN_DATASETS,
    DATA_DIR_ENV,
    DATA_FILE_SUFFIXES,
    SCALINGS,
)
from regsearch.errors import ConfigError, DataError, param


def check_data_settings(
    dataset: Any, scale: Any, target: Any, test_data: Any, test_size: Any
) -> None:
    """Refuse a dataset that names neither a built-in set nor an .npz or .csv file, an unknown
    scaling, a CSV file without its label column (or a label column without a CSV file), and a
    test set given twice or held out from data that have their own.

    Raises:
        ConfigError: what must hold, naming the settings.
    """
    dataset = str(dataset)
    suffix = Path(dataset).suffix.lower()
    if dataset not in BUILTIN_DATASETS and suffix not in DATA_FILE_SUFFIXES:
        raise ConfigError(
            f"{param('dataset')} must be 'mnist', 'digits' or a path to an .npz or .csv "
            f"file, got {dataset!r}."
        )
    if scale not in SCALINGS:
        raise ConfigError(f"{param('scale')} must be one of {', '.join(SCALINGS)}, got {scale!r}.")
    csv = suffix == ".csv"
    if csv and not (isinstance(target, str) and target.strip()):
        raise ConfigError(
            f"{param('dataset')} {dataset} is a CSV file: name its label column with "
            f"{param('target')} COLUMN."
        )
    if target is not None and not csv:
        raise ConfigError(
            f"{param('target')} names a CSV file's label column, but {param('dataset')} is "
            f"{dataset}. Leave {param('target')} out."
        )
    if test_data is not None:
        if not csv or Path(test_data).suffix.lower() != ".csv":
            raise ConfigError(
                f"{param('test_data')} must be a .csv file beside a CSV {param('dataset')} "
                f"(an .npz holds its test set as x_test, y_test), got {param('dataset')} "
                f"{dataset} and {param('test_data')} {test_data}."
            )
        if test_size is not None:
            raise ConfigError(
                f"{param('test_data')} is the test set, so there is nothing to hold out: "
                f"leave {param('test_size')} out."
            )
    if test_size is not None:
        size = test_size
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0.0 < size < 1.0:
            raise ConfigError(
                f"{param('test_size')} must be the fraction of the examples held out as the "
                f"test set, between 0 and 1 (exclusive), got {size!r}; e.g. "
                f"{param('test_size')} 0.2."
            )
        if dataset in BUILTIN_DATASETS:
            raise ConfigError(
                f"{param('test_size')} holds out a test set from a file without one, but "
                f"{dataset} comes with its own. Leave {param('test_size')} out."
            )


def describe_splits(folds: int, repeats: int) -> str:
    """``5 folds`` for one k-fold partition, ``3 x 5 folds (15 splits)`` for repeated ones."""
    if repeats == 1:
        return f"{folds} folds"
    return f"{repeats} x {folds} folds ({repeats * folds} splits)"


def default_data_dir() -> Path:
    """``$REGSEARCH_DATA_DIR``, else ``./data``: where MNIST is looked for, and downloaded."""
    return Path(os.environ.get(DATA_DIR_ENV, "data"))


def dataset_label(dataset: str) -> str:
    """``mnist``/``digits`` as they are; an ``.npz`` or ``.csv`` path by its file stem."""
    if dataset in BUILTIN_DATASETS:
        return dataset
    return Path(dataset).stem


def check_data_files(name: str, test_data: Path | None = None) -> None:
    """Refuse a dataset file (and a CSV's ``test_data``) that does not exist, before anything
    announces a study of it; the loaders check the rest when they read.

    Raises:
        DataError: with the loaders' own message.
    """
    if name in BUILTIN_DATASETS:
        return
    for path in (Path(name), None if test_data is None else Path(test_data)):
        if path is not None and not path.is_file():
            raise DataError(
                f"{path}: no such file. {param('dataset')} takes mnist, digits, or a path to an "
                ".npz or .csv file."
                if path == Path(name)
                else f"{param('test_data')} {path}: no such file."
            )
