"""How a trial samples its configuration from the search space (Optuna's ``suggest_*``)."""

from __future__ import annotations

import optuna

from regsearch.config import SearchSpace
from regsearch.penalty import Penalty


def suggest_penalty(trial: optuna.Trial, space: SearchSpace) -> Penalty:
    """Sample a penalty: a categorical ``penalty`` and log-uniform ``l1``/``l2`` as needed.

    The categorical offers the same choices in every trial (Optuna requires it); ``l1_l2``
    samples both lambdas, independently, from the same range.
    """
    kind = trial.suggest_categorical("penalty", list(space.penalties))
    l1 = l2 = 0.0
    if kind in ("l1", "l1_l2"):
        l1 = trial.suggest_float("l1", space.lambda_min, space.lambda_max, log=True)
    if kind in ("l2", "l1_l2"):
        l2 = trial.suggest_float("l2", space.lambda_min, space.lambda_max, log=True)
    return Penalty(l1=l1, l2=l2)
