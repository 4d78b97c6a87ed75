"""``load_dataset``: a study's dataset by name (mnist, digits) or by file (.npz, .csv)."""

from __future__ import annotations

from pathlib import Path

from regsearch.data.csv_file import load_csv
from regsearch.data.dataset import Dataset
from regsearch.data.digits import load_digits
from regsearch.data.mnist import MnistDownloader, load_mnist
from regsearch.data.npz import load_npz
from regsearch.errors import DataError, param


def load_dataset(
    name: str,
    data_dir: Path,
    download: MnistDownloader | None = None,
    create: bool = True,
    *,
    target: str | None = None,
    test_data: Path | None = None,
    test_size: float | None = None,
    seed: int = 0,
) -> Dataset:
    """Load ``mnist``, ``digits``, an ``.npz`` path or a ``.csv`` path.

    Args:
        name: the dataset, as in :class:`regsearch.config.StudyConfig`.
        data_dir: where MNIST's files are (flat, torchvision's ``MNIST/raw``, or Keras'
            ``mnist.npz``).
        download: called when MNIST's files are missing; ``None`` means offline.
        create: whether a download may create ``data_dir``; else a missing folder is an error
            (a mistyped path should not start a download).
        target: a CSV file's label column.
        test_data: a CSV file's test set, in a second CSV file of the same columns.
        test_size: the stratified fraction held out as the test set (with ``seed``) when a
            file has no test set (default :data:`DEFAULT_TEST_SIZE`).

    Raises:
        DataError: a file or folder is missing, truncated or malformed.
    """
    if name == "mnist":
        return load_mnist(data_dir, download, create)
    if name == "digits":
        return load_digits()
    if name.lower().endswith(".csv"):
        if target is None:
            raise DataError(f"{name}: a CSV dataset needs {param('target')} COLUMN, its labels.")
        return load_csv(Path(name), target, test_data, test_size, seed)
    return load_npz(Path(name), test_size=test_size, seed=seed)
