"""A progress bar for a running study (tqdm): trials done and to go, the fold in progress, the
best score so far and tqdm's estimate of the time left. Shown only on a terminal."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

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

    def on_fold(self, trial_number: int, fold: int, penalty: Penalty, fit: Fit) -> None:
        following = f"fold {fold + 2}/{self.folds}" if fold + 1 < self.folds else "scoring"
        best = "" if self.best is None else f", best {self.best:.4f}"
        self.bar.set_postfix_str(f"trial {trial_number}: {following}{best}", refresh=True)

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.value is not None and (self.best is None or trial.value > self.best):
            self.best = trial.value
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
