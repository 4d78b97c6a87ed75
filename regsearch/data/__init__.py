"""Datasets: MNIST (IDX files, or a download through the backend's own loader), scikit-learn's
8x8 digits, a user's ``.npz`` or CSV file, or in-memory arrays, each loader a module of its own
beside the :class:`Dataset` they return (:mod:`regsearch.data.dataset`) and the feature scaling
fitted per fold (:mod:`regsearch.data.scaling`)."""

from regsearch.data.csv_file import load_csv
from regsearch.data.dataset import DEFAULT_TEST_SIZE, Dataset, with_test_set
from regsearch.data.digits import load_digits
from regsearch.data.loading import load_dataset
from regsearch.data.mnist import load_mnist, read_idx
from regsearch.data.npz import load_npz
from regsearch.errors import DataError

__all__ = [
    "DEFAULT_TEST_SIZE",
    "DataError",
    "Dataset",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "load_npz",
    "read_idx",
    "with_test_set",
]
