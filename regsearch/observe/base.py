"""The observer of a running study: one base class whose hooks are documented no-ops.

The objective, the session and the refit call these hooks; an observer only watches and never
changes the study or the training. Subclass :class:`Observer` and override the hooks you need
(as skorch's ``Callback``): every hook here does nothing, so an observer written today keeps
working when a new hook is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna

    from regsearch.backends.base import Fit
    from regsearch.penalty import Penalty


class Observer:
    """Hears a running study, fold by fold and trial by trial.

    An implementation must define nothing and may define any hook below. Hooks run in the
    process that trains (a worker process hears its own trials only), from the training
    thread; with ``trial_batch`` several trials' folds end from one thread at once.
    """

    def on_epoch(self, trial_number: int, fold: int | None, epoch: int, epochs: int) -> None:
        """Epoch ``epoch`` of ``epochs`` begins in fold ``fold`` (``None``: all of the trial's
        folds, trained at once)."""

    def on_epoch_end(
        self, trial_number: int, fold: int, epoch: int, penalty: Penalty, logs: dict[str, float]
    ) -> None:
        """Epoch ``epoch`` of fold ``fold`` ended with ``logs`` (the history keys of
        :class:`~regsearch.backends.base.Fit`), as it ends (folds of several trials trained as
        one population: when they end)."""

    def on_fold(self, trial_number: int, fold: int, penalty: Penalty, fit: Fit) -> None:
        """Fold ``fold`` of trial ``trial_number`` trained."""

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """A trial finished (complete, pruned or failed)."""

    def on_search_end(self) -> None:
        """This process's trials are over (also after an error); the refit comes next."""

    def on_refit(self, trial_number: int, penalty: Penalty, fit: Fit) -> None:
        """Trial ``trial_number``'s configuration (the chosen one, or the baseline) was
        retrained on all training rows, without early stopping."""

    def close(self) -> None:
        """The run is over (also after an error)."""


Quiet = Observer
"""The base class's former name, kept for observers written against it."""


class Observers(Observer):
    """Several observers as one, called in order."""

    def __init__(self, observers: Sequence[Observer] = ()):
        self.observers = list(observers)

    def on_epoch(self, trial_number: int, fold: int | None, epoch: int, epochs: int) -> None:
        for observer in self.observers:
            observer.on_epoch(trial_number, fold, epoch, epochs)

    def on_epoch_end(
        self, trial_number: int, fold: int, epoch: int, penalty: Penalty, logs: dict[str, float]
    ) -> None:
        for observer in self.observers:
            observer.on_epoch_end(trial_number, fold, epoch, penalty, logs)

    def on_fold(self, trial_number: int, fold: int, penalty: Penalty, fit: Fit) -> None:
        for observer in self.observers:
            observer.on_fold(trial_number, fold, penalty, fit)

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        for observer in self.observers:
            observer.on_trial(study, trial)

    def on_search_end(self) -> None:
        for observer in self.observers:
            observer.on_search_end()

    def on_refit(self, trial_number: int, penalty: Penalty, fit: Fit) -> None:
        for observer in self.observers:
            observer.on_refit(trial_number, penalty, fit)

    def close(self) -> None:
        for observer in self.observers:
            observer.close()
