"""A PyTorch model built and checked for training: fresh from its factory, lazy layers
materialised, the weights the penalty covers named, and the outputs' kind found.

The penalty rule, the one place it lives for PyTorch: every trainable parameter with two or
more dimensions (``Linear`` weights, convolution kernels, ``Embedding`` tables), never biases
or normalization parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from regsearch.data.scaling import Scaling
from regsearch.errors import param
from regsearch.models import spec_of
from regsearch.models.contract import (
    built,
    called,
    check_fresh,
    check_outputs,
    check_penalized,
)
from regsearch.models.summary import ModelSummary, Weight, fingerprint, output_kind

_HINT = (
    f"With {param('backend')} torch the model is a torch.nn.Module; for a Keras model use "
    f"{param('backend')} tf."
)
_SAMPLE = 8  # examples in the sample batch that materialises and checks a model


def penalized_parameters(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """``(name, parameter)`` of every trainable parameter of two or more dimensions, in
    ``named_parameters()`` order."""
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]


def materialised(model: nn.Module, sample: torch.Tensor) -> nn.Module:
    """``model`` with its lazy layers' parameters created, by one forward pass in evaluation
    mode (batch-norm statistics untouched); any other model as it is."""
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters()):
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(sample)
        model.train(was_training)
    return model


def summarize(
    factory: Callable[[tuple[int, ...], int], Any],
    input_shape: tuple[int, ...],
    n_classes: int,
    sample: torch.Tensor,
) -> ModelSummary:
    """Build the model twice and check the contract (see :mod:`regsearch.models.contract`) on
    ``sample``, a batch of training examples in the model's layout.

    Raises:
        ModelError: what is wrong, naming the model.
    """
    spec = spec_of(factory)
    sample = sample[:_SAMPLE]
    model = built(factory, spec, input_shape, n_classes, nn.Module, _HINT)
    model.eval()
    with torch.no_grad():
        outputs = called(spec, lambda: model(sample), tuple(sample.shape))
    if isinstance(outputs, torch.Tensor):
        outputs = outputs.detach().float().numpy()
    values = check_outputs(spec, outputs, len(sample), n_classes)
    again = materialised(built(factory, spec, input_shape, n_classes, nn.Module, _HINT), sample)
    check_fresh(spec, _storages(model), _storages(again))
    penalized = [Weight(n, tuple(p.shape)) for n, p in penalized_parameters(model)]
    check_penalized(spec, len(penalized))
    chosen = {w.name for w in penalized}
    others = [
        Weight(n, tuple(p.shape))
        for n, p in model.named_parameters()
        if p.requires_grad and n not in chosen
    ]
    tensors = [(n, tuple(p.shape), p.requires_grad) for n, p in model.named_parameters()]
    tensors += [(n, tuple(b.shape), False) for n, b in model.named_buffers()]
    layers = [f"{n}:{type(m).__name__}" for n, m in model.named_modules()]
    return ModelSummary(
        spec=spec,
        framework="torch",
        input_shape=tuple(input_shape),
        outputs=output_kind(values),
        penalized=tuple(penalized),
        not_penalized=tuple(others),
        fingerprint=fingerprint(layers, tensors),
    )


def _storages(model: nn.Module) -> set[int]:
    return {p.data_ptr() for p in model.parameters() if p.numel()}


class Scaled(nn.Module):
    """``model((x - shift) / scale)``: a model with its fitted feature scaling built in (see
    :mod:`regsearch.scaling`), so that it takes raw rows. ``shift`` and ``scale`` are buffers
    shaped like one example in the model's layout: saved with the weights, never trained or
    penalized, and stacked per fold by the batched path."""

    def __init__(self, model: nn.Module, shift: torch.Tensor, scale: torch.Tensor):
        super().__init__()
        self.model = model
        self.shift: torch.Tensor
        self.scale: torch.Tensor
        self.register_buffer("shift", shift)
        self.register_buffer("scale", scale)

    def forward(self, x: torch.Tensor) -> Any:
        return self.model((x - self.shift) / self.scale)


def scaled(model: nn.Module, scaling: Scaling | None) -> nn.Module:
    """``model`` with ``scaling`` (fitted in the dataset's layout) built in; ``model`` itself
    for ``None``."""
    if scaling is None:
        return model
    shift, scale = (
        torch.from_numpy(channels_first(v[None]))[0] for v in (scaling.shift, scaling.scale)
    )
    return Scaled(model, shift, scale)


def channels_first(x: np.ndarray) -> np.ndarray:
    """Images ``(N, H, W, C)`` -> ``(N, C, H, W)`` (PyTorch's layout), contiguous float32;
    features ``(N, F)`` as they are."""
    if x.ndim == 4:
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, dtype=np.float32)


def torch_input_shape(example_shape: tuple[int, ...]) -> tuple[int, ...]:
    """One example's shape as a PyTorch model receives it: ``(H, W, C)`` -> ``(C, H, W)``."""
    if len(example_shape) == 3:
        height, width, channels = example_shape
        return (channels, height, width)
    return tuple(example_shape)
