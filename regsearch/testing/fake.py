"""A deterministic, framework-free backend for testing the orchestration (the fake backend).

Its "model" is a ridge-regression classifier solved in closed form (so accuracy really depends
on the data and on ``l2``); ``l1`` above ``diverge_above`` simulates a diverging run.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from regsearch import interrupt
from regsearch.backends.base import (
    EpochHook,
    EpochLogs,
    Fit,
    FoldParallel,
    FoldsAsJobs,
    GroupJudge,
)
from regsearch.config import TrainSettings
from regsearch.data.scaling import fit_scaling
from regsearch.models import spec_of
from regsearch.models.spec import ModelFactory
from regsearch.models.summary import ModelSummary, Weight, fingerprint
from regsearch.penalty import Penalty


@dataclass
class Call:
    train_idx: np.ndarray
    val_idx: np.ndarray | None
    penalty: Penalty
    epochs: int
    seed: int
    lr: float | None = None


@dataclass
class FakeTrainer(FoldsAsJobs):
    x: np.ndarray
    y: np.ndarray
    n_classes: int
    settings: TrainSettings
    diverge_above: float = 1e9
    batched: bool = True
    spec: str = "mlp"
    device: str = "cpu"
    scaling: str = "none"
    calls: list[Call] = field(default_factory=list)
    batched_calls: int = 0
    population_sizes: list[int] = field(default_factory=list)
    judged: list[int] = field(default_factory=list)

    @property
    def fold_parallel(self) -> FoldParallel | None:
        return self if self.batched else None

    @property
    def fold_parallel_reason(self) -> str:
        return "folds train at once (fake)" if self.batched else "folds train one at a time"

    @property
    def model_summary(self) -> ModelSummary:
        """The ridge classifier's weights ``w`` (penalized) and ``b``; the fingerprint is the
        spec's, so a study made with another ``--model`` refuses to resume."""
        features = int(np.prod(self.x.shape[1:]))
        return ModelSummary(
            spec=self.spec,
            framework="fake",
            input_shape=tuple(self.x.shape[1:]),
            outputs="logits",
            penalized=(Weight("w", (features, self.n_classes)),),
            not_penalized=(Weight("b", (self.n_classes,)),),
            fingerprint=fingerprint([self.spec], [("w", (features, self.n_classes), True)]),
        )

    def fit(
        self,
        train_idx: np.ndarray,
        val_idx: np.ndarray | None,
        penalty: Penalty,
        epochs: int,
        seed: int,
        on_epoch: EpochHook | None = None,
        on_epoch_end: EpochLogs | None = None,
        lr: float | None = None,
    ) -> Fit:
        for epoch in range(1, epochs + 1):  # where a real loop checks for Ctrl-C
            interrupt.check()
            if on_epoch is not None:
                on_epoch(epoch)
        self.calls.append(
            Call(
                np.array(train_idx),
                None if val_idx is None else np.array(val_idx),
                penalty,
                epochs,
                seed,
                lr,
            )
        )
        if penalty.l1 > self.diverge_above:
            return Fit(
                model=None,
                history={"loss": [float("nan")]},
                diverged="training loss became nan in epoch 1",
            )
        rows = self.x[train_idx].reshape(len(train_idx), -1)
        scaling = fit_scaling(self.scaling, rows)
        if scaling is not None:
            rows = scaling.apply(rows)
        x = np.hstack([rows, np.ones((len(train_idx), 1))])
        targets = np.eye(self.n_classes)[self.y[train_idx]]
        # The decay shrinks weights as an L2 penalty would; / 1000 puts its range (about
        # 1e-4 to 10) on the lambdas' scale.
        ridge = (penalty.l2 + penalty.weight_decay / 1000) * len(train_idx) + 1e-6
        w = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ targets)
        if scaling is not None:  # built in: ((x - shift) / scale) @ W + b on raw rows
            w[:-1] = w[:-1] / scaling.scale[:, None]
            w[-1] -= scaling.shift @ w[:-1]
        best = min(epochs, 2)
        losses = [1.0 / (e + 1) for e in range(epochs)]
        penalty_term = penalty.value([w[:-1]])
        history = {"loss": losses, "accuracy": [0.5] * epochs, "penalty": [penalty_term] * epochs}
        if val_idx is not None:
            # Every epoch scores what the fit returns: what a pruner judges is the final score.
            scores = self.predict_logits(w, self.x[val_idx]).argmax(1) == self.y[val_idx]
            history.update(val_loss=losses, val_accuracy=[float(np.mean(scores))] * epochs)
        if on_epoch_end is not None:  # after the fact: the fake solves in one step
            for epoch in range(1, epochs + 1):
                on_epoch_end(0, epoch, {key: values[epoch - 1] for key, values in history.items()})
        return Fit(model=w, history=history, best_epoch=best, fit_time=0.01)

    def fit_many(
        self,
        jobs: Any,
        epochs: int,
        on_epoch: EpochHook | None = None,
        judges: Mapping[int, GroupJudge] | None = None,
        on_epoch_end: EpochLogs | None = None,
    ) -> list[Fit]:
        """The population's contract, computed job by job (``fit_folds`` too); counted in
        ``batched_calls``
        (one per call) and ``population_sizes``. A diverging job stops the later jobs of its
        group, which are not trained: their fits hold no model and say so in ``diverged``
        (the objective prunes the trial at the first diverged fold and never reads them).
        ``judges`` hear each epoch's scores (the fits' constant ``val_accuracy``) after the
        training; the epoch at which one stopped its group is appended to ``judged``."""
        self.batched_calls += 1
        self.population_sizes.append(len(jobs))
        if on_epoch is not None:
            for epoch in range(1, epochs + 1):
                on_epoch(epoch)
        fits: list[Fit] = []
        stopped: set[int] = set()
        for i, job in enumerate(jobs):
            if job.group in stopped:
                fits.append(Fit(model=None, history={}, diverged="stopped with its group"))
                continue
            logs = None if on_epoch_end is None else functools.partial(_as_job, on_epoch_end, i)
            fit = self.fit(
                job.train_idx, job.val_idx, job.penalty, epochs, job.seed, None, logs, job.lr
            )
            if fit.diverged is not None:
                stopped.add(job.group)
            fits.append(fit)
        for epoch in range(1, epochs + 1):
            for group, judge in (judges or {}).items():
                if group in stopped:
                    continue
                members = [f for f, job in zip(fits, jobs, strict=True) if job.group == group]
                if judge(epoch, [f.history["val_accuracy"][epoch - 1] for f in members]):
                    stopped.add(group)
                    self.judged.append(epoch)
        return fits

    def predict_logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(np.hstack([x.reshape(len(x), -1), np.ones((len(x), 1))]) @ model)

    def kernels(self, model: Any) -> list[np.ndarray]:
        return [model[:-1]]

    def save(self, model: Any, path: Path) -> Path:
        path = path.with_suffix(".npy")
        np.save(path, model)
        return path


