"""The contract every backend keeps, run against TensorFlow/Keras and PyTorch alike."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from regsearch.backends import get_backend
from regsearch.config import TrainSettings
from regsearch.metrics import accuracy, cross_entropy
from regsearch.penalty import Penalty
from tests.conftest import synthetic_dataset

BACKENDS = ["tf", "torch"]


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(n_train=300, n_test=90)


def trainer_for(name, data, **settings):
    backend = get_backend(name)
    return backend.trainer(
        data.x_train,
        data.y_train,
        data.n_classes,
        TrainSettings(**{"epochs": 4, "batch_size": 32, "lr": 1e-2, **settings}),
    )


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

    from regsearch.backends.tf import KerasTrainer, build_model, compile_model

    model = build_model(x.shape[1], (6, 5), 3, penalty)
    compile_model(model, 1e-3)
    model.set_weights([a for pair in weights for a in pair])
    # Exactly what Keras' train_step minimises: compiled loss plus the regularization losses.
    loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True), training=True)
    # The trainer's one model, its strengths set per fit, minimises the same loss.
    trainer = KerasTrainer(x, y, 3, TrainSettings(hidden=(6, 5)))
    trainer._reset(penalty, seed=0)
    trainer.model.set_weights(model.get_weights())
    trained = trainer.model.compute_loss(
        x=x, y=y, y_pred=trainer.model(x, training=True), training=True
    )
    assert float(trained) == pytest.approx(float(loss), rel=1e-6)
    keras.backend.clear_session()
    return float(loss)


def torch_loss(weights, x, y, penalty):
    import torch

    from regsearch.backends.torch import build_mlp, penalized_loss

    model = build_mlp(x.shape[1], (6, 5), 3)
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
    trainer.release()
    untrained = trainer_for(name, data, hidden=(64,), lr=1e-12)
    w = untrained.kernels(untrained.fit(np.arange(30), None, Penalty(), 1, 0).model)[0]
    limit = np.sqrt(6 / (8 + 64))
    assert np.abs(w).max() <= limit * 1.001
    assert np.std(w) == pytest.approx(limit / np.sqrt(3), rel=0.15)
    untrained.release()


@pytest.mark.parametrize("name", BACKENDS)
def test_fit_learns_restores_best_epoch_and_is_deterministic(name, data):
    trainer = trainer_for(name, data, epochs=6, patience=1)
    train, val = np.arange(0, 240), np.arange(240, 300)
    penalty = Penalty(l2=1e-3)
    fit = trainer.fit(train, val, penalty, epochs=6, seed=3)
    assert fit.diverged is None and fit.fit_time > 0
    assert set(fit.history) == {"loss", "accuracy", "penalty", "val_loss", "val_accuracy"}
    assert all(p > 0 for p in fit.history["penalty"])  # the L2 term, epoch by epoch
    n_epochs = len(fit.history["val_loss"])
    assert 1 <= fit.best_epoch <= n_epochs <= 6
    assert fit.best_epoch == int(np.argmin(fit.history["val_loss"])) + 1
    logits = trainer.predict_logits(fit.model, data.x_train[val])
    assert accuracy(logits, data.y_train[val]) > 0.7  # chance is 1/3
    # The model holds the best epoch's weights: its penalized validation loss is the minimum.
    restored = cross_entropy(logits, data.y_train[val]) + penalty.value(trainer.kernels(fit.model))
    assert restored == pytest.approx(min(fit.history["val_loss"]), rel=1e-4)
    first = trainer.kernels(fit.model)
    trainer.release()
    again = trainer.fit(train, val, penalty, epochs=6, seed=3)
    assert all(
        np.array_equal(a, b) for a, b in zip(first, trainer.kernels(again.model), strict=True)
    )
    assert again.history == fit.history
    other = trainer.fit(train, val, penalty, epochs=6, seed=4)
    assert not np.array_equal(first[0], trainer.kernels(other.model)[0])
    trainer.release()


@pytest.mark.parametrize("name", BACKENDS)
def test_early_stopping_sees_only_the_validation_rows(name, data):
    """Training rows and validation rows are kept apart: a validation part made of other
    classes' rows gives a poor score, which would not happen if it were trained on."""
    trainer = trainer_for(name, data, epochs=3)
    train = np.flatnonzero(data.y_train != 2)
    val = np.flatnonzero(data.y_train == 2)
    fit = trainer.fit(train, val, Penalty(), epochs=3, seed=0)
    assert accuracy(trainer.predict_logits(fit.model, data.x_train[val]), data.y_train[val]) < 0.2
    trainer.release()


