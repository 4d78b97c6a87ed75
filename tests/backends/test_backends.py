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
from regsearch.testing import synthetic_dataset
from regsearch.testing.pytest_contract import BackendContract

BACKENDS = ["tf", "torch"]


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(n_train=300, n_test=90)


def trainer_for(name, data, **settings):
    backend = get_backend(name)
    train = TrainSettings(**{"epochs": 4, "batch_size": 32, "lr": 1e-2, **settings})
    return backend.trainer(
        data.x_train, data.y_train, data.n_classes, train, model_factory("mlp", name, train.hidden)
    )


class TestKerasBackendContract(BackendContract):
    @pytest.fixture
    def backend(self):
        return get_backend("tf")


class TestTorchBackendContract(BackendContract):
    @pytest.fixture
    def backend(self):
        return get_backend("torch")


def test_both_mlps_train_their_folds_at_once(data):
    assert trainer_for("torch", data).fold_parallel is not None
    keras_trainer = trainer_for("tf", data)
    assert keras_trainer.fold_parallel is not None
    assert "Keras towers" in keras_trainer.fold_parallel_reason


def test_a_torch_trainer_flushes_subnormal_floats_on_the_cpu(data):
    import torch

    torch.set_flush_denormal(False)
    subnormal = torch.tensor([1e-39], dtype=torch.float32)
    assert (subnormal * 1.0).item() != 0.0  # kept: the slow path a penalty drives weights into
    trainer_for("torch", data)
    assert (subnormal * 1.0).item() == 0.0


def test_keras_folds_train_one_at_a_time_where_towers_would_not_train_as_alone(data):
    from regsearch.backends.keras_runtime import keras

    def with_layer(layer):
        def build(shape, k):
            return keras.Sequential(
                [keras.Input(shape), keras.layers.Dense(8), layer(), keras.layers.Dense(k)]
            )

        return build

    backend, settings = get_backend("tf"), TrainSettings(epochs=2)
    for layer, said in (
        (lambda: keras.layers.Dropout(0.5), "the model's Dropout would draw other random"),
        (keras.layers.BatchNormalization, "BatchNormalization would see padded rows"),
    ):
        trainer = backend.trainer(data.x_train, data.y_train, 3, settings, with_layer(layer))
        assert trainer.fold_parallel is None and said in trainer.fold_parallel_reason
    scaled = backend.trainer(
        data.x_train,
        data.y_train,
        3,
        settings,
        model_factory("mlp", "tf", (8,)),
        scaling="standard",
    )
    assert scaled.fold_parallel is None
    assert "standard scaling is fitted on its own rows" in scaled.fold_parallel_reason


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

    from regsearch.backends.keras_model import compile_model, with_keras_penalty
    from regsearch.backends.keras_trainer import KerasTrainer
    from regsearch.models.mlp import keras_mlp

    # The model a Keras user writes: Keras' own L1L2 on each Dense kernel.
    model = with_keras_penalty(keras_mlp(x.shape[1:], (6, 5), 3), penalty)
    compile_model(model, 1e-3)
    model.set_weights([a for pair in weights for a in pair])
    # Exactly what Keras' train_step minimises: compiled loss plus the regularization losses.
    loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True), training=True)
    # The trainer's one model, its strengths set per fit, minimises the same loss.
    settings = TrainSettings(hidden=(6, 5))
    trainer = KerasTrainer(x, y, 3, settings, model_factory("mlp", "tf", settings.hidden))
    trainer.reset(penalty, seed=0)
    trainer.model.set_weights(model.get_weights())
    assert float(trainer.loss(x, y)) == pytest.approx(float(loss), rel=1e-6)
    keras.backend.clear_session()
    return float(loss)


def torch_loss(weights, x, y, penalty):
    import torch

    from regsearch.backends.torch_ops import penalized_loss
    from regsearch.models.mlp import torch_mlp

    model = torch_mlp(x.shape[1:], (6, 5), 3)
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

        from regsearch.models import model_factory

        saved = torch.load(path, weights_only=True)
        arch = saved["architecture"]
        assert arch["model"] == "mlp" and arch["outputs"] == "logits"
        build = model_factory(arch["model"], "torch", tuple(arch["hidden"]))
        model = build(tuple(arch["input_shape"]), arch["n_classes"])
        model.load_state_dict(saved["state_dict"])
    else:
        import keras

        model = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(trainer.predict_logits(model, data.x_test), expected, rtol=1e-6)


# A CNN with batch normalization: the same penalized loss from the same weights, converted
# between the frameworks' layouts.

EPS = 1e-3  # Keras' BatchNormalization default; PyTorch's is 1e-5, so it is set explicitly
# Layers before batch norm have no bias, as usual: batch norm removes it, so its gradient is
# rounding noise, which Adam scales up to steps of the learning rate's size; they move the
# running mean differently with every change of float rounding (e.g. folds at once).


