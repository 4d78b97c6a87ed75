"""The epoch loop both backends share: history, divergence, early stopping, best weights.

Early stopping follows Keras' ``EarlyStopping(monitor="val_loss", patience=p,
restore_best_weights=True)``: an epoch improves when its validation loss is strictly lower than
the best so far; training stops once ``p`` epochs in a row did not improve; the best epoch's
weights are restored at the end.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from regsearch import interrupt
from regsearch.backends.base import EpochHook, EpochLogs, Fit, GroupJudge, Job, Trainer
from regsearch.metrics import accuracy, cross_entropy
from regsearch.penalty import Penalty

EpochStats = tuple[float, float]
"""``(mean loss, accuracy)`` of one pass."""


class EarlyStopping:
    """Keras' ``EarlyStopping(monitor="val_loss", patience, restore_best_weights=True)`` for one
    model: :meth:`update` takes each epoch's validation loss and says when to stop; ``best``
    holds the best epoch's snapshot."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best_loss = math.inf
        self.best_epoch = 0
        self.best: Any = None
        self.wait = 0

    def update(self, epoch: int, val_loss: float, snapshot: Callable[[], Any]) -> bool:
        """Record ``epoch``'s loss (snapshotting on a strict improvement); ``True`` = stop."""
        self.wait += 1
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch, self.wait = val_loss, epoch, 0
            self.best = snapshot()
            return False
        return self.wait >= self.patience


class FitProgress:
    """One model's :class:`Fit` as it trains: each epoch's curves, the divergence check and
    early stopping. The single-model loop (:func:`train_epochs`) and the batched one
    (``fit_folds``) both feed it, so a fold is judged the same way on either path."""

    def __init__(
        self,
        patience: int,
        validated: bool,
        on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
    ):
        self.fit = Fit(model=None, history={"loss": [], "accuracy": [], "penalty": []})
        if validated:
            self.fit.history.update(val_loss=[], val_accuracy=[])
        self.validated = validated
        self.stopping = EarlyStopping(patience)
        self.on_epoch_end = on_epoch_end

    def _ended(self, epoch: int) -> None:
        """Tell ``on_epoch_end`` the values of ``epoch``, now all recorded."""
        if self.on_epoch_end is not None:
            history = self.fit.history
            # A training loss that diverged ends the epoch before its validation is scored.
            logs = {key: vs[epoch - 1] for key, vs in history.items() if len(vs) >= epoch}
            self.on_epoch_end(epoch, logs)

    def trained(self, epoch: int, loss: float, acc: float, penalty: float) -> bool:
        """Record ``epoch``'s training pass; ``True`` when the loss is not finite (stop)."""
        self.fit.history["loss"].append(loss)
        self.fit.history["accuracy"].append(acc)
        self.fit.history["penalty"].append(penalty)
        if not math.isfinite(loss):
            self.fit.diverged = f"training loss became {loss} in epoch {epoch}"
            self._ended(epoch)
            return True
        if not self.validated:
            self.fit.best_epoch = epoch
            self._ended(epoch)
        return False

    def score_if_stopped(self) -> float:
        """The validation accuracy of the weights early stopping would restore now (the best
        epoch's so far): the fold's score if training ended here."""
        best = self.stopping.best_epoch
        return self.fit.history["val_accuracy"][best - 1] if best else math.nan

    def scored(
        self, epoch: int, val_loss: float, val_acc: float, snapshot: Callable[[], Any]
    ) -> bool:
        """Record ``epoch``'s validation scores; ``True`` = stop (diverged or no progress)."""
        self.fit.history["val_loss"].append(val_loss)
        self.fit.history["val_accuracy"].append(val_acc)
        self._ended(epoch)
        if not math.isfinite(val_loss):
            self.fit.diverged = f"validation loss became {val_loss} in epoch {epoch}"
            return True
        stop = self.stopping.update(epoch, val_loss, snapshot)
        self.fit.best_epoch = self.stopping.best_epoch
        return stop


