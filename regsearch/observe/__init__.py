"""Observers of a running study: per-fold and per-trial hooks (progress bar, trial lines,
TensorBoard). The objective and the session call them; they only watch and never change the
study."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import optuna

    from regsearch.backends import Fit
    from regsearch.config import StudyConfig
    from regsearch.penalty import Penalty


class Observer(Protocol):
    def on_epoch(self, trial_number: int, fold: int | None, epoch: int, epochs: int) -> None:
        """Epoch ``epoch`` of ``epochs`` begins in fold ``fold`` (``None``: all of the trial's
        folds, trained at once)."""
        ...

    def on_epoch_end(
        self, trial_number: int, fold: int, epoch: int, penalty: Penalty, logs: dict[str, float]
    ) -> None:
        """Epoch ``epoch`` of fold ``fold`` ended with ``logs`` (:class:`Fit`'s history keys),
        as it ends (folds of several trials trained as one population: when they end)."""
        ...

    def on_fold(self, trial_number: int, fold: int, penalty: Penalty, fit: Fit) -> None:
        """After fold ``fold`` of trial ``trial_number`` trained."""
        ...

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """After a trial finished (complete, pruned or failed)."""
        ...

    def close(self) -> None:
        """The run is over (also after an error)."""
        ...


class Observers:
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

    def close(self) -> None:
        for observer in self.observers:
            observer.close()


class Quiet:
    """An observer that does nothing; subclasses hear only what they override."""

    def on_epoch(self, trial_number: int, fold: int | None, epoch: int, epochs: int) -> None:
        pass

    def on_epoch_end(
        self, trial_number: int, fold: int, epoch: int, penalty: Penalty, logs: dict[str, float]
    ) -> None:
        pass

    def on_fold(self, trial_number: int, fold: int, penalty: Penalty, fit: Fit) -> None:
        pass

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        pass

    def close(self) -> None:
        pass


class TrialLines(Quiet):
    """Writes :func:`regsearch.present.text.trial_line` for each finished trial."""

    def __init__(self, write: Callable[[str], None] = print, prefix: str = ""):
        self.write = write
        self.prefix = prefix

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        from regsearch.present.text import trial_line

        self.write(self.prefix + trial_line(trial))


def standard_observers(
    config: StudyConfig, *, lines: bool, bar: bool, total: int, prefix: str = ""
) -> Observers:
    """What the study command shows: a progress bar (``bar``, for ``total`` trials), a line
    per trial (``lines``, above the bar) and TensorBoard curves (``config.tensorboard``)."""
    from regsearch.observe.progress import StudyProgress

    progress = StudyProgress(total, config.n_splits, enabled=bar)
    observers: list[Observer] = [progress]
    if lines:
        observers.append(TrialLines(progress.print, prefix))
    if config.tensorboard is not None:
        from regsearch.observe.tensorboard import TensorBoardLogger

        observers.append(TensorBoardLogger(config.tensorboard))
    return Observers(observers)