def torch_bn_cnn(input_shape, n_classes):
    from torch import nn

    channels, height, width = input_shape
    return nn.Sequential(
        nn.Conv2d(channels, 4, 3, padding=1, bias=False),
        nn.BatchNorm2d(4, eps=EPS),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * (height // 2) * (width // 2), 5),
        nn.ReLU(),
        nn.Linear(5, n_classes),
    )


def keras_bn_cnn(input_shape, n_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(4, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(epsilon=EPS),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(5, activation="relu"),
            keras.layers.Dense(n_classes),
        ]
    )


def torch_to_keras(model, pooled_hw):
    """The torch CNN's weights in the Keras model's order and layouts: a conv kernel
    ``(out, in, h, w)`` -> ``(h, w, in, out)``; the Dense after Flatten also reorders its
    inputs, flattened ``(C, H, W)`` in PyTorch but ``(H, W, C)`` in Keras."""
    conv, norm, dense, out = model[0], model[1], model[5], model[7]
    h, w = pooled_hw
    dense_w = dense.weight.detach().numpy().reshape(-1, conv.out_channels, h, w)
    dense_w = dense_w.transpose(2, 3, 1, 0).reshape(h * w * conv.out_channels, -1)
    as_np = lambda t: t.detach().numpy().copy()  # noqa: E731
    return [
        as_np(conv.weight).transpose(2, 3, 1, 0),
        as_np(norm.weight),
        as_np(norm.bias),
        as_np(norm.running_mean),
        as_np(norm.running_var),
        dense_w,
        as_np(dense.bias),
        as_np(out.weight).T,
        as_np(out.bias),
    ]


@pytest.mark.parametrize("training", [True, False], ids=["batch-statistics", "moving-statistics"])
@pytest.mark.parametrize("penalty", [Penalty(), Penalty(l1=1e-3, l2=1e-2)])
def test_a_cnn_with_batch_norm_has_the_same_penalized_loss_in_both_backends(training, penalty):
    import torch

    from regsearch.backends.keras_trainer import KerasTrainer
    from regsearch.backends.torch_ops import penalized_loss
    from tests.backends.test_models import images

    x, y = images(n=32, shape=(6, 4, 2))
    torch_model = torch_bn_cnn((2, 6, 4), 3)
    with torch.no_grad():  # non-trivial statistics and affine parameters
        torch_model[1].running_mean.uniform_(-0.5, 0.5)
        torch_model[1].running_var.uniform_(0.5, 2.0)
        torch_model[1].weight.uniform_(0.5, 1.5)
        torch_model[1].bias.uniform_(-0.2, 0.2)
    torch_model.train(training)
    with torch.no_grad():
        xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
        expected = float(penalized_loss(torch_model(xt), torch.from_numpy(y), torch_model, penalty))
    trainer = KerasTrainer(x, y, 3, TrainSettings(), keras_bn_cnn)
    trainer.reset(penalty, seed=0)
    trainer.model.set_weights(torch_to_keras(torch_model, (3, 2)))
    got = float(trainer.loss(x, y, training=training))
    assert got == pytest.approx(expected, rel=1e-5)
    torch_kernels = [k.shape for k in get_trainer_kernels(torch_model)]
    assert torch_kernels == [tuple(k.shape) for k in trainer.kernels(trainer.model)]


def get_trainer_kernels(model):
    from regsearch.backends.torch_ops import keras_layout, penalized_weights

    return [keras_layout(w) for w in penalized_weights(model)]


def torch_bn_mlp(input_shape, n_classes):
    """Not the built-in MLP: batch normalization between its layers."""
    from torch import nn

    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(int(np.prod(input_shape)), 16, bias=False),
        nn.BatchNorm1d(16),
        nn.ReLU(),
        nn.Linear(16, n_classes),
    )


class TestBackendContractForAUserModelWithBatchNorm(BackendContract):
    @pytest.fixture
    def backend(self):
        return get_backend("torch")

    @pytest.fixture
    def model(self):
        return torch_bn_mlp


def test_any_torch_model_trains_its_folds_at_once_like_one_by_one():
    """The vmapped path on a CNN with batch norm (which the trainer would train one fold at a
    time on the CPU), with folds of unequal sizes: the ragged last step runs fold by fold."""
    from regsearch.backends.torch_folds import VmappedFolds
    from tests.backends.test_models import images

    x, y = images(n=61, shape=(6, 4, 2))
    train = TrainSettings(epochs=3, batch_size=8, lr=1e-2, patience=3)
    trainer = get_backend("torch").trainer(x, y, 3, train, torch_bn_cnn)
    assert trainer.fold_parallel is None and "Conv2d" in trainer.fold_parallel_reason
    folds = [(np.arange(0, 41), np.arange(41, 61)), (np.arange(20, 61), np.arange(0, 20))]
    folds.append((np.arange(0, 40), np.arange(40, 61)))  # 40 rows: one step fewer
    penalty = Penalty(l1=1e-4, l2=1e-3)
    alone = [trainer.fit(tr, va, penalty, 3, seed) for seed, (tr, va) in enumerate(folds)]
    together = VmappedFolds(trainer).fit_folds(folds, penalty, 3, seeds=[0, 1, 2])
    for one, many, (_, va) in zip(alone[:2], together[:2], folds[:2], strict=True):
        assert many.best_epoch == one.best_epoch
        np.testing.assert_allclose(many.history["loss"], one.history["loss"], rtol=1e-4)
        np.testing.assert_allclose(
            trainer.predict_logits(many.model, x[va]),
            trainer.predict_logits(one.model, x[va]),
            rtol=1e-3,
            atol=1e-4,
        )
        # Batch-norm statistics are the fold's own.
        np.testing.assert_allclose(
            many.model[1].running_mean.numpy(), one.model[1].running_mean.numpy(), rtol=1e-4
        )
    # The shorter fold differs only by Adam's moments moving on its empty last step.
    assert together[2].history["loss"][0] == pytest.approx(alone[2].history["loss"][0], rel=1e-4)
