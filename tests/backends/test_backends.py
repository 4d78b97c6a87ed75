"""The contract every backend keeps (``regsearch.testing``), run against TensorFlow/Keras and
PyTorch alike, and what is particular to each: the penalty's parity, initialisation, saving."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from regsearch.backends import get_backend
from regsearch.config import TrainSettings
from regsearch.metrics import cross_entropy
from regsearch.models import model_factory
from regsearch.penalty import Penalty
from regsearch.testing import BACKEND_CHECKS, synthetic_dataset

BACKENDS = ["tf", "torch"]


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(n_train=300, n_test=90)


def trainer_for(name, data, **settings):
    backend = get_backend(name)
    train = TrainSettings(**{"epochs": 4, "batch_size": 32, "lr": 1e-2, **settings})
    return backend.trainer(
        data.x_train, data.y_train, data.n_classes, train, model_factory(name, train)
    )


@pytest.mark.parametrize("check", BACKEND_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("name", BACKENDS)
def test_backend_contract(name, check):
    check(get_backend(name), None)


def test_the_torch_mlp_trains_its_folds_at_once_and_keras_one_by_one(data):
    assert trainer_for("torch", data).fold_parallel is not None
    assert trainer_for("tf", data).fold_parallel is None


def reference_weights(n_features=8, hidden=(6, 5), n_classes=3, seed=0):
    """Kernels in Keras layout (in, out) and biases."""
    rng = np.random.default_rng(seed)
    sizes = [n_features, *hidden, n_classes]
    return [
        (rng.normal(0, 0.5, (a, b)).astype(np.float32), rng.normal(0, 0.1, b).astype(np.float32))
        for a, b in itertools.pairwise(sizes)
    ]


def reference_loss(weights, x, y, penalty):
    h = x.astype(np.float64)
    for i, (w, b) in enumerate(weights):
        h = h @ w + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0)
    return cross_entropy(h, y) + penalty.value([w for w, _ in weights])


def keras_loss(weights, x, y, penalty):
    import keras

    from regsearch.backends.tf import KerasTrainer, compile_model, with_keras_penalty
    from regsearch.models.mlp import keras_mlp

    # The model a Keras user writes: Keras' own L1L2 on each Dense kernel.
    model = with_keras_penalty(keras_mlp(x.shape[1], (6, 5), 3), penalty)
    compile_model(model, 1e-3)
    model.set_weights([a for pair in weights for a in pair])
    # Exactly what Keras' train_step minimises: compiled loss plus the regularization losses.
    loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True), training=True)
    # The trainer's one model, its strengths set per fit, minimises the same loss.
    settings = TrainSettings(hidden=(6, 5))
    trainer = KerasTrainer(x, y, 3, settings, model_factory("tf", settings))
    trainer.reset(penalty, seed=0)
    trainer.model.set_weights(model.get_weights())
    assert float(trainer.loss(x, y)) == pytest.approx(float(loss), rel=1e-6)
    keras.backend.clear_session()
    return float(loss)


def torch_loss(weights, x, y, penalty):
    import torch

    from regsearch.backends.torch import penalized_loss
    from regsearch.models.mlp import torch_mlp

    model = torch_mlp(x.shape[1], (6, 5), 3)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for layer, (w, b) in zip(linears, weights, strict=True):
            layer.weight.copy_(torch.from_numpy(w.T))
            layer.bias.copy_(torch.from_numpy(b))
    with torch.no_grad():  # the same function the training loop minimises
        return float(
            penalized_loss(model(torch.from_numpy(x)), torch.from_numpy(y), model, penalty)
        )


@pytest.mark.parametrize(
    "penalty", [Penalty(), Penalty(l1=1e-3), Penalty(l2=1e-2), Penalty(l1=3e-4, l2=5e-3)]
)
def test_same_lambda_same_penalized_loss_in_both_backends(data, penalty):
    weights = reference_weights()
    x, y = data.x_train[:64], data.y_train[:64]
    expected = reference_loss(weights, x, y, penalty)
    tf_value, torch_value = keras_loss(weights, x, y, penalty), torch_loss(weights, x, y, penalty)
    assert tf_value == pytest.approx(expected, rel=1e-5)
    assert torch_value == pytest.approx(expected, rel=1e-5)
    assert torch_value == pytest.approx(tf_value, rel=1e-5)
    if penalty.active:  # the penalty term is a visible part of the loss
        assert expected - reference_loss(weights, x, y, Penalty()) > 1e-3


@pytest.mark.parametrize("name", BACKENDS)
def test_initialisation_is_glorot_uniform_with_zero_bias(name, data):
    trainer = trainer_for(name, data, hidden=(64,))
    fit = trainer.fit(np.arange(30), None, Penalty(), epochs=1, seed=0)
    kernels = trainer.kernels(fit.model)
    assert [k.shape for k in kernels] == [(8, 64), (64, 3)]  # Keras layout (in, out)
    untrained = trainer_for(name, data, hidden=(64,), lr=1e-12)
    w = untrained.kernels(untrained.fit(np.arange(30), None, Penalty(), 1, 0).model)[0]
    limit = np.sqrt(6 / (8 + 64))
    assert np.abs(w).max() <= limit * 1.001
    assert np.std(w) == pytest.approx(limit / np.sqrt(3), rel=0.15)


@pytest.mark.parametrize("name", BACKENDS)
def test_saved_model_reloads_without_unpickling(name, data, tmp_path):
    trainer = trainer_for(name, data)
    fit = trainer.fit(np.arange(300), None, Penalty(l1=1e-4), epochs=2, seed=0)
    assert fit.best_epoch == 2 and set(fit.history) == {"loss", "accuracy", "penalty"}
    expected = trainer.predict_logits(fit.model, data.x_test)
    path = trainer.save(fit.model, tmp_path / "model")
    if name == "torch":
        import torch

        from regsearch.models.mlp import torch_mlp

        saved = torch.load(path, weights_only=True)
        model = torch_mlp(
            saved["architecture"]["n_features"],
            tuple(saved["architecture"]["hidden"]),
            saved["architecture"]["n_classes"],
        )
        model.load_state_dict(saved["state_dict"])
    else:
        import keras

        model = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(trainer.predict_logits(model, data.x_test), expected, rtol=1e-6)
