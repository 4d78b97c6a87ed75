"""PyTorch backend: the MLP in plain ``torch.nn`` and a tensor-indexed training loop.

The penalty is the explicit Keras ``L1L2`` term, added to each batch's mean cross-entropy::

    loss = mean(CE) + l1 * sum(|W|) + l2 * sum(W^2)    # W: Linear weights only, not biases

with Adam's ``weight_decay=0``: PyTorch's ``weight_decay`` is not this penalty (under Adam it is
no L2 penalty at all, and under SGD it equals ``(wd/2) * sum W^2``).
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

from regsearch.backends import Fit
from regsearch.backends.loop import train_epochs
from regsearch.config import TrainSettings
from regsearch.penalty import Penalty

_EVAL_CHUNK = 8192  # rows per forward pass when predicting; bounds memory, not results


def build_mlp(n_features: int, hidden: tuple[int, ...], n_classes: int) -> nn.Sequential:
    """Dense ReLU layers then a linear output, initialised as Keras' ``Dense`` does
    (Glorot-uniform kernels, zero biases)."""
    layers: list[nn.Module] = []
    width = n_features
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


def linear_weights(model: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]


def penalty_term(model: nn.Module, penalty: Penalty) -> torch.Tensor:
    """``l1 * sum|W| + l2 * sum W^2`` over the Linear weights (biases excluded)."""
    total = torch.zeros(())
    for w in linear_weights(model):
        if penalty.l1:
            total = total + penalty.l1 * w.abs().sum()
        if penalty.l2:
            total = total + penalty.l2 * w.square().sum()
    return total


def penalized_loss(
    logits: torch.Tensor, y: torch.Tensor, model: nn.Module, penalty: Penalty
) -> torch.Tensor:
    """The training loss of one batch: its mean cross-entropy plus the penalty, added once."""
    return F.cross_entropy(logits, y) + penalty_term(model, penalty)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class TorchTrainer:
    """Holds the training rows as tensors (converted once) and trains fresh models on them."""

    def __init__(self, x: np.ndarray, y: np.ndarray, n_classes: int, settings: TrainSettings):
        self.x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        self.y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        self.n_classes = n_classes
        self.settings = settings

    def new_model(self, seed: int) -> nn.Sequential:
        seed_everything(seed)
        return build_mlp(self.x.shape[1], self.settings.hidden, self.n_classes)

    def fit(
        self,
        train_idx: np.ndarray,
        val_idx: np.ndarray | None,
        penalty: Penalty,
        epochs: int,
        seed: int,
    ) -> Fit:
        model = self.new_model(seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.settings.lr, weight_decay=0.0)
        generator = torch.Generator().manual_seed(seed)
        rows = torch.from_numpy(np.asarray(train_idx, dtype=np.int64))
        x_train, y_train = self.x[rows], self.y[rows]
        n, batch = len(rows), self.settings.batch_size

        def train_epoch(epoch: int) -> tuple[float, float]:
            model.train()
            order = torch.randperm(n, generator=generator)
            loss_sum = torch.zeros((), dtype=torch.float64)
            correct = torch.zeros((), dtype=torch.int64)
            for begin in range(0, n, batch):
                batch_rows = order[begin : begin + batch]
                xb, yb = x_train[batch_rows], y_train[batch_rows]
                logits = model(xb)
                loss = penalized_loss(logits, yb, model, penalty)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                loss_sum += loss.detach() * len(batch_rows)
                correct += (logits.detach().argmax(1) == yb).sum()
            return float(loss_sum) / n, float(correct) / n

        validation = None if val_idx is None else (self.x.numpy()[val_idx], self.y.numpy()[val_idx])
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
        )

    @torch.no_grad()
    def predict_logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        model.eval()
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        chunks = [model(xt[b : b + _EVAL_CHUNK]) for b in range(0, len(xt), _EVAL_CHUNK)]
        return torch.cat(chunks).numpy()

    def kernels(self, model: Any) -> list[np.ndarray]:
        # torch stores (out, in); Keras' layout is (in, out).
        return [w.detach().numpy().T.copy() for w in linear_weights(model)]

    def save(self, model: Any, path: Path) -> Path:
        """Save ``{"state_dict", "architecture"}`` as ``.pt``.

        Load it with ``torch.load(path, weights_only=True)``: nothing in it needs unpickling.
        """
        path = path.with_suffix(".pt")
        torch.save(
            {
                "state_dict": model.state_dict(),
                "architecture": {
                    "n_features": int(self.x.shape[1]),
                    "hidden": list(self.settings.hidden),
                    "n_classes": self.n_classes,
                },
            },
            path,
        )
        return path

    def release(self) -> None:
        """Nothing global to free: models are garbage once their ``Fit`` is dropped."""


class TorchBackend:
    name = "torch"
    model_suffix = ".pt"

    def trainer(
        self, x: np.ndarray, y: np.ndarray, n_classes: int, settings: TrainSettings
    ) -> TorchTrainer:
        return TorchTrainer(x, y, n_classes, settings)

    def versions(self) -> dict[str, str]:
        return {"torch": torch.__version__}

    def download_mnist(self, data_dir: Path) -> str:
        """torchvision's MNIST loader, which writes ``data_dir/MNIST/raw``."""
        from torchvision.datasets import MNIST

        for train in (True, False):
            MNIST(root=str(data_dir), train=train, download=True)
        return f"Downloaded MNIST with torchvision to {Path(data_dir) / 'MNIST' / 'raw'}."


BACKEND = TorchBackend()
