"""A user's own model, trained for real: the built-in CNN and a user's CNN file in each backend,
on 10,000 MNIST images from the command line, and the saved model reloaded the documented way."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from regsearch.data import load_npz
from tests.cli.test_study_end_to_end import mnist_subset  # noqa: F401  (a module-scoped fixture)
from tests.conftest import run_study_command

pytestmark = pytest.mark.slow

USER_MODELS = {
    "torch": "tests/user_models/torch_cnn.py:build",
    "tf": "tests/user_models/keras_cnn.py:build",
}


def run_study(backend, model, dataset, storage):
    # Up to 1e-3: two epochs on 10k images leave no room for the strongest penalties.
    return run_study_command(
        "--backend", backend, "--model", model, "--dataset", dataset, "--folds", 2,
        "--trials", 2, "--epochs", 2, "--lambda-max", 1e-3, "--storage", storage,
    )  # fmt: skip


def reloaded_accuracy(backend, refit, build_spec, x_test, y_test):
    """The test accuracy of the saved model, loaded as the README says."""
    if backend == "torch":
        import torch

        from regsearch.models import model_factory

        saved = torch.load(refit["model_path"], weights_only=True)
        arch = saved["architecture"]
        assert arch["model"] == build_spec and arch["input_shape"] == [1, 28, 28]
        model = model_factory(arch["model"], "torch")(tuple(arch["input_shape"]), arch["n_classes"])
        model.load_state_dict(saved["state_dict"])
        model.eval()
        with torch.no_grad():  # PyTorch models take images channels first
            outputs = model(torch.from_numpy(x_test.transpose(0, 3, 1, 2).copy())).numpy()
    else:
        import keras

        model = keras.models.load_model(refit["model_path"])
        outputs = np.asarray(model.predict(x_test, batch_size=1000, verbose=0))
    return float(np.mean(outputs.argmax(1) == y_test))


@pytest.mark.parametrize("backend", ["torch", "tf"])
@pytest.mark.parametrize("model", ["cnn", "user"])
def test_a_cnn_on_mnist_from_the_command_line(backend, model, mnist_subset, tmp_path):  # noqa: F811
    spec = USER_MODELS[backend] if model == "user" else "cnn"
    storage = f"sqlite:///{tmp_path}/cnn.db"
    out = run_study(backend, spec, mnist_subset, storage)
    assert (
        f"Model: {spec} ({backend}), input {(1, 28, 28) if backend == 'torch' else (28, 28, 1)}"
        in out
    )
    assert "Penalized: 4 tensors" in out and "Not penalized" in out
    name = f"mnist10k-{'cnn' if model == 'cnn' else spec.split('/')[-1].split('.')[0]}-{backend}"
    study = optuna.load_study(study_name=name, storage=storage)
    summary = study.user_attrs["model_summary"]
    assert summary["spec"] == spec and len(summary["penalized"]) == 4
    if model == "user" and backend == "tf":
        assert summary["outputs"] == "probabilities"  # the user's model ends in a softmax
    refit = study.user_attrs["refit"]
    assert refit["test_accuracy"] >= 0.96, refit  # 10k images, 2 folds, 2 epochs
    data = load_npz(mnist_subset)
    reloaded = reloaded_accuracy(backend, refit, spec, data.x_test, data.y_test)
    assert reloaded == pytest.approx(refit["test_accuracy"], abs=1e-4)
