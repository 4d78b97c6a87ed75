"""A user's own PyTorch CNN, written as in PyTorch's tutorials: batch normalization, and a lazy
layer that finds its input size on the first call. Used as
``--backend torch --model tests/user_models/torch_cnn.py:build``."""

from torch import nn


def build(input_shape, n_classes):
    """``input_shape`` is ``(C, H, W)``; returns logits."""
    channels, _, _ = input_shape
    return nn.Sequential(
        nn.Conv2d(channels, 16, kernel_size=3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.LazyLinear(64),
        nn.ReLU(),
        nn.Linear(64, n_classes),
    )
