"""A progress bar for a running study (tqdm): trials done and to go, the trial, fold and epoch
in progress, the best complete trial's score so far and tqdm's estimate of the time left. It
moves every epoch. Shown only on a terminal."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from optuna.trial import TrialState
from tqdm import tqdm

if TYPE_CHECKING:
    import optuna

    from regsearch.backends import Fit
    from regsearch.penalty import Penalty


class StudyProgress:
    """An :class:`~regsearch.observe.Observer` that drives one bar.

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

    def on_epoch_end(
        self, trial_number: int, fold: int, epoch: int, penalty: Penalty, logs: dict[str, float]
    ) -> None:
        pass

    def on_fold(self, trial_number: int, fold: int, penalty: Penalty, fit: Fit) -> None:
        pass

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        # Only a complete trial has a score over every fold (a pruned one's is partial).
        value = trial.value if trial.state == TrialState.COMPLETE else None
        if value is not None and (self.best is None or value > self.best):
            self.best = value
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
