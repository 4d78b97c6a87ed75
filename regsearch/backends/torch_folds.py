"""Fold-parallel training in PyTorch: the k folds of a trial as one batched computation, for
any ``nn.Module``.

The k models' parameters and buffers are stacked (``torch.func.stack_module_state``) and each
step runs the model once over all of them with ``torch.func.vmap`` of ``functional_call``: k
small forward and backward passes become one, so the per-step overhead, which dominates for
small models, is paid once per step instead of k times. Batch-norm statistics and each fold's
feature scaling are per fold (the buffers are stacked too).

Measured on a 2-core CPU (``python -m regsearch.bench --backend torch --trial-folds K
--trial-model mlp|cnn``, figures in the README): the MLP's folds train 1.7x faster at once than
one by one, but the CNN's only 0.56-0.85x as fast: vmap turns k convolutions into one grouped
convolution, which CPU kernels run slower than k plain ones. So models with convolutions train
their folds one at a time on the CPU.
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.nn import functional as F

from regsearch import interrupt
from regsearch.backends.base import (
    EpochHook,
    EpochLogs,
    Fit,
    FoldParallel,
    FoldsAsJobs,
    GroupJudge,
    Job,
    common_lr,
)
from regsearch.backends.loop import PopulationProgress, validation_scores
from regsearch.backends.torch_model import penalized_parameters
from regsearch.backends.torch_ops import adam, as_logits, decay_weights, population_penalty
from regsearch.backends.torch_trainer import TorchTrainer

RANDOM_LAYERS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
"""Layers that draw random numbers while training. Batched, their draws for fold i differ
from those of fold i trained alone (one generator serves all folds), so such models train one
fold at a time: a study must not depend on how its folds were scheduled."""


def _same(value: Any) -> Any:
    return value


def fold_parallel_for(trainer: TorchTrainer) -> tuple[FoldParallel | None, str]:
    """The batched path for ``trainer``'s model, or ``None`` and why not."""
    model = trainer.new_model(0)
    random = sorted({type(m).__name__ for m in model.modules() if isinstance(m, RANDOM_LAYERS)})
    if random:
        return None, (
            f"folds train one at a time: the model's {', '.join(random)} would draw other "
            "random masks batched than alone"
        )
    convolutions = sorted(
        {type(m).__name__ for m in model.modules() if isinstance(m, nn.modules.conv._ConvNd)}
    )
    if convolutions and trainer.torch_device.type == "cpu":
        return None, (
            f"folds train one at a time: batched, the model's {', '.join(convolutions)} "
            "layers run slower on the CPU than one fold after another (measured 0.56-0.85x)"
        )
    return VmappedFolds(trainer), "folds train at once (torch.func.vmap over the k models)"


