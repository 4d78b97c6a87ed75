from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from regsearch.data import (
    DataError,
    Dataset,
    load_dataset,
    load_digits,
    load_mnist,
    load_npz,
    read_idx,
)
from regsearch.options import flag
from tests.conftest import write_idx, write_tiny_mnist


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("layout", ["flat", "MNIST/raw"])
def test_mnist_idx_layouts(tmp_path, compress, layout):
    folder = tmp_path if layout == "flat" else tmp_path / "MNIST" / "raw"
    write_tiny_mnist(folder, compress=compress)
    ds = load_mnist(tmp_path)
    assert ds.x_train.shape == (20, 28, 28, 1) and ds.x_test.shape == (10, 28, 28, 1)
    assert ds.x_train.dtype == np.float32 and 0.0 <= ds.x_train.min() <= ds.x_train.max() <= 1.0
    assert ds.y_train.tolist() == [i % 10 for i in range(20)]
    assert ds.n_classes == 10


def test_real_mnist_matches_its_documented_shape(mnist_dir):
    ds = load_mnist(mnist_dir)
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(ds.y_test).tolist()[:3] == [980, 1135, 1032]
    assert ds.x_train.max() == 1.0


def test_truncated_idx_names_the_file(tmp_path):
    files = write_tiny_mnist(tmp_path)
    path = files["train-images-idx3-ubyte"]
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-100]))
    with pytest.raises(
        DataError,
        match=r"train-images-idx3-ubyte.gz: the header announces "
        r"20x28x28 = 15680 bytes of data but the file holds 15580",
    ):
        load_mnist(tmp_path)


def test_wrong_magic_and_bad_gzip(tmp_path):
    bad = tmp_path / "x"
    bad.write_bytes((1234).to_bytes(4, "big") + b"\0" * 8)
    with pytest.raises(DataError, match="magic number 1234"):
        read_idx(bad)
    notgz = tmp_path / "y.gz"
    notgz.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot be read as an IDX file"):
        read_idx(notgz)


def test_mislabelled_and_mismatched_mnist(tmp_path):
    write_tiny_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(10, 42, dtype=np.uint8))
    with pytest.raises(DataError, match="labels must be digits 0-9, found label 42"):
        load_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(9, dtype=np.uint8))
    with pytest.raises(DataError, match="holds 10 images but t10k-labels-idx1-ubyte.gz holds 9"):
        load_mnist(tmp_path)


def test_missing_mnist_offline_message(tmp_path):
    def offline(folder: Path) -> str:
        raise OSError("Name or service not known")

    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / "nowhere", download=offline)
    message = str(info.value)
    for part in (
        "train-images-idx3-ubyte.gz",
        str(tmp_path / "nowhere"),
        "dataset digits",
        "The download failed: Name or service not known",
        "data_dir",
    ):
        assert part in message
    # The command line names its flags instead.
    flagged = info.value.render(flag)
    assert "--dataset digits" in flagged and "--data-dir" in flagged


