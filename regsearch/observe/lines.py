"""The line a finished trial prints: number, penalty, lambdas, score or reason, time."""

from __future__ import annotations

from collections.abc import Callable

import optuna
from optuna.trial import FrozenTrial, TrialState

from regsearch import records
from regsearch.observe.base import Observer
from regsearch.penalty import lambda_cell


def trial_line(trial: FrozenTrial) -> str:
    """One line for a finished trial: number, penalty, lambdas, score or reason, time."""
    seconds = trial.duration.total_seconds() if trial.duration else 0.0
    penalty = records.penalty_of(trial)
    kind = records.penalty_kind(trial)
    strengths = (
        # As wide as the lambdas' two columns, less what the longer type name took.
        f"{'wd=' + lambda_cell(penalty.weight_decay):<{25 - max(0, len(kind) - 6)}}"
        if penalty.weight_decay
        else f"l1={lambda_cell(penalty.l1):<9} l2={lambda_cell(penalty.l2):<9}"
    )
    lr = records.lr_of(trial)
    rate = "" if lr is None else f" lr={lr:.2e}"
    head = f"trial {trial.number:>3}  {kind:<6} {strengths}{rate}"
    if trial.state == TrialState.COMPLETE:
        mean = trial.user_attrs[records.MEAN_SCORE]
        std = trial.user_attrs[records.STD_SCORE]
        tail = "  (baseline, no penalty)" if records.is_baseline(trial) else ""
        return f"{head}  acc {mean:.4f} ± {std:.4f}  {seconds:6.1f} s{tail}"
    reason = records.reason(trial) or trial.state.name.lower()
    return f"{head}  {reason}  ({seconds:.1f} s)"


class TrialLines(Observer):
    """Writes :func:`trial_line` for each finished trial."""

    def __init__(self, write: Callable[[str], None] = print, prefix: str = ""):
        self.write = write
        self.prefix = prefix

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self.write(self.prefix + trial_line(trial))
