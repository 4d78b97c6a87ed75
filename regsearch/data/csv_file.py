"""Tabular data from CSV files (read with pandas): a header row, one example per line, one label
column (``--target``), every other column a numeric feature.

Labels may be integers or strings; they become classes ``0..K-1`` in sorted order, and the
dataset keeps the labels (``Dataset.classes``) so that the study can store the mapping.
Anything pandas reads as text in a feature column, a missing value, a missing target column or
an empty file is refused, naming the column and the line.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from regsearch.data.dataset import Dataset, with_test_set
from regsearch.errors import DataError, param

_SHOWN = 5  # columns or lines named in a message before "..."


def load_csv(
    path: Path,
    target: str,
    test_data: Path | None = None,
    test_size: float | None = None,
    seed: int = 0,
) -> Dataset:
    """The dataset of ``path``, with the test set of ``test_data`` (a CSV file of the same
    columns) or, without it, a stratified ``test_size`` held out with ``seed``.

    Raises:
        DataError: what is wrong with which file, column or line, and how to fix it.
    """
    train = _read(path, target)
    features = [c for c in train.columns if c != target]
    if not features:
        raise DataError(
            f"{path}: the only column is the target {target!r}; a dataset needs at least one "
            "feature column besides it."
        )
    x_train = _features(train, features, path)
    labels_train = _labels(train[target], path, target)
    arrays: dict[str, np.ndarray] = {"x_train": x_train}
    labels = sorted(set(labels_train.tolist()), key=_label_order)
    if test_data is not None:
        if test_size is not None:
            raise DataError(
                f"{param('test_data')} {test_data} is the test set, so there is nothing to hold "
                f"out: leave {param('test_size')} out."
            )
        test = _read(Path(test_data), target)
        _same_columns(path, train, Path(test_data), test)
        arrays["x_test"] = _features(test, features, Path(test_data))
        labels_test = _labels(test[target], Path(test_data), target)
        unseen = sorted(set(labels_test.tolist()) - set(labels), key=_label_order)
        if unseen:
            shown = ", ".join(map(repr, labels[:12])) + (", ..." if len(labels) > 12 else "")
            raise DataError(
                f"{test_data}: label {unseen[0]!r} in column {target!r} never occurs in {path} "
                f"(labels {shown}); the model could not learn it."
            )
    code = {label: i for i, label in enumerate(labels)}
    arrays["y_train"] = np.array([code[v] for v in labels_train.tolist()], dtype=np.int64)
    if test_data is not None:
        arrays["y_test"] = np.array([code[v] for v in labels_test.tolist()], dtype=np.int64)
    data = with_test_set(path.stem, arrays, path, test_size, seed, param("test_size"))
    identity = labels == list(range(len(labels)))
    return dataclasses.replace(data, classes=None if identity else tuple(labels))


def _label_order(label: int | str) -> tuple[int, Any]:
    return (0, label) if isinstance(label, int) else (1, str(label))


def _read(path: Path, target: str) -> Any:
    """The file as a pandas DataFrame, with its header checked."""
    import pandas as pd

    if not path.is_file():
        raise DataError(f"{path}: no such file.")
    header = _header(path)
    if not header:
        raise DataError(
            f"{path} is empty; a CSV dataset needs a header row naming the columns, then one "
            "example per line."
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(
            f"{path}: column name(s) {', '.join(map(repr, repeated))} appear more than once in "
            "the header; each column needs its own name."
        )
    if target not in header:
        close = [name for name in header if name.strip().lower() == target.strip().lower()]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        separator = next(
            (sep for sep in (";", "\t", "|") if len(header) == 1 and sep in header[0]), None
        )
        if separator is not None:
            hint += (
                f" The header is one column holding {separator!r}: the file must be "
                "comma-separated."
            )
        raise DataError(
            f"{path}: no column {target!r} for {param('target')}; the header has "
            f"{_listed(header, 20)}.{hint}"
        )
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc}).") from exc
    if frame.empty:
        raise DataError(f"{path} has a header but no rows; it needs one example per line.")
    missing = frame.isna()
    if missing.to_numpy().any():
        columns = [c for c in frame.columns if missing[c].any()]
        lines = [int(i) + 2 for i in np.flatnonzero(missing.to_numpy().any(axis=1))]
        raise DataError(
            f"{path}: missing values in column(s) {_listed(columns)} on line(s) "
            f"{_listed(lines)} ({int(missing.to_numpy().sum())} in all). regsearch does not "
            "guess values: fill them (for example with the training rows' median) or drop the "
            "rows or columns first."
        )
    return frame


def _header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            row = next(csv.reader(file), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc}).") from exc
    return [name.strip() for name in row] if any(name.strip() for name in row) else []


def _features(frame: Any, columns: list[str], path: Path) -> np.ndarray:
    """The feature columns as float32 ``(n, F)``; text columns refused by name."""
    import pandas as pd

    text = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        examples = ", ".join(f"{c!r} (e.g. {frame[c].iloc[0]!r})" for c in text[:_SHOWN])
        raise DataError(
            f"{path}: feature column(s) {examples}{', ...' if len(text) > _SHOWN else ''} are "
            "not numeric. Every column but the target must hold numbers: encode categories as "
            "numbers (one column per category, 0 or 1) or drop those columns first."
        )
    values = frame[columns].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        row, col = np.argwhere(~np.isfinite(values))[0]
        raise DataError(
            f"{path}: column {columns[col]!r} holds {values[row, col]} on line {row + 2}; "
            "features must be finite numbers."
        )
    with np.errstate(over="ignore"):
        single = values.astype(np.float32)
    if not np.isfinite(single).all():
        row, col = np.argwhere(~np.isfinite(single))[0]
        raise DataError(
            f"{path}: column {columns[col]!r} holds {values[row, col]:g} on line {row + 2}, "
            "beyond float32's range (3.4e38); rescale that column first."
        )
    return single


def _labels(column: Any, path: Path, target: str) -> np.ndarray:
    """The target column as integer labels, or as strings for anything else."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(column):
        return column.astype(str).to_numpy(dtype=object)
    if pd.api.types.is_integer_dtype(column):
        return column.to_numpy(dtype=np.int64).astype(object)
    if pd.api.types.is_float_dtype(column):
        values = column.to_numpy(dtype=np.float64)
        fractional = values != np.round(values)
        if fractional.any():
            line = int(np.flatnonzero(fractional)[0]) + 2
            raise DataError(
                f"{path}: the target column {target!r} holds {values[line - 2]:g} on line "
                f"{line}; regsearch classifies, so labels must be integers or names of classes."
            )
        return values.astype(np.int64).astype(object)
    return column.astype(str).str.strip().to_numpy(dtype=object)


def _same_columns(train_path: Path, train: Any, test_path: Path, test: Any) -> None:
    missing = [c for c in train.columns if c not in test.columns]
    extra = [c for c in test.columns if c not in train.columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks {_listed(missing)}")
        if extra:
            parts.append(f"has {_listed(extra)}, which {train_path} has not")
        raise DataError(
            f"{param('test_data')} {test_path} {' and '.join(parts)}; the test file needs the "
            f"same columns as {train_path} (in any order)."
        )


def _listed(items: list[Any], limit: int = _SHOWN) -> str:
    shown = ", ".join(repr(i) if isinstance(i, str) else str(i) for i in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")