class VmappedFolds(FoldsAsJobs):
    """:class:`~regsearch.backends.base.FoldParallel` for any deterministic PyTorch model."""

    def __init__(self, trainer: TorchTrainer):
        self.trainer = trainer

    def fit_many(
        self,
        jobs: Sequence[Job],
        epochs: int,
        on_epoch: EpochHook | None = None,
        judges: Mapping[int, GroupJudge] | None = None,
        on_epoch_end: EpochLogs | None = None,
    ) -> list[Fit]:
        """Train one model per job at once: the folds of a trial, or of several trials.

        Each model starts from the same weights as ``fit`` with its seed would, sees only its
        own rows in its own shuffled order, with its own penalty strengths and weight decay (a
        tensor of one value per model), and the summed loss ``sum_m (mean CE_m + penalty_m)``
        has model m's loss as the only term that depends on its weights, so Adam (elementwise)
        updates each exactly as alone. Early stopping, the best epoch and its weights are kept
        per model.
        When the models' row counts straddle a multiple of the batch size, the last step's
        batches differ in size: that step runs the models one by one (so batch statistics see
        only real rows), and a model without rows left gets a zero gradient (Adam's moments
        still move: the one difference from training alone). A diverging model stops itself
        and the later jobs of its group (its trial is pruned at it); its NaNs stay in its own
        slice. ``judges`` may stop whole groups after any epoch (see :data:`GroupJudge`).

        A model that stopped (early stopping, divergence, its group judged) leaves the stack
        at the end of that epoch, with its optimizer state: the models still training are
        sliced out, so a stopped model costs nothing more.
        """
        trainer = self.trainer
        k, batch, n_classes = len(jobs), trainer.settings.batch_size, trainer.n_classes
        starts = [trainer.new_model(job.seed, job.train_idx).train() for job in jobs]
        template = copy.deepcopy(starts[0])
        device = trainer.torch_device
        stack = _Stack(template, starts, jobs, common_lr(jobs, trainer.settings.lr), device)
        del starts

        def call(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], x: torch.Tensor) -> Any:
            return functional_call(template, (p, b), (x,))

        batched = vmap(call)
        generators = [torch.Generator().manual_seed(job.seed) for job in jobs]  # as in fit
        rows = [torch.from_numpy(np.asarray(job.train_idx, dtype=np.int64)) for job in jobs]
        progress = PopulationProgress(jobs, trainer.settings.patience, on_epoch_end)
        last: dict[int, nn.Module] = {}

        start = time.perf_counter()
        for epoch in range(1, epochs + 1):
            interrupt.check()
            if on_epoch is not None:
                on_epoch(epoch)
            live = stack.live
            # Only the models still training draw their epoch's order, as each would alone.
            orders = [
                rows[i][torch.randperm(len(rows[i]), generator=generators[i])].to(device)
                for i in live
            ]
            sizes = torch.tensor([len(rows[i]) for i in live], dtype=torch.float64, device=device)
            m = len(live)
            steps = math.ceil(max(len(rows[i]) for i in live) / batch)
            loss_sum = torch.zeros(m, dtype=torch.float64, device=device)
            correct = torch.zeros(m, dtype=torch.int64, device=device)
            params, buffers = stack.params, stack.buffers
            for step in range(steps):
                parts = [order[step * batch : (step + 1) * batch] for order in orders]
                counts = [len(p) for p in parts]
                if len(set(counts)) == 1:
                    xb, yb = trainer.x[torch.stack(parts)], trainer.y[torch.stack(parts)]
                    logits = as_logits(batched(params, buffers, xb), trainer.outputs)
                    ce = F.cross_entropy(
                        logits.reshape(-1, n_classes), yb.reshape(-1), reduction="none"
                    ).view(m, -1)
                    mean_ce = ce.mean(1)
                    hits = (logits.detach().argmax(2) == yb).sum(1)
                else:  # ragged last step: model by model, each on its real rows only
                    losses, found = [], []
                    for p, part in enumerate(parts):
                        if not len(part):
                            losses.append(torch.zeros((), device=device))
                            found.append(torch.zeros((), dtype=torch.int64, device=device))
                            continue
                        own = {n: t[p] for n, t in params.items()}
                        own_buffers = {n: t[p] for n, t in buffers.items()}
                        out = functional_call(template, (own, own_buffers), (trainer.x[part],))
                        logit_p = as_logits(out, trainer.outputs)
                        losses.append(F.cross_entropy(logit_p, trainer.y[part]))
                        found.append((logit_p.detach().argmax(1) == trainer.y[part]).sum())
                    mean_ce, hits = torch.stack(losses), torch.stack(found)
                model_loss = mean_ce + stack.penalties()
                stack.optimizer.zero_grad(set_to_none=True)
                model_loss.sum().backward()
                stack.decay(counts)
                stack.optimizer.step()
                loss_sum += model_loss.detach().double() * torch.tensor(
                    counts, dtype=torch.float64, device=device
                )
                correct += hits
            train_loss = (loss_sum / sizes).tolist()
            train_acc = (correct.double() / sizes).tolist()
            with torch.no_grad():
                penalty_now = stack.penalties().tolist()
            for p, i in enumerate(live):
                if not progress.active[i] or not progress.trained(
                    i, epoch, train_loss[p], train_acc[p], penalty_now[p]
                ):
                    continue
                model = stack.model(p)
                val_x, val_y = trainer.x_np[jobs[i].val_idx], trainer.y_np[jobs[i].val_idx]
                val_loss, val_acc = validation_scores(trainer, model, val_x, val_y, jobs[i].penalty)
                # ``model`` is a fresh copy of job i's weights: it is the snapshot itself.
                progress.scored(i, epoch, val_loss, val_acc, functools.partial(_same, model))
            progress.judge(epoch, judges)
            for i in progress.stopped_without_best(live):
                last[i] = stack.model(live.index(i))
            if not any(progress.active):
                break
            stack.keep([p for p, i in enumerate(live) if progress.active[i]])
        elapsed = (time.perf_counter() - start) / k
        fits = []
        for i, job_progress in enumerate(progress.fits):
            fit = job_progress.fit
            best = job_progress.stopping.best
            if best is None:
                best = last[i] if i in last else stack.model(stack.live.index(i))
            fit.model = best
            fit.fit_time = elapsed  # the batched time, shared equally
            fits.append(fit)
        return fits


