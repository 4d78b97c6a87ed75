"""MNIST from its original IDX files (gzipped or not, flat or in torchvision's ``MNIST/raw``), or
Keras' ``mnist.npz``, downloading them with the backend's own loader where missing."""

from __future__ import annotations

import gzip
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from regsearch.data.dataset import Dataset, from_uint8_images
from regsearch.data.npz import load_npz
from regsearch.errors import DataError, param

MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


_IDX_MAGIC = {3: 2051, 1: 2049}  # images (n, rows, cols) and labels (n,), unsigned bytes


MnistDownloader = Callable[[Path], str]
"""Downloads MNIST into a folder and returns a sentence saying where the files went."""


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
        return from_uint8_images("mnist", arrays, files["y_train"])
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
