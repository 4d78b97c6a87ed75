"""The decoupled weight decay equals each framework's own AdamW: one epoch of the trainer from a
given seed against the same epoch written with ``torch.optim.AdamW`` / ``keras.optimizers.AdamW``
(decay on the weights of two or more dimensions only, as their parameter groups /
``exclude_from_weight_decay`` select them)."""

from __future__ import annotations

import numpy as np
import pytest

from regsearch.backends import get_backend
from regsearch.config import TrainSettings
from regsearch.models import model_factory
from regsearch.penalty import Penalty
from regsearch.testing import synthetic_dataset

LR, DECAY, SEED = 1e-2, 0.5, 3


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(n_train=200, n_test=30)


def _trainer(name, data):
    settings = TrainSettings(epochs=1, batch_size=32, lr=LR, hidden=(16,))
    factory = model_factory("mlp", name, settings.hidden)
    return get_backend(name).trainer(data.x_train, data.y_train, data.n_classes, settings, factory)


def test_torch_weight_decay_is_torch_adamw(data):
    import torch
    from torch.nn import functional as F

    trainer = _trainer("torch", data)
    rows = np.arange(len(data.x_train))
    fit = trainer.fit(rows, None, Penalty(weight_decay=DECAY), epochs=1, seed=SEED)

    model = trainer.new_model(SEED, rows)
    decayed = [p for p in model.parameters() if p.ndim >= 2]
    kept = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": DECAY}, {"params": kept, "weight_decay": 0.0}], lr=LR
    )
    order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(SEED))
    x, y = trainer.x[order], trainer.y[order]
    for begin in range(0, len(rows), 32):
        optimizer.zero_grad()
        F.cross_entropy(model(x[begin : begin + 32]), y[begin : begin + 32]).backward()
        optimizer.step()

    ours = dict(fit.model.named_parameters())
    for name, theirs in model.named_parameters():
        np.testing.assert_allclose(
            ours[name].detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6
        )
    # Not vacuous: the decay moved the weights away from plain Adam's.
    plain = trainer.fit(rows, None, Penalty(), epochs=1, seed=SEED).model
    shrunk = sum(float(p.detach().abs().sum()) for p in decayed)
    assert shrunk < sum(float(p.detach().abs().sum()) for p in plain.parameters() if p.ndim >= 2)


