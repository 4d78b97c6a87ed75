"""The tutorial's network: Flatten, Dense ReLU layers of the given widths, then linear logits;
kernels Glorot-uniform and biases zero (Keras' ``Dense`` defaults, set explicitly in PyTorch)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MLP:
    """``MLP(hidden, framework)(input_shape, n_classes)``: a fresh MLP model, which flattens
    each example (an image ``(H, W, C)`` or ``(C, H, W)``, or a row of features) itself.

    Attributes:
        hidden: units of each hidden ReLU layer, e.g. ``(128,)``.
        framework: ``torch`` (an ``nn.Sequential`` of ``Flatten``, ``Linear``, ``ReLU``) or
            ``tf`` (a functional ``keras.Model``).
    """

    hidden: tuple[int, ...]
    framework: str

    def __call__(self, input_shape: tuple[int, ...], n_classes: int) -> Any:
        if self.framework == "tf":
            return keras_mlp(input_shape, self.hidden, n_classes)
        return torch_mlp(input_shape, self.hidden, n_classes)


def torch_mlp(input_shape: tuple[int, ...], hidden: tuple[int, ...], n_classes: int) -> Any:
    """An ``nn.Sequential``: ``Flatten``, then ``Linear``/``ReLU`` layers ending in ``Linear``
    logits."""
    from torch import nn

    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(int(d) for d in input_shape)
    for units in hidden:
        layers += [nn.Linear(width, units), nn.ReLU()]
        width = units
    layers.append(nn.Linear(width, n_classes))
    model = nn.Sequential(*layers)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    return model


def keras_mlp(input_shape: tuple[int, ...], hidden: tuple[int, ...], n_classes: int) -> Any:
    """A functional ``keras.Model``: ``Flatten``, ``Dense`` ReLU layers, then ``Dense``
    logits."""
    # Called by the tf backend, which has imported Keras on TensorFlow (see its module).
    import keras

    inputs = keras.Input(shape=tuple(input_shape))
    h = keras.layers.Flatten()(inputs)
    for units in hidden:
        h = keras.layers.Dense(units, activation="relu")(h)
    return keras.Model(inputs, keras.layers.Dense(n_classes)(h))