def test_download_fills_the_data_dir(tmp_path):
    calls = []

    def fake_download(folder: Path) -> str:  # stands in for torchvision's loader
        calls.append(folder)
        write_tiny_mnist(folder / "MNIST" / "raw")
        return "downloaded"

    ds = load_mnist(tmp_path, download=fake_download)
    assert len(calls) == 1 and len(ds.y_train) == 20
    assert (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file()
    assert not calls[0].exists()  # the staging folder is gone
    load_mnist(tmp_path, download=fake_download)  # second run: found, no download
    assert len(calls) == 1


def test_a_failed_download_leaves_no_folder_behind(tmp_path):
    def half_download(folder: Path) -> str:
        (folder / "MNIST" / "raw").mkdir(parents=True)
        raise OSError("Name or service not known")

    target = tmp_path / "data"
    with pytest.raises(DataError, match="The download failed"):
        load_mnist(target, download=half_download)
    assert not target.exists()


def test_a_missing_data_dir_is_refused_without_a_download(tmp_path):
    calls = []
    with pytest.raises(DataError, match="does not exist \\(nothing was downloaded\\)") as info:
        load_mnist(tmp_path / "mnsit", download=calls.append, create=False)
    assert calls == [] and not (tmp_path / "mnsit").exists()
    assert "--data-dir" in info.value.render(flag)


def test_labels_other_than_0_to_k_minus_1_become_classes(tmp_path):
    ds = load_npz(
        _save(tmp_path / "a.npz", y_train=np.array([1, 2, 1, 3]), y_test=np.array([3, 1]))
    )
    assert ds.n_classes == 3 and ds.classes == (1, 2, 3)
    assert ds.y_train.tolist() == [0, 1, 0, 2] and ds.y_test.tolist() == [2, 0]
    assert "labels 1, 2, 3 as classes 0..2" in ds.describe()
    plain = load_npz(_save(tmp_path / "b.npz"))
    assert plain.classes is None and plain.n_classes == 2


def test_npz_names_are_case_sensitive_and_the_message_says_so(tmp_path):
    path = tmp_path / "upper.npz"
    np.savez(path, X_train=np.zeros((4, 2)), y_train=np.array([0, 1, 0, 1]))
    with pytest.raises(DataError) as info:
        load_npz(path)
    message = str(info.value)
    assert message.count(str(path)) == 1 and "object arrays" not in message
    assert "missing array(s) x_train;" in message
    assert "rename X_train -> x_train" in message


def test_keras_mnist_npz_layout(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "mnist.npz",
        x_train=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        y_train=np.arange(20) % 10,
        x_test=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        y_test=np.arange(5),
    )
    ds = load_mnist(tmp_path)
    assert ds.name == "mnist" and ds.x_train.shape == (20, 28, 28, 1)


def _save(path: Path, **arrays) -> Path:
    base = {
        "x_train": np.zeros((4, 2, 2), np.uint8),
        "y_train": np.array([0, 1, 0, 1]),
        "x_test": np.zeros((2, 2, 2), np.uint8),
        "y_test": np.array([0, 1]),
    }
    base.update(arrays)
    np.savez(path, **{k: v for k, v in base.items() if v is not None})
    return path


def test_npz_good_uint8_and_float(tmp_path):
    ds = load_npz(_save(tmp_path / "a.npz", x_train=np.full((4, 2, 2), 255, np.uint8)))
    assert ds.x_train.shape == (4, 2, 2, 1) and ds.x_train.max() == 1.0 and ds.name == "a"
    assert ds.kind == "images" and ds.example_shape == (2, 2, 1) and ds.n_features == 4
    ds = load_dataset(
        str(_save(tmp_path / "b.npz", x_train=np.full((4, 3), 0.5), x_test=np.zeros((2, 3)))),
        tmp_path,
    )
    assert ds.x_train.dtype == np.float32 and ds.n_features == 3 and ds.kind == "features"
    assert "3 features" in ds.describe()


@pytest.mark.parametrize(
    ("shape", "example", "described"),
    [
        ((4, 5), (5,), "5 features"),
        ((4, 6, 5), (6, 5, 1), "6x5 images with 1 channel"),
        ((4, 6, 5, 3), (6, 5, 3), "6x5 images with 3 channels"),
    ],
)
def test_npz_examples_keep_their_shape_channels_last(tmp_path, shape, example, described):
    x = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    ds = load_npz(_save(tmp_path / "s.npz", x_train=x, x_test=x[:2]))
    assert ds.x_train.shape == (4, *example) and ds.example_shape == example
    np.testing.assert_allclose(ds.x_train.reshape(x.shape), x / 255.0, rtol=1e-6)
    assert described in ds.describe()


def test_npz_refuses_five_dimensional_examples(tmp_path):
    x = np.zeros((4, 2, 2, 2, 2), np.uint8)
    with pytest.raises(DataError, match=r"\(N, F\) for features, \(N, H, W\) or \(N, H, W, C\)"):
        load_npz(_save(tmp_path / "five.npz", x_train=x, x_test=x[:2]))


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"y_test": None}, "missing array\\(s\\) y_test"),
        ({"x_train": np.full((4, 2), np.nan)}, "x_train holds NaN or infinite values"),
        ({"y_train": np.array([0.0, 1.0, 0.0, 1.0])}, "integer class labels, got dtype float64"),
        ({"y_train": np.array([0, 1, 0])}, "y_train must be one label per example"),
        ({"y_test": np.array([0, 5])}, "label 5, which never occurs in y_train"),
        (
            {"x_test": np.zeros((2, 3), np.uint8)},
            "x_train's examples are shaped \\(2, 2, 1\\) but x_test's \\(3,\\)",
        ),
        ({"y_train": np.array([0, -1, 0, 1])}, "labels >= 0"),
    ],
)
def test_npz_rejects(tmp_path, arrays, message):
    with pytest.raises(DataError, match=message):
        load_npz(_save(tmp_path / "bad.npz", **arrays))