def test_keras_weight_decay_is_keras_adamw(data):
    from regsearch.backends.keras_runtime import keras, tf

    trainer = _trainer("tf", data)
    rows = np.arange(len(data.x_train))
    fit = trainer.fit(rows, None, Penalty(weight_decay=DECAY), epochs=1, seed=SEED)
    ours = [np.array(w) for w in fit.model.get_weights()]

    keras.utils.set_random_seed(SEED)
    model = trainer.new_model()
    optimizer = keras.optimizers.AdamW(learning_rate=LR, weight_decay=DECAY)
    optimizer.exclude_from_weight_decay(
        var_list=[v for v in model.trainable_variables if len(v.shape) < 2]
    )
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    order = np.random.default_rng(SEED).permutation(rows)
    for begin in range(0, len(rows), 32):
        batch = order[begin : begin + 32]
        with tf.GradientTape() as tape:
            loss = loss_fn(data.y_train[batch], model(data.x_train[batch], training=True))
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))

    for mine, theirs in zip(ours, model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    plain = trainer.fit(rows, None, Penalty(), epochs=1, seed=SEED).model
    assert sum(np.abs(w).sum() for w in ours if w.ndim >= 2) < sum(
        np.abs(w).sum() for w in plain.get_weights() if w.ndim >= 2
    )


def test_torch_adam_weight_decay_is_not_decoupled():
    """The trap the docs name: ``torch.optim.Adam(weight_decay=x)`` adds ``x * W`` to the
    gradient (an L2 term, lambda = x / 2), which Adam rescales; AdamW shrinks W itself."""
    import torch

    def step(optimizer_class):
        w = torch.nn.Parameter(torch.tensor([[1.0, -2.0]]))
        optimizer = optimizer_class([w], lr=0.1, weight_decay=0.5)
        w.grad = torch.tensor([[0.3, 0.3]])
        optimizer.step()
        return w.detach().numpy()

    adamw, adam = step(torch.optim.AdamW), step(torch.optim.Adam)
    # AdamW: W * (1 - 0.1 * 0.5) - 0.1 * sign(g) on the first step.
    np.testing.assert_allclose(adamw, [[0.95 - 0.1, -1.9 - 0.1]], rtol=1e-5)
    assert not np.allclose(adam, adamw)


def test_a_keras_model_that_regularizes_itself_is_refused_naming_the_layer(data):
    from regsearch.backends.keras_runtime import keras
    from regsearch.errors import ModelError

    def build(input_shape, n_classes):
        return keras.Sequential(
            [
                keras.Input(input_shape),
                keras.layers.Flatten(),
                keras.layers.Dense(8, activation="relu", name="hidden"),
                keras.layers.Dense(
                    n_classes, kernel_regularizer=keras.regularizers.L2(1e-3), name="logits"
                ),
            ]
        )

    settings = TrainSettings(epochs=1, batch_size=32)
    with pytest.raises(ModelError, match=r"logits\.kernel_regularizer=L2") as info:
        get_backend("tf").trainer(data.x_train, data.y_train, data.n_classes, settings, build)
    assert "hidden" not in str(info.value)


def test_torch_and_keras_trainers_decay_alike_from_the_same_weights(data):
    """The same formula in both trainers: from the same weights, three full-batch steps (so
    the batch order cannot differ) with decay end at the same weights, and away from plain
    Adam's (the parity test of the L1/L2 loss, for the decay)."""
    import torch

    rng = np.random.default_rng(7)
    # Dense inputs: no weight with a near-zero gradient, where the frameworks' Adam epsilons
    # (1e-8 in PyTorch, 1e-7 in Keras, added at different places) would decide the step;
    # they still differ by up to 1.3e-4 here, with or without decay.
    x = rng.normal(size=(200, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    shapes = [(8, 16), (16, 3)]
    start = [(rng.normal(0, 0.3, s).astype(np.float32), rng.normal(0, 0.1, s[1])) for s in shapes]
    start = [(w, b.astype(np.float32)) for w, b in start]
    rows = np.arange(len(x))
    settings = TrainSettings(epochs=3, batch_size=len(rows), lr=LR, hidden=(16,))

    def torch_weights(penalty):
        trainer = get_backend("torch").trainer(
            x, y, 3, settings, model_factory("mlp", "torch", (16,))
        )
        model = trainer.new_model(0)
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            for layer, (w, b) in zip(linears, start, strict=True):
                layer.weight.copy_(torch.from_numpy(w.T))
                layer.bias.copy_(torch.from_numpy(b))
        trainer.new_model = lambda seed, train_idx=None: model  # type: ignore[method-assign]
        fitted = trainer.fit(rows, None, penalty, epochs=3, seed=0).model
        layers = [m for m in fitted.modules() if isinstance(m, torch.nn.Linear)]
        return [a for m in layers for a in (m.weight.detach().numpy().T, m.bias.detach().numpy())]

    def keras_weights(penalty):
        trainer = get_backend("tf").trainer(x, y, 3, settings, model_factory("mlp", "tf", (16,)))
        model = trainer.new_model()
        model.set_weights([a for pair in start for a in pair])
        trainer.new_model = lambda: model  # type: ignore[method-assign]
        return [
            np.array(w)
            for w in trainer.fit(rows, None, penalty, epochs=3, seed=0).model.get_weights()
        ]

    decay = Penalty(weight_decay=DECAY)
    decayed = torch_weights(decay)
    for ours, theirs in zip(decayed, keras_weights(decay), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=3e-4)
    # Not vacuous: the decay itself moves the kernels by far more than that tolerance.
    for index in (0, 2):
        assert np.abs(decayed[index] - torch_weights(Penalty())[index]).max() > 3e-3
