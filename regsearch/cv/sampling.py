"""How a trial samples its configuration from the search space (Optuna's ``suggest_*``)."""

from __future__ import annotations

import optuna

from regsearch.config import NO_PENALTY, SearchSpace
from regsearch.penalty import Penalty


def penalty_choices(space: SearchSpace) -> list[str]:
    """The penalty categorical's choices: the space's penalty types, and ``none`` where the
    learning rate is searched (so that the unregularized configuration is searched over the
    learning rate like every family, not handicapped at one fixed rate)."""
    extra = [NO_PENALTY] if space.lr_range is not None else []
    return list(space.penalties) + extra


def suggest_configuration(
    trial: optuna.Trial, space: SearchSpace, baseline: bool = False
) -> tuple[Penalty, float | None]:
    """A trial's penalty (none for the ``baseline``) and learning rate (``None``: the fixed
    ``TrainSettings.lr``; else the log-uniform ``lr`` in ``space.lr_range``, sampled by every
    trial alike, the baseline's included)."""
    penalty = Penalty() if baseline else suggest_penalty(trial, space)
    if space.lr_range is None:
        return penalty, None
    low, high = space.lr_range
    return penalty, trial.suggest_float("lr", low, high, log=True)


def suggest_penalty(trial: optuna.Trial, space: SearchSpace) -> Penalty:
    """Sample a penalty: a categorical ``penalty`` and log-uniform ``l1``/``l2`` or
    ``weight_decay`` as needed.

    The categorical offers the same choices in every trial (Optuna requires it, see
    :func:`penalty_choices`); ``l1_l2`` samples both lambdas, independently, from the same
    range; ``weight_decay`` samples the decay from its own range (``decay_min``,
    ``decay_max``): a family of its own, never combined with ``l1`` (see the docs' guide).
    """
    kind = trial.suggest_categorical("penalty", penalty_choices(space))
    l1 = l2 = 0.0
    if kind in ("l1", "l1_l2"):
        l1 = trial.suggest_float("l1", space.lambda_min, space.lambda_max, log=True)
    if kind in ("l2", "l1_l2"):
        l2 = trial.suggest_float("l2", space.lambda_min, space.lambda_max, log=True)
    if kind == "weight_decay":
        decay = trial.suggest_float("weight_decay", space.decay_min, space.decay_max, log=True)
        return Penalty(weight_decay=decay)
    return Penalty(l1=l1, l2=l2)