def test_npz_never_unpickles_and_reports_broken_files(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(
        path,
        x_train=np.array([object()], dtype=object),
        y_train=np.array([0]),
        x_test=np.array([0]),
        y_test=np.array([0]),
    )
    with pytest.raises(DataError, match="never unpickled"):
        load_npz(path)
    good = _save(tmp_path / "t.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:50])
    with pytest.raises(DataError, match="not a readable .npz file"):
        load_npz(truncated)
    with pytest.raises(DataError, match="no such file"):
        load_npz(tmp_path / "absent.npz")


def test_digits_split_is_fixed():
    a, b = load_digits(), load_digits()
    assert a.x_train.shape == (1347, 8, 8, 1) and a.x_test.shape == (450, 8, 8, 1)
    assert (a.y_test == b.y_test).all() and a.fingerprint() == b.fingerprint()
    assert a.x_train.max() == 1.0


def test_arrays_are_checked_and_scaled_like_an_npz():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 4, 4)).astype(np.uint8)
    labels = np.arange(30) % 3 + 1  # labels 1..3
    ds = Dataset.from_arrays(images[:20], labels[:20], images[20:], labels[20:], name="mine")
    assert ds.x_train.shape == (20, 4, 4, 1) and ds.x_train.max() <= 1.0 and ds.name == "mine"
    assert ds.classes == (1, 2, 3) and ds.held_out is None and ds.pixels
    raw = Dataset.from_arrays(images[:20] * 3.0, labels[:20], images[20:], labels[20:])
    assert raw.x_train.max() > 255 and not raw.pixels  # any real values, kept as they are


def test_arrays_without_a_test_set_hold_out_a_stratified_seeded_fraction():
    x = np.random.default_rng(0).uniform(0, 1, (100, 5)).astype(np.float32)
    y = np.repeat([0, 1], [80, 20])
    ds = Dataset.from_arrays(x, y, test_size=0.2, seed=3)
    assert len(ds.y_train) == 80 and len(ds.y_test) == 20
    assert np.bincount(ds.y_test).tolist() == [16, 4]  # stratified: the classes' shares kept
    assert "test set: a stratified 0.2 of the 100 examples, held out with seed 3" in ds.describe()
    default = Dataset.from_arrays(x, y, seed=3)
    assert default.fingerprint() == ds.fingerprint()  # test_size defaults to 0.2
    again, other = (
        Dataset.from_arrays(x, y, test_size=0.2, seed=3),
        Dataset.from_arrays(x, y, test_size=0.2, seed=4),
    )
    assert again.fingerprint() == ds.fingerprint() != other.fingerprint()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x_test": np.zeros((2, 5))}, "give both x_test and y_test, or neither"),
        ({"test_size": 1.5}, "between 0 and 1 \\(got 1.5\\)"),
        (
            {"x_test": np.zeros((2, 5)), "y_test": np.array([0, 1]), "test_size": 0.2},
            "test_size is for arrays without x_test",
        ),
    ],
)
def test_arrays_refuse_an_unclear_test_set(kwargs, message):
    x, y = np.zeros((10, 5)), np.arange(10) % 2
    with pytest.raises(DataError, match=message):
        Dataset.from_arrays(x, y, **kwargs)


def test_a_held_out_fraction_needs_two_examples_of_each_class():
    x, y = np.zeros((10, 5)), np.array([0] * 9 + [1])
    with pytest.raises(DataError, match="cannot hold out a stratified test_size 0.2"):
        Dataset.from_arrays(x, y, test_size=0.2)


def test_a_training_sample_is_stratified_seeded_ordered_and_keeps_the_test_set():
    from regsearch.errors import DataError
    from regsearch.testing import synthetic_dataset

    data = synthetic_dataset(n_train=300)
    sample = data.training_sample(60, seed=1)
    assert len(sample.y_train) == 60 and (sample.x_test == data.x_test).all()
    full_counts = np.bincount(data.y_train) / len(data.y_train)
    assert np.abs(np.bincount(sample.y_train) / 60 - full_counts).max() <= 1 / 60 + 1e-9
    # Rows are original rows, in their original order.
    rows = [int(np.flatnonzero((data.x_train == x).all(axis=1))[0]) for x in sample.x_train]
    assert rows == sorted(rows) and (data.y_train[rows] == sample.y_train).all()
    assert (data.training_sample(60, seed=1).x_train == sample.x_train).all()
    assert not (data.training_sample(60, seed=2).x_train == sample.x_train).all()
    assert "60 training (a stratified sample of its 300, drawn with seed 1) and" in (
        sample.describe()
    )
    with pytest.raises(DataError, match="must be below the number of training examples"):
        data.training_sample(300, seed=0)
    with pytest.raises(DataError, match="cannot hold every one of the 3 classes"):
        data.training_sample(2, seed=0)