class PopulationProgress:
    """The :class:`FitProgress` of each job of a population trained at once, which jobs still
    train, and the stops that spread: a diverging job stops the later jobs of its group (its
    trial is pruned at it), and a judge may stop a whole group after any epoch."""

    def __init__(self, jobs: Sequence[Job], patience: int, on_epoch_end: EpochLogs | None = None):
        self.jobs = jobs
        self.fits = [
            FitProgress(
                patience,
                validated=True,
                on_epoch_end=None if on_epoch_end is None else functools.partial(on_epoch_end, i),
            )
            for i in range(len(jobs))
        ]
        self.active = [True] * len(jobs)

    def trained(self, i: int, epoch: int, loss: float, acc: float, penalty: float) -> bool:
        """Record job ``i``'s training pass; ``False`` when it diverged (it stops)."""
        if self.fits[i].trained(epoch, loss, acc, penalty):
            self._stop_group_from(i)
            return False
        return True

    def scored(
        self, i: int, epoch: int, val_loss: float, val_acc: float, snapshot: Callable[[], Any]
    ) -> None:
        """Record job ``i``'s validation scores (it stops on divergence or no progress)."""
        if self.fits[i].scored(epoch, val_loss, val_acc, snapshot):
            self.active[i] = False
            if self.fits[i].fit.diverged is not None:
                self._stop_group_from(i)

    def judge(self, epoch: int, judges: Mapping[int, GroupJudge] | None) -> None:
        """Ask each group's judge (see :data:`GroupJudge`) whether its jobs go on."""
        for group, judge in (judges or {}).items():
            members = [i for i, job in enumerate(self.jobs) if job.group == group]
            if any(self.active[i] for i in members) and judge(
                epoch, [self.fits[i].score_if_stopped() for i in members]
            ):
                for i in members:
                    self.active[i] = False

    def stopped_without_best(self, among: Sequence[int]) -> list[int]:
        """The jobs of ``among`` that stopped before any best epoch (diverged in their first,
        or their group's did): their weights now are what their fits return."""
        return [i for i in among if not self.active[i] and self.fits[i].stopping.best is None]

    def _stop_group_from(self, i: int) -> None:
        for j in range(i, len(self.jobs)):
            if self.jobs[j].group == self.jobs[i].group:
                self.active[j] = False


def train_epochs(
    trainer: Trainer,
    model: Any,
    penalty: Penalty,
    validation: tuple[np.ndarray, np.ndarray] | None,
    epochs: int,
    patience: int,
    train_epoch: Callable[[int], EpochStats],
    snapshot: Callable[[], Any],
    restore: Callable[[Any], None],
    on_epoch: EpochHook | None = None,
    on_epoch_end: EpochLogs | None = None,
) -> Fit:
    """Run up to ``epochs`` epochs of ``train_epoch(epoch)``.

    Args:
        trainer, model, penalty: score ``model`` on ``validation`` after each epoch with
            :func:`validation_scores`.
        validation: the validation rows ``(x, y)``, or ``None`` to train exactly ``epochs``
            epochs without early stopping.
        train_epoch: trains one epoch (1-based number) and returns its penalized mean loss and
            accuracy over the training rows.
        snapshot, restore: copy the weights out and back in (best-weights restoring).
        on_epoch: told each epoch's number as it begins.
        on_epoch_end: told each epoch's values as it ends (job index 0).
    """
    start = time.perf_counter()
    progress = FitProgress(
        patience,
        validated=validation is not None,
        on_epoch_end=None if on_epoch_end is None else functools.partial(on_epoch_end, 0),
    )
    for epoch in range(1, epochs + 1):
        interrupt.check()
        if on_epoch is not None:
            on_epoch(epoch)
        loss, acc = train_epoch(epoch)
        if progress.trained(epoch, loss, acc, penalty.value(trainer.kernels(model))):
            break
        if validation is None:
            continue
        val_loss, val_acc = validation_scores(trainer, model, *validation, penalty)
        if progress.scored(epoch, val_loss, val_acc, snapshot):
            break
    if progress.stopping.best is not None:
        restore(progress.stopping.best)
    fit = progress.fit
    fit.model = model
    fit.fit_time = time.perf_counter() - start
    return fit


def validation_scores(
    trainer: Trainer, model: Any, x: np.ndarray, y: np.ndarray, penalty: Penalty
) -> EpochStats:
    """Keras' ``val_loss`` (mean cross-entropy plus the penalty) and accuracy, computed by
    regsearch from the model's logits so both backends share one definition."""
    logits = trainer.predict_logits(model, x)
    return cross_entropy(logits, y) + penalty.value(trainer.kernels(model)), accuracy(logits, y)
