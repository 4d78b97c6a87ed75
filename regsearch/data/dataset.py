"""The :class:`Dataset` every loader returns, and how arrays become one: checked, pixels scaled by
a fixed 1/255, labels made class indices, a test set held out where none is given.

Every loader returns float32 values and class indices; both backends see these identical
arrays. Pixels (uint8) are scaled by a fixed 1/255 when loaded; any other values are kept as
they are in the file, and scaled (or not) per fold by :mod:`regsearch.data.scaling`.

Examples keep their shape: images ``(N, H, W, C)``, channels last (NumPy's and Keras'
convention; a grey ``(N, H, W)`` gains ``C = 1``), tabular features ``(N, F)``. A backend may
reorder them for its framework (PyTorch's ``(N, C, H, W)``); a model that wants a flat row
flattens it itself, as the built-in MLP does.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from regsearch.errors import DataError, param

ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")
"""The arrays of a dataset, as an ``.npz`` file names them."""

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
        return from_uint8_images(name, arrays, source)
    return _validated(name, arrays, source, scale=1.0)


def from_uint8_images(name: str, arrays: dict[str, np.ndarray], source: Path) -> Dataset:
    """uint8 pixel arrays as a dataset, checked, the values scaled by 1/255."""
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
