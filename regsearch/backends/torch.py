"""PyTorch backend: the MLP in plain ``torch.nn`` and a tensor-indexed training loop.

The penalty is the explicit Keras ``L1L2`` term, added to each batch's mean cross-entropy::

    loss = mean(CE) + l1 * sum(|W|) + l2 * sum(W^2)    # W: Linear weights only, not biases

with Adam's ``weight_decay=0``: PyTorch's ``weight_decay`` is not this penalty (under Adam it is
no L2 penalty at all, and under SGD it equals ``(wd/2) * sum W^2``).
"""

from __future__ import annotations

import copy
import functools
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from regsearch import interrupt
from regsearch.backends import Fit
from regsearch.backends.loop import EarlyStopping, train_epochs, validation_scores
from regsearch.config import TrainSettings
from regsearch.penalty import Penalty

_EVAL_CHUNK = 8192  # rows per forward pass when predicting; bounds memory, not results
_HISTORY_KEYS = ("loss", "accuracy", "penalty", "val_loss", "val_accuracy")


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


def linear_weights_modules(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def linear_weights(model: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in linear_weights_modules(model)]


def weights_penalty(weights: list[torch.Tensor], penalty: Penalty) -> torch.Tensor:
    """``l1 * sum|W| + l2 * sum W^2``, summed over each matrix's last two dimensions: a scalar
    for one model's matrices, one value per model for stacked ``(k, in, out)`` ones."""
    total = torch.zeros(weights[0].shape[:-2])
    for w in weights:
        if penalty.l1:
            total = total + penalty.l1 * w.abs().sum((-2, -1))
        if penalty.l2:
            total = total + penalty.l2 * w.square().sum((-2, -1))
    return total


def penalty_term(model: nn.Module, penalty: Penalty) -> torch.Tensor:
    """``l1 * sum|W| + l2 * sum W^2`` over the Linear weights (biases excluded)."""
    return weights_penalty(linear_weights(model), penalty)


def penalized_loss(
    logits: torch.Tensor, y: torch.Tensor, model: nn.Module, penalty: Penalty
) -> torch.Tensor:
    """The training loss of one batch: its mean cross-entropy plus the penalty, added once."""
    return F.cross_entropy(logits, y) + penalty_term(model, penalty)


def _same(value: Any) -> Any:
    return value


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

    def fit_folds(
        self,
        folds: list[tuple[np.ndarray, np.ndarray]],
        penalty: Penalty,
        epochs: int,
        seeds: list[int],
    ) -> list[Fit]:
        """Train one model per fold at once, as one batched computation.

        The k models' weights are stacked (``(k, in, out)``) and every step runs ``torch.baddbmm``
        over all of them: k small matmuls become one, so the per-step overhead, which dominates
        for a model this small, is paid once per step instead of k times. Each model starts
        from the same weights as :meth:`fit` with its seed would, sees only its own fold's rows
        in its own shuffled order, and the summed loss ``sum_k (mean CE_k + penalty_k)`` has
        fold k's loss as the only term that depends on model k's weights, so Adam (elementwise)
        updates each exactly as alone. Early stopping, the best epoch and its weights are kept
        per fold. One difference: when the folds' sizes straddle a multiple of the batch size,
        the smaller fold's model gets an empty last step (zero gradient; Adam's moments still
        move). A diverging fold stops itself and the folds after it (its trial is pruned at
        it); its NaNs stay in its own slice, since every operation is per slice. Folds that
        stopped early keep training in the batch until all have stopped, which changes
        nothing: their best epoch's weights are what is returned.
        """
        k, batch = len(folds), self.settings.batch_size
        starts = [linear_weights(self.new_model(seed)) for seed in seeds]
        weights = [
            torch.stack([layers[j].detach().T for layers in starts]).contiguous().requires_grad_()
            for j in range(len(starts[0]))
        ]
        biases = [torch.zeros(k, 1, w.shape[2], requires_grad=True) for w in weights]
        optimizer = torch.optim.Adam([*weights, *biases], lr=self.settings.lr, weight_decay=0.0)
        generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        rows = [torch.from_numpy(np.asarray(train, dtype=np.int64)) for train, _ in folds]
        sizes = torch.tensor([len(r) for r in rows], dtype=torch.float64)
        steps = math.ceil(max(len(r) for r in rows) / batch)

        def forward(xb: torch.Tensor) -> torch.Tensor:  # (k, b, in) -> (k, b, classes)
            h = xb
            for j, (w, b) in enumerate(zip(weights, biases, strict=True)):
                h = torch.baddbmm(b, h, w)
                if j < len(weights) - 1:
                    h = torch.relu(h)
            return h

        def fold_model(i: int) -> nn.Sequential:
            model = build_mlp(self.x.shape[1], self.settings.hidden, self.n_classes)
            with torch.no_grad():
                for layer, w, b in zip(linear_weights_modules(model), weights, biases, strict=True):
                    layer.weight.copy_(w[i].T)
                    layer.bias.copy_(b[i, 0])
            return model

        fits = [Fit(model=None, history={key: [] for key in _HISTORY_KEYS}) for _ in folds]
        stopping = [EarlyStopping(self.settings.patience) for _ in folds]
        active = [True] * k
        start = time.perf_counter()
        for epoch in range(1, epochs + 1):
            interrupt.check()
            orders = [
                r[torch.randperm(len(r), generator=g)]
                for r, g in zip(rows, generators, strict=True)
            ]
            loss_sum = torch.zeros(k, dtype=torch.float64)
            correct = torch.zeros(k, dtype=torch.int64)
            for step in range(steps):
                parts = [order[step * batch : (step + 1) * batch] for order in orders]
                width = max(len(p) for p in parts)
                index = torch.zeros(k, width, dtype=torch.int64)
                mask = torch.zeros(k, width)
                for i, part in enumerate(parts):
                    index[i, : len(part)] = part
                    mask[i, : len(part)] = 1.0 / max(len(part), 1)
                xb, yb = self.x[index], self.y[index]
                logits = forward(xb)
                ce = F.cross_entropy(
                    logits.reshape(-1, self.n_classes), yb.reshape(-1), reduction="none"
                ).view(k, width)
                fold_loss = (ce * mask).sum(1) + weights_penalty(weights, penalty)
                optimizer.zero_grad(set_to_none=True)
                fold_loss.sum().backward()
                optimizer.step()
                counts = torch.tensor([len(p) for p in parts], dtype=torch.float64)
                loss_sum += fold_loss.detach().double() * counts
                hits = (logits.detach().argmax(2) == yb) & (mask > 0)
                correct += hits.sum(1)
            train_loss = (loss_sum / sizes).tolist()
            train_acc = (correct.double() / sizes).tolist()
            with torch.no_grad():
                penalty_now = weights_penalty(weights, penalty).tolist()
            for i, (fit, stop) in enumerate(zip(fits, stopping, strict=True)):
                if not active[i]:
                    continue
                fit.history["loss"].append(train_loss[i])
                fit.history["accuracy"].append(train_acc[i])
                fit.history["penalty"].append(penalty_now[i])
                if not math.isfinite(train_loss[i]):
                    fit.diverged = f"training loss became {train_loss[i]} in epoch {epoch}"
                    active[i:] = [False] * (k - i)  # its trial stops at fold i
                    break
                model = fold_model(i)
                val_loss, val_acc = validation_scores(
                    self, model, self.x[folds[i][1]].numpy(), self.y[folds[i][1]].numpy(), penalty
                )
                fit.history["val_loss"].append(val_loss)
                fit.history["val_accuracy"].append(val_acc)
                if not math.isfinite(val_loss):
                    fit.diverged = f"validation loss became {val_loss} in epoch {epoch}"
                    active[i:] = [False] * (k - i)
                    break
                # ``model`` is a fresh copy of fold i's weights: it is the snapshot itself.
                if stop.update(epoch, val_loss, functools.partial(_same, model)):
                    active[i] = False
                fit.best_epoch = stop.best_epoch
            if not any(active):
                break
        elapsed = (time.perf_counter() - start) / k
        for i, (fit, stop) in enumerate(zip(fits, stopping, strict=True)):
            fit.model = stop.best if stop.best is not None else fold_model(i)
            fit.fit_time = elapsed  # the batched time, shared equally
        return fits

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
