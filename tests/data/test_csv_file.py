"""CSV datasets, tabular .npz files with raw scales, held-out test sets, and the scaling that is
fitted per fold (see also the backends' own check in regsearch.testing)."""

import re
from pathlib import Path

import numpy as np
import pytest

from regsearch.config import StudyConfig
from regsearch.data import DataError, Dataset, load_dataset, load_npz
from regsearch.data.csv_file import load_csv
from regsearch.data.scaling import Scaling, fit_scaling, resolve_scaling
from regsearch.errors import ConfigError
from regsearch.options import flag


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def table(n: int = 40, seed: int = 0) -> str:
    """Two features on very different scales and a string label."""
    rng = np.random.default_rng(seed)
    lines = ["length_mm,mass_kg,species"]
    for i in range(n):
        species = ("setosa", "virginica")[i % 2]
        length = rng.normal(1000.0 if i % 2 else 900.0, 20.0)
        mass = rng.normal(0.002 if i % 2 else 0.003, 0.0002)
        lines.append(f"{length:.3f},{mass:.6f},{species}")
    return "\n".join(lines) + "\n"


def test_string_labels_become_classes_and_a_seeded_stratified_test_set_is_held_out(tmp_path):
    path = write(tmp_path / "plants.csv", table(40))
    data = load_csv(path, "species", test_size=0.25, seed=1)
    assert data.name == "plants" and data.kind == "features" and data.example_shape == (2,)
    assert data.classes == ("setosa", "virginica") and data.n_classes == 2
    assert len(data.y_train) == 30 and len(data.y_test) == 10
    assert np.bincount(data.y_test).tolist() == [5, 5]  # stratified
    assert data.x_train.dtype == np.float32 and data.x_train.max() > 800  # raw, not scaled
    said = data.describe()
    assert "test set: a stratified 0.25 of the 40 examples, held out with seed 1" in said
    assert "labels setosa, virginica as classes 0..1" in said
    again, other = (
        load_csv(path, "species", None, 0.25, 1),
        load_csv(path, "species", None, 0.25, 2),
    )
    assert again.fingerprint() == data.fingerprint() != other.fingerprint()
    default = load_csv(path, "species")
    assert len(default.y_test) == 8 and "a stratified 0.2 of the 40" in default.describe()


def test_a_test_file_may_order_its_columns_differently(tmp_path):
    train = write(tmp_path / "train.csv", "a,b,label\n1,10,0\n2,20,1\n3,30,0\n4,40,1\n")
    test = write(tmp_path / "test.csv", "label,b,a\n1,50,5\n0,60,6\n")
    data = load_dataset(str(train), tmp_path, target="label", test_data=test)
    np.testing.assert_array_equal(data.x_test, [[5, 50], [6, 60]])
    assert data.y_test.tolist() == [1, 0] and data.classes is None and data.held_out is None


def test_integer_labels_other_than_0_to_k_minus_1_keep_their_names(tmp_path):
    path = write(tmp_path / "t.csv", "x,y\n" + "".join(f"{i},{3 + i % 2 * 4}\n" for i in range(10)))
    data = load_csv(path, "y")
    assert data.classes == (3, 7) and set(data.y_train.tolist()) == {0, 1}


@pytest.mark.parametrize(
    ("text", "target", "message"),
    [
        ("", "y", "is empty; a CSV dataset needs a header row"),
        ("a,b,y\n", "y", "has a header but no rows"),
        ("a,b,y\n1,2,0\n", "label", "no column 'label' for target; the header has 'a', 'b', 'y'"),
        ("a,b,Label\n1,2,0\n", "label", "Did you mean 'Label'"),
        ("a;b;y\n1;2;0\n", "y", "the file must be comma-separated"),
        (
            "a,colour,y\n1,red,0\n2,blue,1\n",
            "y",
            "feature column\\(s\\) 'colour' \\(e.g. 'red'\\) are not numeric",
        ),
        (
            "a,b,y\n1,2,0\n3,,1\n5,6,\n",
            "y",
            "missing values in column\\(s\\) 'b', 'y' on line\\(s\\) 3, 4",
        ),
        ("a,y\n1,0.5\n2,1\n", "y", "holds 0.5 on line 2; regsearch classifies"),
        ("y\n0\n1\n", "y", "the only column is the target 'y'"),
        ("a,a,y\n1,2,0\n", "y", "'a' appear more than once in the header"),
    ],
)
def test_bad_csv_files_are_refused_with_the_column_and_line(tmp_path, text, target, message):
    with pytest.raises(DataError, match=message):
        load_csv(write(tmp_path / "bad.csv", text), target)