@pytest.mark.parametrize("name", BACKENDS)
def test_divergence_is_reported_not_raised(name, data):
    trainer = trainer_for(name, data, lr=1e30)
    fit = trainer.fit(np.arange(240), np.arange(240, 300), Penalty(l2=1e-2), epochs=3, seed=0)
    assert fit.diverged is not None and "loss became" in fit.diverged
    trainer.release()


@pytest.mark.parametrize("name", BACKENDS)
def test_saved_model_reloads_without_unpickling(name, data, tmp_path):
    trainer = trainer_for(name, data)
    fit = trainer.fit(np.arange(300), None, Penalty(l1=1e-4), epochs=2, seed=0)
    assert fit.best_epoch == 2 and set(fit.history) == {"loss", "accuracy", "penalty"}
    expected = trainer.predict_logits(fit.model, data.x_test)
    path = trainer.save(fit.model, tmp_path / "model")
    if name == "torch":
        import torch

        from regsearch.backends.torch import build_mlp

        saved = torch.load(path, weights_only=True)
        model = build_mlp(
            saved["architecture"]["n_features"],
            tuple(saved["architecture"]["hidden"]),
            saved["architecture"]["n_classes"],
        )
        model.load_state_dict(saved["state_dict"])
    else:
        import keras

        model = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(trainer.predict_logits(model, data.x_test), expected, rtol=1e-6)
    trainer.release()


def test_fold_parallel_training_matches_training_the_folds_one_by_one(data):
    """torch's ``fit_folds``: the same initial weights and batch order per fold as ``fit``, each
    model on its own rows, early stopping per fold; only float rounding may differ."""
    trainer = trainer_for("torch", data, epochs=6, patience=1)
    rng = np.random.default_rng(0)
    order = rng.permutation(300)
    folds = [(np.setdiff1d(order, part), part) for part in np.array_split(order, 3)]
    penalty = Penalty(l1=1e-4, l2=1e-3)
    alone = [trainer.fit(tr, va, penalty, 6, seed) for seed, (tr, va) in enumerate(folds)]
    batched = trainer.fit_folds(folds, penalty, 6, seeds=[0, 1, 2])
    for one, many, (_, va) in zip(alone, batched, folds, strict=True):
        assert many.diverged is None and many.best_epoch == one.best_epoch
        assert set(many.history) == set(one.history)
        for key, values in one.history.items():
            assert many.history[key] == pytest.approx(values, rel=1e-3, abs=1e-4), key
        np.testing.assert_allclose(
            trainer.predict_logits(many.model, data.x_train[va]),
            trainer.predict_logits(one.model, data.x_train[va]),
            rtol=1e-3,
            atol=1e-3,
        )


def test_fold_parallel_models_see_only_their_own_rows(data):
    trainer = trainer_for("torch", data, epochs=3)
    others = np.flatnonzero(data.y_train != 2)
    folds = [(others, np.flatnonzero(data.y_train == 2)), (np.arange(200), np.arange(200, 300))]
    fits = trainer.fit_folds(folds, Penalty(), 3, seeds=[0, 1])
    first = trainer.predict_logits(fits[0].model, data.x_train[folds[0][1]])
    assert accuracy(first, data.y_train[folds[0][1]]) < 0.2  # class 2 never seen by model 0
    second = trainer.predict_logits(fits[1].model, data.x_train[folds[1][1]])
    assert accuracy(second, data.y_train[folds[1][1]]) > 0.7  # model 1 learnt all classes


def test_fold_parallel_divergence_is_reported_for_the_first_fold_it_hits(data):
    trainer = trainer_for("torch", data, lr=1e30)
    folds = [(np.arange(200), np.arange(200, 300)), (np.arange(100, 300), np.arange(100))]
    fits = trainer.fit_folds(folds, Penalty(l2=1e-2), 3, seeds=[0, 1])
    assert fits[0].diverged is not None and "loss became" in fits[0].diverged
