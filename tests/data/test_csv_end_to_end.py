"""A user's own table, trained for real: scikit-learn's breast-cancer table (30 features on
scales from 1e-3 to 1e3, string labels) written out as CSV files, studied from the command
line with each backend, and the saved model loaded the documented way on the test file's raw
rows."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from tests.conftest import run_study_command

pytestmark = pytest.mark.slow

TARGET = "diagnosis"


@pytest.fixture(scope="module")
def cancer_csv(tmp_path_factory):
    """``(train.csv, test.csv, whole.csv)``: a stratified 75/25 split, labels as names."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.drop(columns="target")
    frame[TARGET] = [bunch.target_names[t] for t in bunch.target]
    train, test = train_test_split(frame, test_size=0.25, stratify=frame[TARGET], random_state=0)
    folder = tmp_path_factory.mktemp("csv")
    paths = folder / "cancer_train.csv", folder / "cancer_test.csv", folder / "cancer.csv"
    for part, path in zip((train, test, frame), paths, strict=True):
        part.to_csv(path, index=False)
    return paths


def study(backend, storage, *args):
    return run_study_command(
        "--backend", backend, "--target", TARGET, "--folds", 3, "--trials", 3, "--epochs", 15,
        "--storage", storage, *args,
    )  # fmt: skip


@pytest.mark.parametrize("backend", ["torch", "tf"])
def test_a_csv_study_reaches_a_sensible_accuracy_and_its_model_takes_raw_rows(
    backend, cancer_csv, tmp_path
):
    import pandas as pd

    import regsearch

    train, test, _ = cancer_csv
    storage = f"sqlite:///{tmp_path}/csv.db"
    out = study(backend, storage, "--dataset", train, "--test-data", test)
    assert "426 training and 143 test examples, 30 features, 2 classes" in out
    assert "(labels benign, malignant as classes 0..1)" in out
    assert "Scaling: standard, (x - mean) / std per feature" in out
    stored = optuna.load_study(study_name=f"cancer_train-{backend}", storage=storage)
    assert stored.user_attrs["classes"] == ["benign", "malignant"]
    assert stored.user_attrs["config"]["scale"] == "standard"
    refit = stored.user_attrs["refit"]
    assert refit["test_accuracy"] >= 0.93, refit  # a linear model reaches about 0.96

    rows = pd.read_csv(test)
    raw = rows.drop(columns=TARGET).to_numpy(np.float32)
    assert raw.max() > 1000  # the file's own scales: the model must scale them itself
    model = regsearch.load_model(refit["model_path"])
    names = np.array(stored.user_attrs["classes"])
    predicted = names[regsearch.predict_proba(model, raw).argmax(1)]
    accuracy = float(np.mean(predicted == rows[TARGET].to_numpy()))
    assert accuracy == pytest.approx(refit["test_accuracy"], abs=1e-6)
    if backend == "tf":  # a plain Keras file: Keras alone loads it and predicts raw rows
        import keras

        plain = keras.models.load_model(refit["model_path"])
        outputs = np.asarray(plain.predict(raw, verbose=0))
        assert float(np.mean(names[outputs.argmax(1)] == rows[TARGET])) == accuracy


def test_a_csv_without_a_test_file_holds_out_a_stratified_seeded_fraction(cancer_csv, tmp_path):
    _, _, whole = cancer_csv
    storage = f"sqlite:///{tmp_path}/held.db"
    out = study("torch", storage, "--dataset", whole, "--test-size", "0.25", "--seed", "7")
    said = "test set: a stratified 0.25 of the 569 examples, held out with seed 7"
    assert said in out
    stored = optuna.load_study(study_name="cancer-torch", storage=storage)
    assert said in stored.user_attrs["dataset_summary"]
    assert stored.user_attrs["refit"]["test_accuracy"] >= 0.93
