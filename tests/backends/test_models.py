"""A user's model in each backend: which weights are penalized, the channel order, softmax
outputs, lazy layers, and each way a model can break the contract (refused with its name)."""

from __future__ import annotations

import numpy as np
import pytest

from regsearch.backends import get_backend
from regsearch.config import TrainSettings
from regsearch.errors import ModelError
from regsearch.models import UserModel
from regsearch.penalty import Penalty
from regsearch.testing import synthetic_dataset

SETTINGS = TrainSettings(epochs=2, batch_size=16, lr=1e-2)


def images(n=48, shape=(6, 5, 2), n_classes=3, seed=0):
    """Channels-last images whose class is the brightness of channel 1 (channel 0 is noise)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, *shape)).astype(np.float32)
    y = (np.arange(n) % n_classes).astype(np.int64)
    x[..., 1] = (y[:, None, None] + 0.5) / n_classes
    return x, y


def trainer(backend, build, x=None, y=None, n_classes=3, spec="user.py:build"):
    if x is None:
        x, y = images(n_classes=n_classes)
    return get_backend(backend).trainer(x, y, n_classes, SETTINGS, UserModel(spec, build))


# The penalized weights: one rule in both frameworks.


def torch_zoo(input_shape, n_classes):
    from torch import nn

    class Zoo(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(input_shape[0], 4, 3, padding=1)
            self.norm = nn.BatchNorm2d(4)
            self.embed = nn.Embedding(5, 3)  # a table, indexed by a constant here
            self.lazy = nn.LazyLinear(6)
            self.out = nn.Linear(6 + 3, n_classes)

        def forward(self, x):
            import torch

            h = self.norm(self.conv(x)).relu().flatten(1)
            table = self.embed(torch.zeros(len(x), dtype=torch.long))
            return self.out(torch.cat([self.lazy(h).relu(), table], 1))

    return Zoo()


def keras_zoo(input_shape, n_classes):
    import keras

    inputs = keras.Input(shape=input_shape)
    h = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    h = keras.layers.BatchNormalization(name="norm")(h)
    h = keras.layers.Dense(6, name="lazy")(keras.layers.Flatten()(h))
    table = keras.layers.Embedding(5, 3, name="embed")(keras.ops.zeros_like(h[:, :1], "int32"))
    h = keras.layers.Concatenate()([h, keras.layers.Flatten()(table)])
    return keras.Model(inputs, keras.layers.Dense(n_classes, name="out")(h))


def test_torch_penalizes_every_trainable_weight_of_two_or_more_dimensions():
    summary = trainer("torch", torch_zoo).model_summary
    names = {w.name: w.shape for w in summary.penalized}
    assert names == {
        "conv.weight": (4, 2, 3, 3),
        "embed.weight": (5, 3),
        "lazy.weight": (6, 4 * 6 * 5),  # the lazy layer, materialised on a sample
        "out.weight": (3, 9),
    }
    assert {w.name for w in summary.not_penalized} == {
        "conv.bias",
        "norm.weight",
        "norm.bias",
        "lazy.bias",
        "out.bias",
    }
    assert summary.trainable_parameters == 4 * 18 + 4 + 8 + 15 + 6 * 121 + 27 + 3


def test_keras_penalizes_the_same_kinds_of_weights():
    summary = trainer("tf", keras_zoo).model_summary
    kinds = sorted(w.name.rsplit("/", 1)[-1] for w in summary.penalized)
    assert kinds == ["embeddings", "kernel", "kernel", "kernel"]
    assert sorted(w.name.rsplit("/", 1)[-1] for w in summary.not_penalized) == [
        "beta",
        "bias",
        "bias",
        "bias",
        "gamma",
    ]
    assert summary.input_shape == (6, 5, 2) and summary.outputs == "logits"


def test_the_penalty_covers_exactly_the_listed_weights():
    import torch

    from regsearch.backends.torch_ops import penalty_term

    t = trainer("torch", torch_zoo)
    model = t.new_model(0)
    listed = [
        p for n, p in model.named_parameters() if n in {w.name for w in t.model_summary.penalized}
    ]
    expected = sum(float(p.detach().square().sum()) for p in listed)
    assert float(penalty_term(model, Penalty(l2=1.0))) == pytest.approx(expected, rel=1e-6)
    assert len(t.kernels(model)) == 4 and t.kernels(model)[0].shape == (3, 3, 2, 4)
    assert isinstance(model.lazy.weight, torch.nn.Parameter)


# Channel order: channels last in the data, channels first for PyTorch.


def test_torch_gets_channels_first_and_keras_channels_last():
    seen = {}

    def torch_probe(input_shape, n_classes):
        from torch import nn

        seen["torch"] = input_shape
        return nn.Sequential(
            nn.Conv2d(input_shape[0], 3, (input_shape[1], input_shape[2])), nn.Flatten()
        )

    def keras_probe(input_shape, n_classes):
        import keras

        seen["tf"] = input_shape
        return keras.Sequential(
            [keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(n_classes)]
        )

    x, y = images()
    t = trainer("torch", torch_probe, x, y)
    assert seen["torch"] == (2, 6, 5) and tuple(t.x.shape) == (48, 2, 6, 5)
    np.testing.assert_array_equal(t.x.numpy(), x.transpose(0, 3, 1, 2))
    model = t.new_model(0)
    import torch

    with torch.no_grad():
        direct = model(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    np.testing.assert_allclose(t.predict_logits(model, x), direct, rtol=1e-6)
    trainer("tf", keras_probe, x, y)
    assert seen["tf"] == (6, 5, 2)


@pytest.mark.parametrize("backend", ["torch", "tf"])
def test_a_user_model_learns_from_images(backend):
    build = torch_zoo if backend == "torch" else keras_zoo
    x, y = images(n=96)
    t = trainer(backend, build, x, y)
    # 40 epochs of 5 steps: Keras' batch norm (momentum 0.99) needs ~100 steps before its
    # moving statistics, used to predict, catch up with the batches'.
    fit = t.fit(np.arange(72), None, Penalty(l2=1e-4), epochs=40, seed=0)
    assert fit.diverged is None
    assert np.mean(t.predict_logits(fit.model, x[72:]).argmax(1) == y[72:]) > 0.6


# Softmax outputs are detected and trained on their log.


def keras_softmax(input_shape, n_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )


def torch_softmax(input_shape, n_classes):
    from torch import nn

    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(int(np.prod(input_shape)), 8),
        nn.ReLU(),
        nn.Linear(8, n_classes),
        nn.Softmax(dim=1),
    )


@pytest.mark.parametrize(("backend", "build"), [("tf", keras_softmax), ("torch", torch_softmax)])
def test_softmax_outputs_are_detected_and_train_like_logits(backend, build):
    data = synthetic_dataset(n_train=300)
    t = trainer(backend, build, data.x_train, data.y_train)
    assert t.model_summary.outputs == "probabilities"
    fit = t.fit(np.arange(240), np.arange(240, 300), Penalty(), epochs=6, seed=0)
    logits = t.predict_logits(fit.model, data.x_train[240:])
    # The log of probabilities: each row's exponentials sum to 1.
    np.testing.assert_allclose(np.exp(logits).sum(1), 1.0, rtol=1e-4)
    assert np.mean(logits.argmax(1) == data.y_train[240:]) > 0.6  # chance: 1/3
    assert min(fit.history["val_loss"]) < 0.6  # the real cross-entropy, not of log(log p)


# Each broken contract is refused before anything trains, naming the model.


def torch_raises(input_shape, n_classes):
    raise ValueError("hidden size must be even")


def torch_returns_none(input_shape, n_classes):
    return None


def torch_wrong_width(input_shape, n_classes):
    from torch import nn

    return nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(input_shape)), n_classes + 1))


def torch_rejects_images(input_shape, n_classes):
    from torch import nn

    return nn.Sequential(nn.Linear(7, n_classes))  # expects 7 features, gets images


def torch_nothing_to_penalize(input_shape, n_classes):
    import torch
    from torch import nn

    class Shift(nn.Module):
        def __init__(self):
            super().__init__()
            self.shift = nn.Parameter(torch.zeros(n_classes))

        def forward(self, x):
            return x.flatten(1)[:, :n_classes] + self.shift

    return Shift()


def shared_layer():
    from torch import nn

    layer = nn.Linear(60, 3)
    return lambda input_shape, n_classes: nn.Sequential(nn.Flatten(), layer)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            torch_raises,
            r"build\(\(2, 6, 5\), 3\) raised ValueError: hidden size must be even "
            r"\(at .*test_models.py:\d+\)",
        ),
        (
            torch_returns_none,
            r"returned builtins.NoneType, but must return a new torch.nn.modules.module.Module",
        ),
        (
            torch_wrong_width,
            r"has shape \(8, 4\), but must be one score per class, shaped \(8, 3\)",
        ),
        (
            torch_rejects_images,
            r"calling the model on a batch shaped \(8, 2, 6, 5\) raised RuntimeError",
        ),
        (torch_nothing_to_penalize, "has no weight to penalize"),
        (shared_layer(), "returned models that share weights"),
    ],
    ids=["raises", "none", "width", "input", "no-weights", "shared"],
)
def test_a_broken_torch_model_is_refused_with_its_name(build, message):
    with pytest.raises(ModelError, match=message) as caught:
        trainer("torch", build, spec="nets/mine.py:build")
    assert str(caught.value).startswith("model nets/mine.py:build: ")


def test_a_model_of_the_other_framework_is_refused():
    with pytest.raises(ModelError, match="must return a new keras.src.models.model.Model"):
        trainer("tf", torch_wrong_width)
    with pytest.raises(ModelError, match="for a Keras model use backend tf"):
        trainer("torch", keras_softmax)


def test_the_cnn_refuses_tabular_features():
    data = synthetic_dataset()
    from regsearch.models import CNN

    with pytest.raises(
        ModelError,
        match=r"cnn needs images, \(H, W, C\) per example, but the data's examples are "
        r"shaped \(8,\)",
    ):
        get_backend("torch").trainer(data.x_train, data.y_train, 3, SETTINGS, CNN("torch"))


def keras_subclassed(input_shape, n_classes):
    """A subclassed Keras model: its weights appear on the first call."""
    import keras

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(8, activation="relu")
            self.out = keras.layers.Dense(n_classes)

        def call(self, x):
            return self.out(self.hidden(keras.ops.reshape(x, (-1, 8))))

    return Net()


def test_a_subclassed_keras_model_is_built_on_a_sample_and_trains(tmp_path):
    data = synthetic_dataset(n_train=120)
    t = trainer("tf", keras_subclassed, data.x_train, data.y_train)
    assert [w.shape for w in t.model_summary.penalized] == [(8, 8), (8, 3)]
    fit = t.fit(np.arange(120), None, Penalty(l2=1e-3), epochs=3, seed=0)
    assert fit.diverged is None and fit.history["loss"][-1] < fit.history["loss"][0]
    assert t.save(fit.model, tmp_path / "net").is_file()  # as Keras saves such a model
