"""Datasets: MNIST (IDX files, or a download through the backend's own loader), scikit-learn's
8x8 digits, a user's ``.npz`` or CSV file, or in-memory arrays. Every loader returns float32
values and class indices; both backends see these identical arrays. Pixels (uint8) are scaled
by a fixed 1/255 when loaded; any other values are kept as they are in the file, and scaled (or
not) per fold by :mod:`regsearch.scaling`.

Examples keep their shape: images ``(N, H, W, C)``, channels last (NumPy's and Keras'
convention; a grey ``(N, H, W)`` gains ``C = 1``), tabular features ``(N, F)``. A backend may
reorder them for its framework (PyTorch's ``(N, C, H, W)``); a model that wants a flat row
flattens it itself, as the built-in MLP does.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from regsearch.errors import DataError, param

__all__ = ["DEFAULT_TEST_SIZE", "DataError", "Dataset", "load_dataset"]

DEFAULT_TEST_SIZE = 0.2
"""The fraction held out as the test set when the data come without one."""


@dataclass(frozen=True)
class Dataset:
    """A train/test split. ``x_*`` is float32, shape ``(n, H, W, C)`` for images (channels
    last) or ``(n, F)`` for tabular features; ``y_*`` are class indices ``0..n_classes-1``.

    ``classes`` are the labels as the data file has them (integers or strings), ``classes[i]``
    for class ``i`` (``None``: the file's labels are the indices themselves). ``pixels``: the
    values are pixels scaled by a fixed factor when loaded (1/255), so in [0, 1].
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    classes: tuple[int | str, ...] | None = None
    pixels: bool = False
    held_out: str | None = None
    """How the test set was drawn from the given examples, when it was (said in
    :meth:`describe`); ``None``: it was given."""
    sampled: str | None = None
    """How the training set was sampled from a larger one, when it was (see
    :meth:`training_sample`)."""

    @classmethod
    def from_arrays(
        cls,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
        *,
        test_size: float | None = None,
        seed: int = 0,
        name: str = "arrays",
    ) -> Dataset:
        """In-memory arrays as a dataset, checked and scaled as an ``.npz``'s are (see
        :func:`load_npz`), so that a notebook user never writes a file.

        Without ``x_test``/``y_test``, a stratified ``test_size`` fraction of the examples
        (default :data:`DEFAULT_TEST_SIZE`) is held out as the test set (scikit-learn's
        ``train_test_split`` with ``random_state=seed``).

        Raises:
            DataError: a missing part, a bad ``test_size``, or arrays an ``.npz`` could not hold.
        """
        if (x_test is None) != (y_test is None):
            raise DataError("arrays: give both x_test and y_test, or neither (with test_size).")
        if x_test is not None and test_size is not None:
            raise DataError("arrays: test_size is for arrays without x_test; leave it out.")
        arrays = {"x_train": np.asarray(x_train), "y_train": np.asarray(y_train)}
        if x_test is not None and y_test is not None:
            arrays |= {"x_test": np.asarray(x_test), "y_test": np.asarray(y_test)}
        return with_test_set(name, arrays, Path(name), test_size, seed, "test_size")

    @property
    def has_test_set(self) -> bool:
        """Whether there is a test set to score the refit on (an estimator's ``fit(X, y)``
        searches and refits on all its rows, and leaves the testing to its caller)."""
        return len(self.y_test) > 0

    @property
    def example_shape(self) -> tuple[int, ...]:
        """One example's shape: ``(H, W, C)`` for images, ``(F,)`` for features."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def kind(self) -> str:
        """``images`` (``(H, W, C)`` examples) or ``features`` (``(F,)``)."""
        return "images" if len(self.example_shape) == 3 else "features"

    @property
    def n_features(self) -> int:
        """Values per example, ``H * W * C`` or ``F``: the width of a flattened row."""
        return int(np.prod(self.example_shape))

    def value_range(self) -> tuple[float, float]:
        """The smallest and largest training value."""
        return float(self.x_train.min()), float(self.x_train.max())

    def training_sample(self, size: int, seed: int) -> Dataset:
        """A stratified sample of ``size`` of the training examples (scikit-learn's
        ``train_test_split(train_size=size, stratify=y_train, random_state=seed)``, kept in
        their original order); the test set stays whole.

        Raises:
            DataError: ``size`` is not below the number of training examples, or too small to
                hold every class.
        """
        from sklearn.model_selection import train_test_split

        n = len(self.y_train)
        if not size < n:
            raise DataError(
                f"{param('train_size')} must be below the number of training examples of "
                f"{self.name} ({n}), got {size}. Use a smaller {param('train_size')}, or leave "
                "it out to train on all of them."
            )
        try:
            rows, _ = train_test_split(
                np.arange(n), train_size=size, stratify=self.y_train, random_state=seed
            )
        except ValueError as exc:
            raise DataError(
                f"{param('train_size')} {size} cannot hold every one of the {self.n_classes} "
                f"classes in proportion ({exc}). Use a larger {param('train_size')}."
            ) from exc
        rows = np.sort(rows)
        return dataclasses.replace(
            self,
            x_train=self.x_train[rows],
            y_train=self.y_train[rows],
            sampled=f"a stratified sample of its {n}, drawn with seed {seed}",
        )

    def fingerprint(self) -> str:
        """A SHA-256 over the four arrays (dtype, shape and bytes)."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def describe(self) -> str:
        mapped = ""
        if self.classes is not None:
            shown = ", ".join(map(str, self.classes[:12])) + (
                ", ..." if self.n_classes > 12 else ""
            )
            mapped = f" (labels {shown} as classes 0..{self.n_classes - 1})"
        if self.kind == "images":
            height, width, channels = self.example_shape
            shape = f"{height}x{width} images with {channels} channel{'s' * (channels > 1)}"
        else:
            shape = f"{self.n_features} features"
        test = f" (test set: {self.held_out})" if self.held_out else ""
        sampled = f" ({self.sampled})" if self.sampled else ""
        tested = f"and {len(self.y_test)} test " if self.has_test_set else ""
        untested = "" if self.has_test_set else " (no test set)"
        return (
            f"{self.name}: {len(self.y_train)} training{sampled} {tested}examples{test}"
            f"{untested}, {shape}, {self.n_classes} classes{mapped}"
        )


MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_MAGIC = {3: 2051, 1: 2049}  # images (n, rows, cols) and labels (n,), unsigned bytes

MnistDownloader = Callable[[Path], str]
"""Downloads MNIST into a folder and returns a sentence saying where the files went."""


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
        from regsearch.csv_data import load_csv

        if target is None:
            raise DataError(f"{name}: a CSV dataset needs {param('target')} COLUMN, its labels.")
        return load_csv(Path(name), target, test_data, test_size, seed)
    return load_npz(Path(name), test_size=test_size, seed=seed)


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


def find_mnist_files(data_dir: Path) -> dict[str, Path] | None:
    """The four IDX files in ``data_dir`` or ``data_dir/MNIST/raw``, gzipped or not."""
    for folder in (data_dir, data_dir / "MNIST" / "raw"):
        found: dict[str, Path] = {}
        for key, stem in MNIST_FILES.items():
            for candidate in (folder / f"{stem}.gz", folder / stem):
                if candidate.is_file():
                    found[key] = candidate
                    break
        if len(found) == len(MNIST_FILES):
            return found
    return None


def load_mnist(
    data_dir: Path, download: MnistDownloader | None = None, create: bool = True
) -> Dataset:
    """MNIST from its IDX files (or Keras' ``mnist.npz``), downloading them if missing (into
    an existing ``data_dir``, or a new one with ``create``)."""
    data_dir = Path(data_dir)
    files = find_mnist_files(data_dir)
    keras_npz = data_dir / "mnist.npz"
    if files is None and not keras_npz.is_file() and not data_dir.is_dir() and not create:
        raise DataError(
            f"{param('data_dir')} {data_dir} does not exist (nothing was downloaded). Point it "
            "at the folder that holds MNIST's IDX files, leave it out to download MNIST into "
            f"./data, or use {param('dataset')} digits, which needs no download."
        )
    if files is None and not keras_npz.is_file() and download is not None:
        _download(data_dir, download)
        files = find_mnist_files(data_dir)
    if files is not None:
        arrays = {key: read_idx(path) for key, path in files.items()}
        for split in ("train", "test"):
            n_x, n_y = len(arrays[f"x_{split}"]), len(arrays[f"y_{split}"])
            if n_x != n_y:
                raise DataError(
                    f"{files[f'x_{split}'].name} holds {n_x} images but "
                    f"{files[f'y_{split}'].name} holds {n_y} labels; they must match. "
                    "Replace the files with the original MNIST files."
                )
            labels = arrays[f"y_{split}"]
            if labels.size and labels.max() > 9:
                raise DataError(
                    f"{files[f'y_{split}']}: MNIST labels must be digits 0-9, found label "
                    f"{labels.max()}; the file is corrupt or not MNIST. Download it again."
                )
        return _from_uint8_images("mnist", arrays, files["y_train"])
    if keras_npz.is_file():
        return load_npz(keras_npz, name="mnist")
    raise DataError(_missing_mnist_message(data_dir, "No download was attempted."))


def _download(data_dir: Path, download: MnistDownloader) -> str:
    """Run ``download`` into a staging folder and move its files into ``data_dir`` only once
    it succeeded, so that a failed download leaves no folder behind."""
    staging = Path(tempfile.mkdtemp(prefix="regsearch-mnist-"))
    try:
        try:
            where = download(staging)
        except Exception as exc:  # any transport error means "offline" to the user
            raise DataError(
                _missing_mnist_message(data_dir, f"The download failed: {exc}")
            ) from exc
        data_dir.mkdir(parents=True, exist_ok=True)
        for item in staging.iterdir():
            target = data_dir / item.name
            if target.is_dir():
                shutil.copytree(item, target, dirs_exist_ok=True)
            else:
                shutil.move(str(item), str(target))
        return where.replace(str(staging), str(data_dir))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _missing_mnist_message(data_dir: Path, why: str) -> str:
    names = ", ".join(f"{stem}.gz" for stem in MNIST_FILES.values())
    return (
        f"MNIST was not found in {data_dir} (nor in {data_dir / 'MNIST' / 'raw'}). "
        f"Expected the files {names}. {why} Put the files there, point {param('data_dir')} "
        f"(or REGSEARCH_DATA_DIR) at the folder that has them, or use {param('dataset')} "
        "digits, which needs no download."
    )


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file of unsigned bytes (``.gz`` or raw), checking its header and length.

    Raises:
        DataError: the header's magic number or dimensions disagree with the data.
    """
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot be read as an IDX file ({exc}).") from exc
    if len(raw) < 8:
        raise DataError(f"{path}: {len(raw)} bytes is too short for an IDX header.")
    magic = int.from_bytes(raw[0:4], "big")
    ndim = raw[3]
    if magic not in _IDX_MAGIC.values() or _IDX_MAGIC.get(ndim) != magic:
        raise DataError(
            f"{path}: magic number {magic} is not an MNIST IDX file of unsigned bytes "
            "(2051 for images, 2049 for labels)."
        )
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(f"{path}: header is truncated.")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims))
    body = len(raw) - header_len
    if body != expected:
        raise DataError(
            f"{path}: the header announces {'x'.join(map(str, dims))} = {expected} bytes of data "
            f"but the file holds {body}; it is truncated or corrupt. Download it again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims)


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
            arrays = {key: npz[key] for key in MNIST_FILES if key in found}
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc}).") from exc
    except ValueError as exc:  # object arrays need pickle, which is refused
        raise DataError(
            f"{path}: {exc}. Arrays must be numeric; object arrays are never unpickled."
        ) from exc
    if "x_test" in found or "y_test" in found:
        missing = [key for key in MNIST_FILES if key not in found]
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


def with_test_set(
    name: str,
    arrays: dict[str, np.ndarray],
    source: Path,
    test_size: float | None,
    seed: int,
    size_name: str,
) -> Dataset:
    """The dataset of ``arrays``; without ``x_test``/``y_test``, a stratified ``test_size``
    (default :data:`DEFAULT_TEST_SIZE`) of the examples held out with ``seed``, said in the
    dataset's summary."""
    if "x_test" in arrays:
        return _pixels_or_values(name, arrays, source)
    size = DEFAULT_TEST_SIZE if test_size is None else test_size
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0.0 < size < 1.0:
        raise DataError(
            f"{source}: {size_name} must be the fraction of the examples held out as the test "
            f"set, between 0 and 1 (got {size!r}); e.g. {size_name} 0.2."
        )
    x, y = arrays["x_train"], arrays["y_train"]
    if len(x) != len(y) or y.ndim != 1:
        raise DataError(
            f"{source}: y_train must be one label per example, shape ({len(x)},), got shape "
            f"{y.shape}."
        )
    from sklearn.model_selection import train_test_split

    try:
        parts = train_test_split(x, y, test_size=size, stratify=y, random_state=seed)
    except ValueError as exc:
        raise DataError(
            f"{source}: cannot hold out a stratified {size_name} {size:g} as the test set: "
            f"{exc}. Give a test set, or change {size_name}."
        ) from exc
    held = dict(zip(("x_train", "x_test", "y_train", "y_test"), parts, strict=True))
    data = _pixels_or_values(name, held, source)
    return dataclasses.replace(
        data,
        held_out=f"a stratified {size:g} of the {len(y)} examples, held out with seed {seed}",
    )


def _pixels_or_values(name: str, arrays: dict[str, np.ndarray], source: Path) -> Dataset:
    """uint8 ``x`` arrays as pixels (scaled by 1/255), any others as the values they are."""
    if all(arrays[key].dtype == np.uint8 for key in ("x_train", "x_test")):
        return _from_uint8_images(name, arrays, source)
    return _validated(name, arrays, source, scale=1.0)


def _from_uint8_images(name: str, arrays: dict[str, np.ndarray], source: Path) -> Dataset:
    data = _validated(name, arrays, source, scale=1.0 / 255.0)
    return dataclasses.replace(data, pixels=True)


def _validated(name: str, arrays: dict[str, np.ndarray], source: Path, scale: float) -> Dataset:
    xs = {}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if not 2 <= x.ndim <= 4 or len(x) == 0:
            raise DataError(
                f"{source}: x_{split} must be shaped (N, F) for features, (N, H, W) or "
                f"(N, H, W, C) for images (channels last), with at least one example; got "
                f"shape {x.shape}." + (" Reshape it to one of those first." if x.ndim > 4 else "")
            )
        if y.ndim != 1 or len(y) != len(x):
            raise DataError(
                f"{source}: y_{split} must be one label per example, shape ({len(x)},), "
                f"got shape {y.shape}."
            )
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise DataError(f"{source}: x_{split} must be real numbers, got dtype {x.dtype}.")
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(
                f"{source}: y_{split} must be integer class labels, got dtype {y.dtype}."
            )
        values = (x[..., None] if x.ndim == 3 else x).astype(np.float32) * np.float32(scale)
        if not np.isfinite(values).all():
            bad = np.argwhere(~np.isfinite(values.reshape(len(values), -1)))[0]
            raise DataError(
                f"{source}: x_{split} holds NaN or infinite values (the first in example "
                f"{bad[0]}, value {bad[1]}, after float32 conversion); fill or drop them first."
            )
        if y.min() < 0:
            raise DataError(f"{source}: y_{split} must be labels >= 0, got {y.min()}.")
        xs[split] = values
    if xs["train"].shape[1:] != xs["test"].shape[1:]:
        raise DataError(
            f"{source}: x_train's examples are shaped {xs['train'].shape[1:]} but x_test's "
            f"{xs['test'].shape[1:]}; they must match."
        )
    labels = np.unique(arrays["y_train"])
    if len(labels) < 2:
        raise DataError(f"{source}: y_train must hold at least two classes.")
    unseen = np.setdiff1d(np.unique(arrays["y_test"]), labels)
    if len(unseen):
        raise DataError(
            f"{source}: y_test has label {unseen[0]}, which never occurs in y_train "
            f"(labels {', '.join(map(str, labels[:12]))}); the model could not learn it."
        )
    # Labels 1..K (or any other set) become classes 0..K-1: a label that never occurs
    # would otherwise be a class of its own, which no example teaches.
    identity = bool(np.array_equal(labels, np.arange(len(labels))))
    y_train = np.searchsorted(labels, arrays["y_train"]).astype(np.int64)
    y_test = np.searchsorted(labels, arrays["y_test"]).astype(np.int64)
    classes = None if identity else tuple(int(v) for v in labels)
    return Dataset(name, xs["train"], y_train, xs["test"], y_test, len(labels), classes)
