"""The backend interfaces: a :class:`Backend` makes :class:`Trainer` objects, which train fresh
models from a model factory and return :class:`Fit` results.

A backend only trains and predicts; it never touches the Optuna trial. Metrics are computed by
:mod:`regsearch.metrics` from the backend's logits, so both backends share one definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from regsearch.config import TrainSettings
from regsearch.models.spec import ModelFactory
from regsearch.models.summary import ModelSummary
from regsearch.penalty import Penalty

Fold = tuple[np.ndarray, np.ndarray]
"""``(train_indices, validation_indices)`` into the training set."""

EpochHook = Callable[[int], None]
"""Called with each epoch's number (1-based) as it begins, to show progress."""

EpochLogs = Callable[[int, int, dict[str, float]], None]
"""Told after each epoch of a model: its index among the jobs (0 for :meth:`Trainer.fit`),
the epoch's number (1-based) and that epoch's values under :class:`Fit`'s history keys, as soon
as they are known (live curves, e.g. TensorBoard's)."""

GroupJudge = Callable[[int, list[float]], bool]
"""Told after each epoch of a population, for one group (a trial's folds): the epoch's number
and each of the group's models' score if training ended now (its validation accuracy at its
best epoch so far, the weights early stopping would restore); ``True`` stops the group's
models (its trial is pruned), so they cost nothing more."""


@dataclass
class Fit:
    """The outcome of training one model.

    Attributes:
        model: the trained model, with the best epoch's weights restored when a validation part
            was given (framework object; pass it back to the same trainer).
        history: per-epoch curves with Keras' keys: ``loss`` (penalized training loss),
            ``accuracy``, ``penalty`` (the penalty term at the epoch's end) and, with a
            validation part, ``val_loss`` (penalized, the early-stopping quantity) and
            ``val_accuracy``.
        best_epoch: 1-based epoch whose weights the model holds.
        fit_time: seconds spent training.
        diverged: why training stopped on a non-finite loss, or ``None``.
    """

    model: Any
    history: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = 0
    fit_time: float = 0.0
    diverged: str | None = None


@dataclass(frozen=True)
class Job:
    """One model of a population: its training and validation rows, penalty, seed and
    learning rate (``None``: the settings' ``lr``).

    ``group`` ties models that stop together: a trial's folds. When one diverges, it stops
    with the later jobs of its group (its trial is pruned at that fold); other groups go on.
    """

    train_idx: np.ndarray
    val_idx: np.ndarray
    penalty: Penalty
    seed: int
    group: int = 0
    lr: float | None = None


def common_lr(jobs: Sequence[Job], default: float) -> float:
    """The one learning rate of ``jobs`` trained as one batched computation (their Adam is
    one optimizer); ``default`` where they leave it to the settings.

    Raises:
        ValueError: jobs with different learning rates (a study that searches the learning
            rate trains one trial's folds at a time, see ``StudyConfig``).
    """
    rates = {default if job.lr is None else job.lr for job in jobs}
    if len(rates) > 1:
        raise ValueError(f"jobs trained at once share one learning rate, got {sorted(rates)}")
    return rates.pop() if rates else default


class FoldParallel(Protocol):
    """The optional capability of training several models (the folds of one trial, or of
    several trials) as one batched computation."""

    def fit_many(
        self,
        jobs: Sequence[Job],
        epochs: int,
        on_epoch: EpochHook | None = None,
        judges: Mapping[int, GroupJudge] | None = None,
        on_epoch_end: EpochLogs | None = None,
    ) -> list[Fit]:
        """One :class:`Fit` per job, each exactly as :meth:`Trainer.fit` with its rows,
        penalty and seed would give it (up to float rounding): same initial weights, same
        batch order, its own penalty, early stopping and divergence.

        ``judges[g]``, where given, is asked after every epoch whether group ``g`` goes on;
        a group it stops keeps the fits it had (the best epoch's weights so far).
        ``on_epoch_end`` hears each job's epochs as they end (the job's index first)."""
        ...

    def fit_folds(
        self,
        folds: Sequence[Fold],
        penalty: Penalty,
        epochs: int,
        seeds: Sequence[int],
        on_epoch: EpochHook | None = None,
        on_epoch_end: EpochLogs | None = None,
        lr: float | None = None,
    ) -> list[Fit]:
        """:meth:`fit_many` of one trial's folds: one :class:`Fit` per fold, with ``penalty``
        and its seed, at learning rate ``lr`` (``None``: the settings'); a diverging fold
        stops the folds after it."""
        ...


