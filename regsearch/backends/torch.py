"""PyTorch backend: a tensor-indexed training loop for any ``nn.Module`` returning logits (or
probabilities, see :data:`regsearch.models.summary.OUTPUTS`). Images reach the model as
``(N, C, H, W)``.

The penalty is the explicit Keras ``L1L2`` term, added to each batch's mean cross-entropy::

    loss = mean(CE) + l1 * sum(|W|) + l2 * sum(W^2)    # W: every trainable weight of 2+ dims

with Adam's ``weight_decay=0``: PyTorch's ``weight_decay`` is not this penalty (under Adam it is
no L2 penalty at all, and under SGD it equals ``(wd/2) * sum W^2``). The penalized weights are
the trainable tensors of two or more dimensions (see :mod:`regsearch.backends.torch_model`).
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from regsearch.backends.base import EpochHook, EpochLogs, Fit, FoldParallel, ModelFactory
from regsearch.backends.loop import train_epochs
from regsearch.backends.torch_model import (
    Scaled,
    channels_first,
    materialised,
    penalized_parameters,
    scaled,
    summarize,
    torch_input_shape,
)
from regsearch.config import TrainSettings
from regsearch.data.scaling import fit_scaling
from regsearch.errors import BackendUnavailable, param
from regsearch.models import architecture
from regsearch.models.summary import ModelSummary
from regsearch.penalty import Penalty

_EVAL_CHUNK = {"cpu": 256, "cuda": 8192}
"""Rows per forward pass when predicting (results do not depend on it). On the CPU, small
chunks keep a CNN's activations in cache: validating 2,400 MNIST images with the built-in CNN
took 0.28 s in chunks of 256 against 0.65 s in chunks of 8,192 (the MLP: 5.6 ms against
4.1 ms); on a GPU, large chunks mean fewer launches."""


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
    """Adam without weight decay (the penalty is explicit), as one fused kernel per step
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


