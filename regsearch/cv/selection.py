"""The selection rules: which complete configuration the refit retrains.

A rule takes the complete trials and returns one, like scikit-learn's callable ``refit``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from optuna.trial import FrozenTrial

from regsearch import records
from regsearch.config import SELECTION_RULES
from regsearch.errors import ConfigError, NothingToRefit

SelectionRule = Callable[[Sequence[FrozenTrial]], FrozenTrial]


def standard_error(scores: list[float]) -> float:
    """``s / sqrt(k)``: ``s`` the sample standard deviation (ddof=1) of the ``k`` fold scores;
    ``nan`` for fewer than two folds."""
    if len(scores) < 2:
        return math.nan
    return float(np.std(scores, ddof=1) / math.sqrt(len(scores)))


def strength(trial: FrozenTrial) -> float:
    """How strongly a configuration regularizes, for the one-standard-error rule: ``l1 + l2 +
    weight_decay`` (0 for the baseline). Exact within one penalty type; across types it is a
    convention, as the strengths of L1, L2 and the decay are not on one scale."""
    penalty = records.penalty_of(trial)
    return penalty.l1 + penalty.l2 + penalty.weight_decay


def select_best(trials: Sequence[FrozenTrial]) -> FrozenTrial:
    """The highest mean CV accuracy (the lowest trial number among equals, as Optuna)."""
    return max(trials, key=lambda t: (score(t), -t.number))


def select_one_se(trials: Sequence[FrozenTrial]) -> FrozenTrial:
    """The one-standard-error rule (Hastie, Tibshirani and Friedman, ESL 7.10): among the
    configurations whose mean CV accuracy is at least ``best mean - SE(best)``, the most
    strongly regularized one (largest :func:`strength`; the better mean among equals).
    ``SE(best)`` is :func:`standard_error` of the best configuration's fold scores."""
    best = select_best(trials)
    se = standard_error(records.fold_scores(best))
    if not math.isfinite(se):
        return best
    threshold = score(best) - se
    eligible = [t for t in trials if score(t) >= threshold]
    return max(eligible, key=lambda t: (strength(t), score(t), -t.number))


RULES: dict[str, SelectionRule] = {"best": select_best, "one-se": select_one_se}


def select(trials: Sequence[FrozenTrial], rule: str) -> FrozenTrial:
    """Apply selection ``rule`` (``best`` or ``one-se``) to the complete trials."""
    if not trials:
        raise NothingToRefit("no complete trial to select from")
    if rule not in RULES:
        raise ConfigError(
            f"selection rule must be one of {', '.join(SELECTION_RULES)}, got {rule!r}"
        )
    return RULES[rule](trials)


def score(trial: FrozenTrial) -> float:
    """A trial's mean CV accuracy for ranking; ``-inf`` for a trial without one."""
    return float(trial.value) if trial.value is not None else -math.inf
