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
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.nn import functional as F

from regsearch import interrupt
from regsearch.backends.base import EpochHook, Fit, Fold, FoldParallel, Job
from regsearch.backends.loop import FitProgress, validation_scores
from regsearch.backends.torch import adam, as_logits, population_penalty
from regsearch.backends.torch_model import penalized_parameters
from regsearch.penalty import Penalty

if TYPE_CHECKING:
    from regsearch.backends.torch import TorchTrainer

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


class VmappedFolds:
    """:class:`~regsearch.backends.base.FoldParallel` for any deterministic PyTorch model."""

    def __init__(self, trainer: TorchTrainer):
        self.trainer = trainer

    def fit_folds(
        self,
        folds: Sequence[Fold],
        penalty: Penalty,
        epochs: int,
        seeds: Sequence[int],
        on_epoch: EpochHook | None = None,
    ) -> list[Fit]:
        jobs = [Job(tr, va, penalty, seed) for (tr, va), seed in zip(folds, seeds, strict=True)]
        return self.fit_many(jobs, epochs, on_epoch)

    def fit_many(
        self, jobs: Sequence[Job], epochs: int, on_epoch: EpochHook | None = None
    ) -> list[Fit]:
        """Train one model per job at once: the folds of a trial, or of several trials.

        Each model starts from the same weights as ``fit`` with its seed would, sees only its
        own rows in its own shuffled order, with its own penalty strengths (a tensor of one
        value per model), and the summed loss ``sum_m (mean CE_m + penalty_m)`` has model m's
        loss as the only term that depends on its weights, so Adam (elementwise) updates each
        exactly as alone. Early stopping, the best epoch and its weights are kept per model.
        When the models' row counts straddle a multiple of the batch size, the last step's
        batches differ in size: that step runs the models one by one (so batch statistics see
        only real rows), and a model without rows left gets a zero gradient (Adam's moments
        still move: the one difference from training alone). A diverging model stops itself
        and the later jobs of its group (its trial is pruned at it); its NaNs stay in its own
        slice. Models that stopped early keep training in the batch until all have stopped,
        which changes nothing: their best epoch's weights are what is returned.
        """
        trainer = self.trainer
        k, batch, n_classes = len(jobs), trainer.settings.batch_size, trainer.n_classes
        starts = [trainer.new_model(job.seed, job.train_idx).train() for job in jobs]
        template = copy.deepcopy(starts[0])
        params, buffers = stack_module_state(starts)
        del starts
        trained = [p for p in params.values() if p.requires_grad]
        penalized = [params[name] for name, _ in penalized_parameters(template)]
        optimizer = adam(trained, trainer.settings.lr)
        device = trainer.torch_device
        l1, l2 = (
            torch.tensor(values, dtype=torch.float32, device=device) if any(values) else None
            for values in (
                [job.penalty.l1 for job in jobs],
                [job.penalty.l2 for job in jobs],
            )
        )

        def penalties() -> torch.Tensor:
            return population_penalty(penalized, l1, l2)

        def call(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], x: torch.Tensor) -> Any:
            return functional_call(template, (p, b), (x,))

        batched = vmap(call)

        def job_model(i: int) -> nn.Module:
            model = copy.deepcopy(template)
            with torch.no_grad():
                state = {n: t[i] for n, t in (*params.items(), *buffers.items())}
                model.load_state_dict(state)
            return model

        generators = [torch.Generator().manual_seed(job.seed) for job in jobs]  # as in fit
        rows = [torch.from_numpy(np.asarray(job.train_idx, dtype=np.int64)) for job in jobs]
        sizes = torch.tensor([len(r) for r in rows], dtype=torch.float64, device=device)
        steps = math.ceil(max(len(r) for r in rows) / batch)
        progress = [FitProgress(trainer.settings.patience, validated=True) for _ in jobs]
        active = [True] * k

        def stop_group_from(i: int) -> None:
            """Job ``i`` diverged: it and the later jobs of its group stop."""
            for j in range(i, k):
                if jobs[j].group == jobs[i].group:
                    active[j] = False

        start = time.perf_counter()
        for epoch in range(1, epochs + 1):
            interrupt.check()
            if on_epoch is not None:
                on_epoch(epoch)
            orders = [
                r[torch.randperm(len(r), generator=g)].to(device)
                for r, g in zip(rows, generators, strict=True)
            ]
            loss_sum = torch.zeros(k, dtype=torch.float64, device=device)
            correct = torch.zeros(k, dtype=torch.int64, device=device)
            for step in range(steps):
                parts = [order[step * batch : (step + 1) * batch] for order in orders]
                counts = [len(p) for p in parts]
                if len(set(counts)) == 1:
                    xb, yb = trainer.x[torch.stack(parts)], trainer.y[torch.stack(parts)]
                    logits = as_logits(batched(params, buffers, xb), trainer.outputs)
                    ce = F.cross_entropy(
                        logits.reshape(-1, n_classes), yb.reshape(-1), reduction="none"
                    ).view(k, -1)
                    mean_ce = ce.mean(1)
                    hits = (logits.detach().argmax(2) == yb).sum(1)
                else:  # ragged last step: model by model, each on its real rows only
                    losses, found = [], []
                    for i, part in enumerate(parts):
                        if not len(part):
                            losses.append(torch.zeros((), device=device))
                            found.append(torch.zeros((), dtype=torch.int64, device=device))
                            continue
                        own = {n: t[i] for n, t in params.items()}
                        own_buffers = {n: t[i] for n, t in buffers.items()}
                        out = functional_call(template, (own, own_buffers), (trainer.x[part],))
                        logit_i = as_logits(out, trainer.outputs)
                        losses.append(F.cross_entropy(logit_i, trainer.y[part]))
                        found.append((logit_i.detach().argmax(1) == trainer.y[part]).sum())
                    mean_ce, hits = torch.stack(losses), torch.stack(found)
                model_loss = mean_ce + penalties()
                optimizer.zero_grad(set_to_none=True)
                model_loss.sum().backward()
                optimizer.step()
                loss_sum += model_loss.detach().double() * torch.tensor(
                    counts, dtype=torch.float64, device=device
                )
                correct += hits
            train_loss = (loss_sum / sizes).tolist()
            train_acc = (correct.double() / sizes).tolist()
            with torch.no_grad():
                penalty_now = penalties().tolist()
            for i, job in enumerate(jobs):
                if not active[i]:
                    continue
                if progress[i].trained(epoch, train_loss[i], train_acc[i], penalty_now[i]):
                    stop_group_from(i)
                    continue
                model = job_model(i)
                val_x, val_y = trainer.x_np[job.val_idx], trainer.y_np[job.val_idx]
                val_loss, val_acc = validation_scores(trainer, model, val_x, val_y, job.penalty)
                # ``model`` is a fresh copy of job i's weights: it is the snapshot itself.
                if progress[i].scored(epoch, val_loss, val_acc, functools.partial(_same, model)):
                    active[i] = False
                    if progress[i].fit.diverged is not None:
                        stop_group_from(i)
            if not any(active):
                break
        elapsed = (time.perf_counter() - start) / k
        fits = []
        for i, job_progress in enumerate(progress):
            fit = job_progress.fit
            best = job_progress.stopping.best
            fit.model = best if best is not None else job_model(i)
            fit.fit_time = elapsed  # the batched time, shared equally
            fits.append(fit)
        return fits
