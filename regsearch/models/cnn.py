"""The built-in convolutional network for images, the model after the tutorial's MLP::

    Conv 3x3, 32 filters, same padding, ReLU -> MaxPool 2x2
    Conv 3x3, 64 filters, same padding, ReLU -> MaxPool 2x2
    Flatten -> Dense 128 ReLU -> Dense n_classes (logits)

"Same" padding keeps small images usable (8x8 digits: 8 -> 4 -> 2). Kernels are Glorot-uniform
and biases zero in both frameworks (Keras' defaults, set explicitly in PyTorch). On MNIST it has
421,642 trainable parameters, 421,408 of them in the four penalized kernels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regsearch.errors import ModelError, param

FILTERS = (32, 64)
DENSE = 128


@dataclass(frozen=True)
class CNN:
    """``CNN(framework)(input_shape, n_classes)``: a fresh CNN of the layers above, for images
    ``(H, W, C)`` (Keras) or ``(C, H, W)`` (PyTorch)."""

    framework: str

    def __call__(self, input_shape: tuple[int, ...], n_classes: int) -> Any:
        if len(input_shape) != 3:
            raise ModelError(
                f"{param('model')} cnn needs images, (H, W, C) per example, but the data's "
                f"examples are shaped {tuple(input_shape)}. Use {param('model')} mlp for "
                "tabular features, or give images as (N, H, W) or (N, H, W, C) arrays."
            )
        if self.framework == "tf":
            return keras_cnn(input_shape, n_classes)
        return torch_cnn(input_shape, n_classes)


def torch_cnn(input_shape: tuple[int, ...], n_classes: int) -> Any:
    """An ``nn.Sequential`` taking ``(N, C, H, W)``."""
    from torch import nn

    channels, height, width = (int(d) for d in input_shape)
    size = (height // 4) * (width // 4)
    model = nn.Sequential(
        nn.Conv2d(channels, FILTERS[0], 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(FILTERS[0], FILTERS[1], 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(FILTERS[1] * size, DENSE),
        nn.ReLU(),
        nn.Linear(DENSE, n_classes),
    )
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)  # type: ignore[arg-type]
    return model


def keras_cnn(input_shape: tuple[int, ...], n_classes: int) -> Any:
    """A ``keras.Sequential`` taking ``(N, H, W, C)``."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=tuple(input_shape)),
            keras.layers.Conv2D(FILTERS[0], 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(FILTERS[1], 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(DENSE, activation="relu"),
            keras.layers.Dense(n_classes),
        ]
    )
