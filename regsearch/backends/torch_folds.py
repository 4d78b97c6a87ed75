"""Fold-parallel training in PyTorch: the k folds of a trial as one batched computation.

The k models' weights are stacked (``(k, in, out)``) and every step runs ``torch.baddbmm`` over
all of them: k small matmuls become one, so the per-step overhead, which dominates for a model
this small, is paid once per step instead of k times. It applies to models that are a plain
``nn.Sequential`` of ``Linear`` and ``ReLU`` layers ending in ``Linear`` (the built-in MLP);
other models train one fold at a time.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from regsearch import interrupt
from regsearch.backends.base import EpochHook, Fit, Fold
from regsearch.backends.loop import FitProgress, validation_scores
from regsearch.backends.torch import weights_penalty
from regsearch.penalty import Penalty

if TYPE_CHECKING:
    from regsearch.backends.torch import TorchTrainer


def _same(value: Any) -> Any:
    return value


class StackedFolds:
    """:class:`~regsearch.backends.base.FoldParallel` for Linear/ReLU stacks."""

    def __init__(self, trainer: TorchTrainer):
        self.trainer = trainer

    @staticmethod
    def fits(model: nn.Module) -> bool:
        """Whether ``model`` is a ``Sequential`` of ``Linear``/``ReLU`` ending in ``Linear``."""
        layers = list(model.children()) if isinstance(model, nn.Sequential) else []
        return (
            bool(layers)
            and all(isinstance(m, (nn.Linear, nn.ReLU)) for m in layers)
            and isinstance(layers[-1], nn.Linear)
            and all(m.bias is not None for m in layers if isinstance(m, nn.Linear))
        )

    def fit_folds(
        self,
        folds: Sequence[Fold],
        penalty: Penalty,
        epochs: int,
        seeds: Sequence[int],
        on_epoch: EpochHook | None = None,
    ) -> list[Fit]:
        """Train one model per fold at once.

        Each model starts from the same weights as ``fit`` with its seed would, sees only its
        own fold's rows in its own shuffled order, and the summed loss
        ``sum_k (mean CE_k + penalty_k)`` has fold k's loss as the only term that depends on
        model k's weights, so Adam (elementwise) updates each exactly as alone. Early stopping,
        the best epoch and its weights are kept per fold. One difference: when the folds' sizes
        straddle a multiple of the batch size, the smaller fold's model gets an empty last step
        (zero gradient; Adam's moments still move). A diverging fold stops itself and the folds
        after it (its trial is pruned at it); its NaNs stay in its own slice, since every
        operation is per slice. Folds that stopped early keep training in the batch until all
        have stopped, which changes nothing: their best epoch's weights are what is returned.
        """
        trainer = self.trainer
        k, batch, n_classes = len(folds), trainer.settings.batch_size, trainer.n_classes
        starts = [self._linears(trainer.new_model(seed)) for seed in seeds]
        weights = [
            torch.stack([layers[j].weight.detach().T for layers in starts])
            .contiguous()
            .requires_grad_()
            for j in range(len(starts[0]))
        ]
        biases = [
            torch.stack([layers[j].bias.detach()[None] for layers in starts])
            .contiguous()
            .requires_grad_()
            for j in range(len(starts[0]))
        ]
        optimizer = torch.optim.Adam([*weights, *biases], lr=trainer.settings.lr, weight_decay=0.0)
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

        def fold_model(i: int) -> nn.Module:
            model = trainer.model_factory(trainer.input_shape, n_classes)
            with torch.no_grad():
                for layer, w, b in zip(self._linears(model), weights, biases, strict=True):
                    layer.weight.copy_(w[i].T)
                    layer.bias.copy_(b[i, 0])
            return model

        progress = [FitProgress(trainer.settings.patience, validated=True) for _ in folds]
        active = [True] * k
        start = time.perf_counter()
        for epoch in range(1, epochs + 1):
            interrupt.check()
            if on_epoch is not None:
                on_epoch(epoch)
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
                xb, yb = trainer.x[index], trainer.y[index]
                logits = forward(xb)
                ce = F.cross_entropy(
                    logits.reshape(-1, n_classes), yb.reshape(-1), reduction="none"
                ).view(k, width)
                fold_loss = (ce * mask).sum(1) + weights_penalty(weights, penalty, stacked=True)
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
                penalty_now = weights_penalty(weights, penalty, stacked=True).tolist()
            for i in range(k):
                if not active[i]:
                    continue
                if progress[i].trained(epoch, train_loss[i], train_acc[i], penalty_now[i]):
                    active[i:] = [False] * (k - i)  # its trial stops at fold i
                    break
                model = fold_model(i)
                val_x, val_y = trainer.x[folds[i][1]].numpy(), trainer.y[folds[i][1]].numpy()
                val_loss, val_acc = validation_scores(trainer, model, val_x, val_y, penalty)
                # ``model`` is a fresh copy of fold i's weights: it is the snapshot itself.
                if progress[i].scored(epoch, val_loss, val_acc, functools.partial(_same, model)):
                    active[i] = False
                    if progress[i].fit.diverged is not None:
                        active[i:] = [False] * (k - i)
                        break
            if not any(active):
                break
        elapsed = (time.perf_counter() - start) / k
        fits = []
        for i, fold in enumerate(progress):
            fit = fold.fit
            best = fold.stopping.best
            fit.model = best if best is not None else fold_model(i)
            fit.fit_time = elapsed  # the batched time, shared equally
            fits.append(fit)
        return fits

    @staticmethod
    def _linears(model: nn.Module) -> list[nn.Linear]:
        return [m for m in model.modules() if isinstance(m, nn.Linear)]