class _Stack:
    """The stacked parameters, buffers, penalties, weight decays and Adam state of the models
    still training (``live``: their job indices, in stack order)."""

    def __init__(
        self,
        template: nn.Module,
        models: list[nn.Module],
        jobs: Sequence[Job],
        lr: float,
        device: torch.device,
    ):
        self.template = template
        self.lr = lr
        self.live = list(range(len(models)))
        self.params, self.buffers = stack_module_state(models)
        self._penalized_names = [name for name, _ in penalized_parameters(template)]
        self._strengths = [
            torch.tensor(values, dtype=torch.float32, device=device) if any(values) else None
            for values in ([job.penalty.l1 for job in jobs], [job.penalty.l2 for job in jobs])
        ]
        decays = [job.penalty.weight_decay for job in jobs]
        self._decay = (
            torch.tensor(decays, dtype=torch.float64, device=device) if any(decays) else None
        )
        self.optimizer = adam(self._trained(), lr)

    def _trained(self) -> list[torch.Tensor]:
        return [p for p in self.params.values() if p.requires_grad]

    def penalties(self) -> torch.Tensor:
        l1, l2 = self._strengths
        return population_penalty([self.params[n] for n in self._penalized_names], l1, l2)

    def decay(self, counts: list[int]) -> None:
        """Each model's decoupled weight decay, before the Adam step (see
        :func:`~regsearch.backends.torch_ops.decay_weights`); a model without rows in this
        step (``counts``: each model's rows) is not decayed: alone, it would not step."""
        if self._decay is None:
            return
        stepping = torch.tensor([c > 0 for c in counts], device=self._decay.device)
        weights = [self.params[n] for n in self._penalized_names]
        decay_weights(weights, self.lr, torch.where(stepping, self._decay, 0.0))

    def model(self, position: int) -> nn.Module:
        """A standalone copy of the model at ``position`` of the stack."""
        model = copy.deepcopy(self.template)
        with torch.no_grad():
            state = {n: t[position] for n, t in (*self.params.items(), *self.buffers.items())}
            model.load_state_dict(state)
        return model

    def keep(self, positions: list[int]) -> None:
        """Keep only the models at ``positions`` (no-op when that is all of them): new
        leaf tensors sliced from the old, Adam's moments and step count sliced alike."""
        if len(positions) == len(self.live):
            return
        index = torch.tensor(positions, dtype=torch.long, device=self._device())
        old_state = self.optimizer.state
        sliced: dict[torch.Tensor, dict[str, Any]] = {}
        params: dict[str, torch.Tensor] = {}
        for name, old in self.params.items():
            new = old.detach().index_select(0, index).requires_grad_(old.requires_grad)
            params[name] = new
            if old in old_state:
                sliced[new] = {
                    key: _slice(value, index, len(self.live))
                    for key, value in old_state[old].items()
                }
        self.params = params
        self.buffers = {n: t.index_select(0, index) for n, t in self.buffers.items()}
        self._strengths = [None if s is None else s.index_select(0, index) for s in self._strengths]
        if self._decay is not None:
            self._decay = self._decay.index_select(0, index)
        self.live = [self.live[p] for p in positions]
        self.optimizer = adam(self._trained(), self.lr)
        self.optimizer.state.update(sliced)

    def _device(self) -> torch.device:
        return next(iter(self.params.values())).device


def _slice(value: Any, index: torch.Tensor, models: int) -> Any:
    """An optimizer state entry for the kept models: per-model tensors sliced, the rest (the
    shared step count) copied."""
    if isinstance(value, torch.Tensor) and value.ndim and value.shape[0] == models:
        return value.index_select(0, index)
    return value.clone() if isinstance(value, torch.Tensor) else value
