"""The PyTorch pieces both training paths share (one model at a time, and a trial's folds at
once): the explicit penalty and the loss, the decoupled weight decay, logits from a model's
outputs, Adam, seeding, the device, and the Keras layout of a weight.

The penalty is the explicit Keras ``L1L2`` term, added to each batch's mean cross-entropy::

    loss = mean(CE) + l1 * sum(|W|) + l2 * sum(W^2)    # W: every trainable weight of 2+ dims

with Adam's ``weight_decay=0``: PyTorch's ``weight_decay`` is not this penalty (under Adam it is
no L2 penalty at all, and under SGD it equals ``(wd/2) * sum W^2``). The penalized weights are
the trainable tensors of two or more dimensions (see :mod:`regsearch.backends.torch_model`).
The decoupled weight decay shrinks the same tensors before each Adam step, as
``torch.optim.AdamW`` (:func:`decay_weights`).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from regsearch.backends.torch_model import penalized_parameters
from regsearch.errors import BackendUnavailable, param
from regsearch.penalty import Penalty


def penalized_weights(model: nn.Module) -> list[torch.Tensor]:
    """The trainable tensors of two or more dimensions, in ``model.parameters()`` order."""
    return [p for _, p in penalized_parameters(model)]


def as_logits(outputs: torch.Tensor, kind: str) -> torch.Tensor:
    """Logits from a model's outputs: themselves, or the log of probabilities clipped to
    ``[1e-7, 1 - 1e-7]`` (Keras' clipping), whose cross-entropy is the probabilities'."""
    if kind == "logits":
        return outputs
    return outputs.clamp(1e-7, 1 - 1e-7).log()


def weights_penalty(
    weights: list[torch.Tensor], penalty: Penalty, stacked: bool = False
) -> torch.Tensor:
    """``l1 * sum|W| + l2 * sum W^2`` over ``weights``: a scalar, or with ``stacked`` (a leading
    model dimension, as in ``fit_folds``) one value per model."""
    total = torch.zeros(weights[0].shape[:1] if stacked else (), device=weights[0].device)
    for w in weights:
        dims = tuple(range(1 if stacked else 0, w.ndim))
        if penalty.l1:
            total = total + penalty.l1 * w.abs().sum(dims)
        if penalty.l2:
            total = total + penalty.l2 * w.square().sum(dims)
    return total


def population_penalty(
    weights: list[torch.Tensor], l1: torch.Tensor | None, l2: torch.Tensor | None
) -> torch.Tensor:
    """``l1[m] * sum|W_m| + l2[m] * sum W_m^2`` for each model ``m`` of stacked ``weights``
    (a leading model dimension), one strength per model (``None``: zero for every model):
    shape ``(M,)``. A model's zero strength adds exactly zero, as the single-model
    :func:`weights_penalty` that leaves its term out."""
    total = torch.zeros(weights[0].shape[:1], device=weights[0].device)
    for w in weights:
        dims = tuple(range(1, w.ndim))
        if l1 is not None:
            total = total + l1 * w.abs().sum(dims)
        if l2 is not None:
            total = total + l2 * w.square().sum(dims)
    return total


def penalty_term(model: nn.Module, penalty: Penalty) -> torch.Tensor:
    """``l1 * sum|W| + l2 * sum W^2`` over the model's :func:`penalized_weights`."""
    return weights_penalty(penalized_weights(model), penalty)


def penalized_loss(
    logits: torch.Tensor, y: torch.Tensor, model: nn.Module, penalty: Penalty
) -> torch.Tensor:
    """The training loss of one batch: its mean cross-entropy plus the penalty, added once."""
    return F.cross_entropy(logits, y) + penalty_term(model, penalty)


@torch.no_grad()
def decay_weights(
    weights: list[torch.Tensor], lr: float, weight_decay: float | torch.Tensor
) -> None:
    """Decoupled weight decay, in place, as ``torch.optim.AdamW`` applies it before its Adam
    step (and Keras 3 optimizers' ``weight_decay``)::

        W <- W * (1 - lr * weight_decay)

    ``weight_decay``: one value, or a tensor of one value per model for stacked ``weights``
    (a leading model dimension; a zero leaves its model's weights exactly as they were).
    Called between ``backward()`` and ``optimizer.step()``: the step's update comes from the
    gradient and Adam's moments only, so the order is AdamW's."""
    if isinstance(weight_decay, torch.Tensor):
        factors = (1.0 - lr * weight_decay.double()).float()
        for w in weights:
            w.mul_(factors.view(-1, *(1,) * (w.ndim - 1)))
        return
    for w in weights:
        w.mul_(1.0 - lr * weight_decay)


def keras_layout(weight: torch.Tensor) -> np.ndarray:
    """A weight in Keras' layout: ``(out, in)`` -> ``(in, out)``, a convolution kernel
    ``(out, in, h, w)`` -> ``(h, w, in, out)``."""
    order = (*range(2, weight.ndim), 1, 0)
    return weight.detach().permute(*order).cpu().numpy().copy()


def resolve_device(requested: str) -> torch.device:
    """``auto``: the first CUDA GPU when PyTorch sees one, else the CPU; ``cuda`` must exist.

    Raises:
        BackendUnavailable: ``cuda`` without a CUDA GPU visible to PyTorch.
    """
    if requested == "cpu" or (requested == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        build = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise BackendUnavailable(
            f"{param('device')} cuda: PyTorch {torch.__version__} ({build}) sees no CUDA GPU "
            f"(torch.cuda.is_available() is False). Use {param('device')} cpu, or "
            f"{param('device')} auto to take a GPU only where there is one."
        )
    return torch.device("cuda", torch.cuda.current_device())


def describe_device(device: torch.device) -> str:
    """``cpu``, or ``cuda:0 (NVIDIA H100 80GB HBM3)``."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def adam(parameters: Any, lr: float) -> torch.optim.Optimizer:
    """Adam without weight decay (the penalty is explicit, the decoupled decay is
    :func:`decay_weights`), as one fused kernel per step
    where this PyTorch has it for the parameters' device: the same update, with fewer passes
    over memory (a population's 20 MLPs: 3.3-3.7 s against 4.3-4.5 s per 2 epochs of 12,000
    images here, measured side by side)."""
    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, lr=lr, weight_decay=0.0, fused=True)
    except (RuntimeError, TypeError):  # an older PyTorch, or a device without it
        return torch.optim.Adam(parameters, lr=lr, weight_decay=0.0)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def flush_denormals() -> bool:
    """Round subnormal floats to zero on the CPU (``torch.set_flush_denormal``), as TensorFlow's
    kernels already do; ``True`` where the CPU supports it (x86 with SSE3).

    A penalty drives the weights of inputs that never vary (MNIST's border pixels) and their
    Adam moments towards zero, into the subnormal range, where each arithmetic operation costs
    tens of times more. Five MLP folds on full MNIST with l2=5.3e-4 slowed from 1.8 s to 5.6 s
    per epoch by epoch 16 and took 74.3 s for 23 epochs; with subnormals flushed, 1.8-2.0 s
    per epoch throughout and 38.8 s, the same epochs trained (``python -m regsearch.bench
    --backend torch --data-dir ../shared/data/mnist --epochs 23 --skip-tutorial --denormals
    5.3e-4``). Values below 1.2e-38 change nothing a penalty or a score can see."""
    return bool(torch.set_flush_denormal(True))