class FoldsAsJobs:
    """``fit_folds`` as the ``fit_many`` of one trial's folds, for batched paths."""

    def fit_many(
        self,
        jobs: Sequence[Job],
        epochs: int,
        on_epoch: EpochHook | None = None,
        judges: Mapping[int, GroupJudge] | None = None,
        on_epoch_end: EpochLogs | None = None,
    ) -> list[Fit]:
        raise NotImplementedError

    def fit_folds(
        self,
        folds: Sequence[Fold],
        penalty: Penalty,
        epochs: int,
        seeds: Sequence[int],
        on_epoch: EpochHook | None = None,
        on_epoch_end: EpochLogs | None = None,
        lr: float | None = None,
    ) -> list[Fit]:
        jobs = [
            Job(tr, va, penalty, seed, lr=lr) for (tr, va), seed in zip(folds, seeds, strict=True)
        ]
        return self.fit_many(jobs, epochs, on_epoch, on_epoch_end=on_epoch_end)


class Trainer(Protocol):
    """Trains fresh models of one architecture on one training set, held as framework tensors."""

    model_summary: ModelSummary
    """The model as checked when the trainer was made: its penalized weights, outputs and
    fingerprint (making a trainer raises ``ModelError`` for a model that breaks the contract)."""

    fold_parallel: FoldParallel | None
    """The batched path for this trainer's model, or ``None`` where folds train one at a time
    (see :meth:`FoldParallel.fit_folds`)."""

    fold_parallel_reason: str
    """How this trainer's folds train, and why (printed at the start of a run)."""

    device: str
    """Where its models train, as recorded per trial: ``cpu``, or e.g. ``cuda:0 (NVIDIA H100
    80GB HBM3)``."""

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
        """Train a freshly initialised model on the rows ``train_idx``, with Adam at learning
        rate ``lr`` (``None``: the settings' ``lr``).

        With ``val_idx``, early stopping watches the penalized validation loss of those rows
        (patience from the settings) and restores the best epoch's weights; without it, the
        model trains for exactly ``epochs``. ``on_epoch_end`` hears each epoch's values as it
        ends (job index 0).
        """
        ...

    def predict_logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        """Logits ``(n, n_classes)`` as float32 NumPy, for ``x`` in the dataset's layout
        (images channels last); a model of probabilities gives their clipped log."""
        ...

    def kernels(self, model: Any) -> list[np.ndarray]:
        """The penalized weights in Keras' layout (a dense kernel ``(in, out)``, a convolution
        kernel ``(h, w, in, out)``)."""
        ...

    def save(self, model: Any, path: Path) -> Path:
        """Save the model in the framework's own format; returns the path written."""
        ...


class Backend(Protocol):
    """A framework able to train models of a :data:`ModelFactory` with the regsearch penalty."""

    name: str
    """``tf`` or ``torch``"""

    def trainer(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        settings: TrainSettings,
        model: ModelFactory,
        device: str = "cpu",
        scaling: str = "none",
    ) -> Trainer:
        """A trainer of ``model`` for the rows of ``(x, y)``, converted to framework tensors
        on ``device`` once.

        Args:
            device: ``auto`` (a CUDA GPU when the framework sees one, else the CPU), ``cpu`` or
                ``cuda``.
            scaling: ``standard``, ``minmax`` or ``none`` (see :mod:`regsearch.scaling`):
                each fit scales the features by a scaling fitted on its own training rows
                only, and its model (as predicted with and saved) takes raw rows.

        Raises:
            BackendUnavailable: ``cuda`` was asked for but the framework sees no CUDA GPU.
            ModelError: the model breaks the contract (see :attr:`Trainer.model_summary`).
        """
        ...

    def versions(self) -> dict[str, str]:
        """The framework's package versions, for the study's records."""
        ...

    def use_threads(self, threads: int | None) -> str:
        """Make the framework's kernels use ``threads`` threads in this process (``None``:
        the framework's default; see :mod:`regsearch.threads`); returns how many it uses, in
        words."""
        ...

    def download_mnist(self, data_dir: Path) -> str:
        """Download MNIST into ``data_dir`` with the framework's own loader; returns a sentence
        saying where the files went."""
        ...