def _as_job(on_epoch_end: EpochLogs, job: int, _: int, epoch: int, logs: dict[str, float]) -> None:
    """A fit's epoch logs (job 0) as job ``job``'s."""
    on_epoch_end(job, epoch, logs)


@dataclass
class FakeBackend:
    """A :class:`~regsearch.backends.Backend` whose trainers are :class:`FakeTrainer`; it
    keeps them in ``trainers`` for inspection. ``batched=False`` disables the fold-parallel
    path."""

    name: str = "torch"
    diverge_above: float = 1e9
    batched: bool = True
    trainers: list[FakeTrainer] = field(default_factory=list)
    threads: int | None = None

    def trainer(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        settings: TrainSettings,
        model: ModelFactory,
        device: str = "cpu",
        scaling: str = "none",
    ) -> FakeTrainer:
        trainer = FakeTrainer(
            x,
            y,
            n_classes,
            settings,
            self.diverge_above,
            self.batched,
            spec=spec_of(model),
            scaling=scaling,
        )
        self.trainers.append(trainer)
        return trainer

    def versions(self) -> dict[str, str]:
        return {"fake": "1"}

    def use_threads(self, threads: int | None) -> str:
        self.threads = threads
        return f"{threads or 'the default'} intra-op thread(s)"

    def download_mnist(self, data_dir: Path) -> str:
        raise OSError("offline")