def test_a_test_file_must_match_the_training_columns_and_labels(tmp_path):
    train = write(tmp_path / "train.csv", "a,b,y\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,dog\n")
    other = write(tmp_path / "other.csv", "a,c,y\n1,2,cat\n")
    with pytest.raises(DataError, match="lacks 'b' and has 'c', which .*train.csv has not"):
        load_csv(train, "y", other)
    unseen = write(tmp_path / "unseen.csv", "a,b,y\n1,2,bird\n")
    with pytest.raises(DataError, match="label 'bird' in column 'y' never occurs in"):
        load_csv(train, "y", unseen)
    with pytest.raises(DataError, match="no such file"):
        load_csv(train, "y", tmp_path / "absent.csv")


def test_tabular_npz_keeps_raw_scales_and_may_hold_out_its_test_set(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (50, 3)) * [1e-3, 1.0, 1e3]
    path = tmp_path / "raw.npz"
    np.savez(path, x_train=x, y_train=np.arange(50) % 2)
    data = load_npz(path, test_size=0.2, seed=0)
    assert data.kind == "features" and not data.pixels and len(data.y_test) == 10
    assert np.abs(data.x_train[:, 2]).max() > 100  # as in the file
    np.savez(
        tmp_path / "both.npz",
        x_train=x,
        y_train=np.arange(50) % 2,
        x_test=x,
        y_test=np.arange(50) % 2,
    )
    with pytest.raises(DataError, match="has its own test set .*leave test_size out"):
        load_npz(tmp_path / "both.npz", test_size=0.2)


def test_scaling_is_scikit_learns_and_constant_features_keep_a_unit_scale():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(5, 2, 100), np.full(100, 7.0), rng.uniform(-1e3, 1e3, 100)])
    standard = Scaling.fit("standard", x)
    np.testing.assert_allclose(standard.shift, x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(standard.scale, [x[:, 0].std(), 1.0, x[:, 2].std()], rtol=1e-5)
    scaled = standard.apply(x)
    np.testing.assert_allclose(scaled[:, [0, 2]].mean(0), 0, atol=1e-5)
    minmax = Scaling.fit("minmax", x)
    np.testing.assert_allclose(minmax.apply(x)[:, [0, 2]].min(0), 0, atol=1e-6)
    np.testing.assert_allclose(minmax.apply(x)[:, [0, 2]].max(0), 1, atol=1e-6)
    assert fit_scaling("none", x) is None
    images = rng.uniform(0, 1, (10, 4, 4, 2))
    assert Scaling.fit("standard", images).shift.shape == (4, 4, 2)


@pytest.mark.parametrize(
    ("requested", "kind", "pixels", "values", "resolved"),
    [
        ("auto", "features", False, (0, 1), "standard"),
        ("auto", "images", True, (0, 1), "none"),
        ("auto", "images", False, (0, 1), "none"),
        ("auto", "images", False, (-3, 250), "standard"),
        ("minmax", "images", True, (0, 1), "minmax"),
        ("none", "features", False, (-1e3, 1e3), "none"),
    ],
)
def test_auto_scaling_is_standard_for_features_and_none_for_pixels(
    requested, kind, pixels, values, resolved
):
    shape = (2, 3) if kind == "features" else (2, 2, 2, 1)
    x = np.linspace(*values, num=int(np.prod(shape)), dtype=np.float32).reshape(shape)
    data = Dataset("d", x, np.array([0, 1]), x, np.array([0, 1]), 2, pixels=pixels)
    assert data.kind == kind and data.value_range() == values
    assert resolve_scaling(requested, data)[0] == resolved


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"dataset": "t.csv"}, "is a CSV file: name its label column with --target COLUMN"),
        ({"dataset": "t.npz", "target": "y"}, "--target names a CSV file's label column"),
        (
            {"dataset": "t.csv", "target": "y", "test_data": Path("t.npz")},
            "--test-data must be a .csv",
        ),
        (
            {"dataset": "t.csv", "target": "y", "test_data": Path("u.csv"), "test_size": 0.2},
            "--test-data is the test set, so there is nothing to hold out",
        ),
        ({"dataset": "mnist", "test_size": 0.2}, "mnist comes with its own"),
        ({"dataset": "t.npz", "test_size": 1.0}, "between 0 and 1 \\(exclusive\\), got 1.0"),
        ({"dataset": "t.txt"}, "a path to an .npz or .csv file"),
        ({"scale": "robust"}, "--scale must be one of auto, standard, minmax, none"),
    ],
)
def test_data_settings_are_refused_before_anything_runs(settings, message):
    with pytest.raises(ConfigError) as info:
        StudyConfig(backend="torch", **settings)
    assert re.search(message, info.value.render(flag)), info.value.render(flag)
