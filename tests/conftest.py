from __future__ import annotations

import contextlib
import dataclasses
import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# Both frameworks share this test process. PyTorch's triton must be loaded before TensorFlow,
# or the first torch optimizer crashes the process (see regsearch.backends.get_backend).
with contextlib.suppress(ImportError):  # without torch, its tests skip
    import torch._dynamo  # noqa: F401

from regsearch.config import SearchSpace, StudyConfig, TrainSettings
from regsearch.data import Dataset
from regsearch.testing import synthetic_dataset

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = Path(os.environ.get("REGSEARCH_TEST_MNIST", PROJECT_ROOT.parent / "shared/data/mnist"))


def run_study_command(*args: object, timeout: float = 900) -> str:
    """``python -m regsearch.study ARGS`` from the project root, as a user runs it; asserts
    that it succeeded without a traceback and returns its output."""
    command = [sys.executable, "-m", "regsearch.study", *map(str, args)]
    run = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    return run.stdout


@pytest.fixture
def tiny_dataset() -> Dataset:
    return synthetic_dataset()


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    """Write ``array`` (uint8) as an IDX file with the MNIST magic numbers."""
    magic = {3: 2051, 1: 2049}[array.ndim]
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    raw = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path


def write_tiny_mnist(folder: Path, n_train: int = 20, n_test: int = 10, compress: bool = True):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }
    return {name: write_idx(folder / name, a, compress) for name, a in arrays.items()}


@pytest.fixture
def mnist_dir() -> Path:
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found in {MNIST_DIR} (set REGSEARCH_TEST_MNIST)")
    return MNIST_DIR


def fake_study_config(folder: Path, **changes) -> StudyConfig:
    """A small study for the fake backend (3 folds, 4 trials, 3 epochs, no pruning, no
    optuna-dashboard figures: a second of drawing each, tested on their own) stored in
    ``folder``; ``changes`` override any field."""
    base = StudyConfig(
        backend="torch",
        dataset="digits",
        folds=3,
        trials=4,
        storage=f"sqlite:///{folder}/s.db",
        pruner="none",
        space=SearchSpace(lambda_min=1e-5, lambda_max=1e-1),
        train=TrainSettings(epochs=3),
        dashboard=False,
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture(scope="session")
def finished_fake_study(tmp_path_factory) -> tuple[str, str]:
    """A finished 10-trial study (fake backend, median pruning) in a SQLite file, shared by the
    read-only commands' tests: ``(storage URL, study name)``. Its name is hostile on purpose."""
    from regsearch import run_study
    from regsearch.testing import FakeBackend

    folder = tmp_path_factory.mktemp("finished")
    config = fake_study_config(
        folder,
        folds=4,
        trials=10,
        storage=f"sqlite:///{folder}/studies.db",
        study_name="<script>alert('x')</script> \x1b[31mred/../études",
        pruner="median",
        train=TrainSettings(epochs=4),
    )
    run_study(config, backend=FakeBackend(), dataset=synthetic_dataset(n_train=400, n_test=100))
    return config.storage, config.name
