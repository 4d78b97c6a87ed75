"""Real training, both backends: small studies on digits (Python API) and on an MNIST subset
(the command line in a subprocess, as a user runs it)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import optuna
import pytest

from regsearch import SearchSpace, StudyConfig, TrainSettings, run_study
from regsearch.data import load_mnist
from tests.conftest import PROJECT_ROOT, run_study_command

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["tf", "torch"])
def test_digits_study_through_the_python_api(backend, tmp_path):
    config = StudyConfig(
        backend=backend,
        dataset="digits",
        folds=3,
        trials=3,
        storage=f"sqlite:///{tmp_path}/digits.db",
        space=SearchSpace(penalties=("l2", "l1_l2"), lambda_min=1e-5, lambda_max=1e-2),
        train=TrainSettings(epochs=12, batch_size=32, lr=3e-3),
    )
    result = run_study(config)
    trials = result.study.trials
    assert len(trials) == 3 and trials[0].user_attrs["baseline"]
    assert all(t.user_attrs["mean_test_accuracy"] > 0.85 for t in trials)
    assert result.chosen.test_accuracy > 0.85
    assert result.baseline is not None and result.baseline.test_accuracy > 0.85
    assert os.path.isfile(result.chosen.model_path)


@pytest.fixture(scope="module")
def mnist_subset(tmp_path_factory, request):
    from tests.conftest import MNIST_DIR

    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found in {MNIST_DIR}")
    full = load_mnist(MNIST_DIR)
    path = tmp_path_factory.mktemp("data") / "mnist10k.npz"
    to_uint8 = lambda a: np.round(a * 255).astype(np.uint8).reshape(-1, 28, 28)  # noqa: E731
    np.savez(
        path,
        x_train=to_uint8(full.x_train[:10000]),
        y_train=full.y_train[:10000],
        x_test=to_uint8(full.x_test),
        y_test=full.y_test,
    )
    return path


@pytest.mark.parametrize("backend", ["tf", "torch"])
def test_mnist_subset_study_from_the_command_line(backend, mnist_subset, tmp_path):
    storage = f"sqlite:///{tmp_path}/mnist.db"
    command = [
        sys.executable,
        "-m",
        "regsearch.study",
        "--backend",
        backend,
        "--folds",
        "3",
        "--trials",
        "2",
        "--epochs",
        "3",
        "--dataset",
        str(mnist_subset),
        "--storage",
        storage,
    ]
    run = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("trial   0  none") for line in lines)
    assert any(line.startswith("trial   1") for line in lines)
    assert "Test accuracy: chosen" in run.stdout

    study = optuna.load_study(study_name=f"mnist10k-{backend}", storage=storage)
    refit = study.user_attrs["refit"]
    assert refit["test_accuracy"] > 0.9  # 10k images, 3 epochs
    assert study.user_attrs["baseline_refit"]["test_accuracy"] > 0.9
    assert refit["epochs"] >= 1 and os.path.isfile(refit["model_path"])
    # A rerun of the same command adds nothing and refits the same choice.
    again = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "Resuming: 2 of 2 trials are already finished." in again.stdout
    assert len(optuna.load_study(study_name=f"mnist10k-{backend}", storage=storage).trials) == 2


@pytest.mark.parametrize("backend", ["tf", "torch"])
def test_nested_cv_on_an_mnist_subset_from_the_command_line(backend, mnist_subset, tmp_path):
    with np.load(mnist_subset) as full:  # 2,000 training images, 1,000 test images
        small = tmp_path / "mnist2k.npz"
        np.savez(
            small,
            x_train=full["x_train"][:2000],
            y_train=full["y_train"][:2000],
            x_test=full["x_test"][:1000],
            y_test=full["y_test"][:1000],
        )
    storage = f"sqlite:///{tmp_path}/nested.db"
    out = run_study_command(
        "--backend", backend, "--dataset", small, "--outer-folds", "2", "--folds", "3",
        "--trials", "3", "--epochs", "4", "--storage", storage, "--quiet",
    )  # fmt: skip
    record = optuna.load_study(study_name=f"mnist2k-{backend}", storage=storage).user_attrs[
        "nested"
    ]
    assert [o["study"] for o in record["outer"]] == [
        f"mnist2k-{backend}-outer1of2",
        f"mnist2k-{backend}-outer2of2",
    ]
    assert all(0.8 < o["accuracy"] < 1 for o in record["outer"])  # 1,000 images per search
    assert 0.8 < record["nested_accuracy"] < 1 and record["test_accuracy"] > 0.8
    assert f"Nested estimate of the search: {record['nested_accuracy']:.4f}" in out
    assert "Chosen across outer folds:" in out


def test_two_workers_share_one_study_and_refit_once(tmp_path):
    storage = f"sqlite:///{tmp_path}/workers.db"
    command = [
        sys.executable,
        "-m",
        "regsearch.study",
        "--backend",
        "torch",
        "--dataset",
        "digits",
        "--folds",
        "3",
        "--trials",
        "6",
        "--epochs",
        "2",
        "--pruner",
        "none",
        "--workers",
        "2",
        "--storage",
        storage,
    ]
    run = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "[worker 1] trial" in run.stdout and "[worker 2] trial" in run.stdout
    assert run.stdout.count("Refitting trial") == 1
    study = optuna.load_study(study_name="digits-torch", storage=storage)
    # Two workers starting a trial at the same moment past the target: the later one fails at
    # once with its reason and is not counted (see StudySession._unless_surplus).
    surplus = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert all(t.user_attrs["state_reason"].startswith("not run:") for t in surplus), [
        t.user_attrs for t in surplus
    ]
    trials = [t for t in study.trials if t not in surplus]
    assert len(trials) == 6
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    sampled = [tuple(sorted(t.params.items())) for t in trials if t.params]
    assert len(set(sampled)) == len(sampled) == 5  # each worker has its own sampler seed
    assert sum(bool(t.user_attrs.get("baseline")) for t in trials) == 1
    assert study.user_attrs["refit"]["trial_number"] == study.best_trial.number


@pytest.mark.parametrize("backend", ["tf", "torch"])
def test_same_command_same_numbers(backend, tmp_path):
    """Same seed, same machine, one worker: every fold score, trial value and the choice repeat."""
    records = []
    for run in ("a", "b"):
        storage = f"sqlite:///{tmp_path}/{run}.db"
        command = [
            sys.executable,
            "-m",
            "regsearch.study",
            "--backend",
            backend,
            "--dataset",
            "digits",
            "--folds",
            "3",
            "--trials",
            "3",
            "--epochs",
            "3",
            "--storage",
            storage,
        ]
        done = subprocess.run(
            command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
        study = optuna.load_study(study_name=f"digits-{backend}", storage=storage)
        records.append(
            (
                [
                    (
                        t.params,
                        t.value,
                        {
                            k: v
                            for k, v in t.user_attrs.items()
                            if "time" not in k and k != "worker"
                        },
                    )
                    for t in study.trials
                ],
                {
                    k: v
                    for k, v in study.user_attrs["refit"].items()
                    if k not in ("fit_time", "model_path")
                },
            )
        )
    assert records[0] == records[1]
