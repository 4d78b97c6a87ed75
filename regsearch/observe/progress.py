"""A progress bar for a running study (tqdm): trials done and to go, the trial, fold and epoch
in progress, the best complete trial's score so far and tqdm's estimate of the time left. It
moves every epoch. Shown only on a terminal."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from optuna.trial import TrialState
from tqdm import tqdm

from regsearch.observe.base import Observer

if TYPE_CHECKING:
    import optuna


class StudyProgress(Observer):
    """An observer that drives one bar, gone once the trials are over (before the refit's
    lines).

    ``print`` writes a line above the bar (or plainly, when the bar is off).
    """

    def __init__(self, trials: int, folds: int, enabled: bool):
        self.folds = folds
        self.best: float | None = None
        self.bar: Any = tqdm(
            total=trials,
            unit="trial",
            desc="trials",
            dynamic_ncols=True,
            disable=not enabled,
            file=sys.stdout,
            leave=False,
        )

    @staticmethod
    def wanted(quiet: bool) -> bool:
        """A bar only on an interactive terminal, and not with ``--quiet``."""
        return not quiet and sys.stdout.isatty()

    def print(self, line: str) -> None:
        if self.bar.disable:
            print(line, flush=True)
        else:
            tqdm.write(line, file=sys.stdout)

    def on_epoch(self, trial_number: int, fold: int | None, epoch: int, epochs: int) -> None:
        where = f"folds 1-{self.folds} at once" if fold is None else f"fold {fold + 1}/{self.folds}"
        best = "" if self.best is None else f", best {self.best:.4f}"
        self.bar.set_postfix_str(
            f"trial {trial_number}: {where}, epoch {epoch}/{epochs}{best}", refresh=True
        )

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        # Only a complete trial has a score over every fold (a pruned one's is partial).
        value = trial.value if trial.state == TrialState.COMPLETE else None
        if value is not None and (self.best is None or value > self.best):
            self.best = value
        self.bar.update(1)

    def on_search_end(self) -> None:
        self.bar.close()

    def close(self) -> None:
        self.bar.close()