class TorchTrainer:
    """Holds the training rows as tensors on its device (moved there once) and trains fresh
    models on them; with a ``scaling`` method, each model is :class:`Scaled` by a scaling
    fitted on its own training rows."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        settings: TrainSettings,
        model: ModelFactory,
        device: str = "cpu",
        scaling: str = "none",
    ):
        self.torch_device = resolve_device(device)
        self.device = describe_device(self.torch_device)
        self.x_np = np.ascontiguousarray(x, dtype=np.float32)  # the dataset's layout
        cpu_x = torch.from_numpy(channels_first(x))  # the model's layout
        self.y_np = np.ascontiguousarray(y, dtype=np.int64)
        self.x = cpu_x.to(self.torch_device)
        self.y = torch.from_numpy(self.y_np).to(self.torch_device)
        self.n_classes = n_classes
        self.settings = settings
        self.model_factory = model
        self.input_shape = torch_input_shape(tuple(int(d) for d in x.shape[1:]))
        self.scaling = scaling
        # The contract is checked on the CPU, on a sample scaled as training will scale it.
        whole = fit_scaling(scaling, self.x_np)
        sample = torch.from_numpy(channels_first(whole.apply(x[:8]) if whole else x[:8]))
        seed_everything(0)
        self.model_summary: ModelSummary = summarize(model, self.input_shape, n_classes, sample)
        self.outputs = self.model_summary.outputs
        from regsearch.backends.torch_folds import fold_parallel_for

        self.fold_parallel: FoldParallel | None
        self.fold_parallel, self.fold_parallel_reason = fold_parallel_for(self)

    def new_model(self, seed: int, train_idx: np.ndarray | None = None) -> nn.Module:
        """A fresh model from the factory, after seeding every random generator with
        ``seed``; lazy layers are materialised on one training example. With ``train_idx``,
        it is :class:`Scaled` by the trainer's scaling fitted on those rows only."""
        seed_everything(seed)
        model = self.model_factory(self.input_shape, self.n_classes).to(self.torch_device)
        model = materialised(model, self.x[:1])
        if train_idx is None:
            return model
        return scaled(model, fit_scaling(self.scaling, self.x_np[train_idx])).to(self.torch_device)

    def logits(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The model's logits for ``x`` (in the model's layout)."""
        return as_logits(model(x), self.outputs)

    def fit(
        self,
        train_idx: np.ndarray,
        val_idx: np.ndarray | None,
        penalty: Penalty,
        epochs: int,
        seed: int,
        on_epoch: EpochHook | None = None,
        on_epoch_end: EpochLogs | None = None,
    ) -> Fit:
        model = self.new_model(seed, train_idx)
        optimizer = adam(model.parameters(), self.settings.lr)
        generator = torch.Generator().manual_seed(seed)  # on the CPU: the same order anywhere
        rows = torch.from_numpy(np.asarray(train_idx, dtype=np.int64)).to(self.torch_device)
        x_train, y_train = self.x[rows], self.y[rows]
        n, batch = len(rows), self.settings.batch_size

        def train_epoch(epoch: int) -> tuple[float, float]:
            model.train()
            order = torch.randperm(n, generator=generator).to(self.torch_device)
            # Sums stay on the device: no synchronisation per batch.
            loss_sum = torch.zeros((), dtype=torch.float64, device=self.torch_device)
            correct = torch.zeros((), dtype=torch.int64, device=self.torch_device)
            for begin in range(0, n, batch):
                batch_rows = order[begin : begin + batch]
                xb, yb = x_train[batch_rows], y_train[batch_rows]
                logits = self.logits(model, xb)
                loss = penalized_loss(logits, yb, model, penalty)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                loss_sum += loss.detach() * len(batch_rows)
                correct += (logits.detach().argmax(1) == yb).sum()
            return float(loss_sum) / n, float(correct) / n

        validation = None if val_idx is None else (self.x_np[val_idx], self.y_np[val_idx])
        return train_epochs(
            self,
            model,
            penalty,
            validation,
            epochs,
            self.settings.patience,
            train_epoch,
            snapshot=lambda: copy.deepcopy(model.state_dict()),
            restore=model.load_state_dict,
            on_epoch=on_epoch,
            on_epoch_end=on_epoch_end,
        )

    @torch.no_grad()
    def predict_logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        """Logits for ``x`` in the dataset's layout (images channels last)."""
        model.eval()
        xt = torch.from_numpy(channels_first(x))
        chunk = _EVAL_CHUNK.get(self.torch_device.type, _EVAL_CHUNK["cpu"])
        chunks = [
            self.logits(model, xt[b : b + chunk].to(self.torch_device))
            for b in range(0, len(xt), chunk)
        ]
        return torch.cat(chunks).float().cpu().numpy()

    def kernels(self, model: Any) -> list[np.ndarray]:
        return [keras_layout(w) for w in penalized_weights(model)]

    def save(self, model: Any, path: Path) -> Path:
        """Save ``{"state_dict", "architecture", "scaling"}`` as ``.pt``.

        ``regsearch.load_model(path)`` rebuilds it, scaling included, ready for raw rows.
        By hand: ``torch.load(path, weights_only=True)`` (nothing in it needs unpickling),
        rebuild the model from ``architecture`` (see :func:`regsearch.models.architecture`),
        ``load_state_dict``, and feed it ``(x - shift) / scale`` with ``scaling``'s tensors
        (``None``: no scaling).
        """
        path = path.with_suffix(".pt")
        scaling = None
        if isinstance(model, Scaled):
            scaling = {
                "method": self.scaling,
                "shift": model.shift.cpu(),
                "scale": model.scale.cpu(),
            }
            model = model.model
        torch.save(
            {
                # On the CPU, so that it loads on a machine without a GPU.
                "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
                "architecture": architecture(
                    self.model_factory, self.input_shape, self.n_classes, self.outputs
                ),
                "scaling": scaling,
            },
            path,
        )
        return path


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


class TorchBackend:
    name = "torch"

    def trainer(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        settings: TrainSettings,
        model: ModelFactory,
        device: str = "cpu",
        scaling: str = "none",
    ) -> TorchTrainer:
        flush_denormals()
        return TorchTrainer(x, y, n_classes, settings, model, device, scaling)

    def versions(self) -> dict[str, str]:
        return {"torch": torch.__version__}

    def use_threads(self, threads: int | None) -> str:
        if threads is None:
            return f"{torch.get_num_threads()} intra-op thread(s) (PyTorch's default)"
        torch.set_num_threads(threads)
        return f"{torch.get_num_threads()} intra-op thread(s)"

    def download_mnist(self, data_dir: Path) -> str:
        """torchvision's MNIST loader, which writes ``data_dir/MNIST/raw``."""
        from torchvision.datasets import MNIST

        for train in (True, False):
            MNIST(root=str(data_dir), train=train, download=True)
        return f"Downloaded MNIST with torchvision to {Path(data_dir) / 'MNIST' / 'raw'}."


BACKEND = TorchBackend()
