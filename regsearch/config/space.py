"""What the sampler may choose: the penalty types, the lambdas' and the weight decay's
log-uniform ranges, and optionally the learning rate's."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from regsearch.config.checks import check_positive_finite
from regsearch.config.choices import DEFAULT_PENALTIES, PENALTY_TYPES
from regsearch.errors import ConfigError, param


def check_log_range(low_name: str, low: Any, high_name: str, high: Any) -> None:
    """``0 < low < high``, both finite, as a log-uniform range needs."""
    check_positive_finite(low_name, low)
    check_positive_finite(high_name, high)
    if not low < high:
        lo, hi = param(low_name), param(high_name)
        raise ConfigError(
            f"`{lo} < {hi}` must hold for a log-uniform range, but got "
            f"({lo}={low:g}, {hi}={high:g})."
        )


@dataclass(frozen=True)
class SearchSpace:
    """What the sampler may choose.

    Attributes:
        penalties: penalty types, a non-empty subset of ``("l1", "l2", "l1_l2",
            "weight_decay")``; by default the three loss penalties.
        lambda_min: the lower bound of every lambda (``l1``, ``l2``), sampled log-uniformly;
            ``log=True`` excludes 0, so "no regularization" is the study's separate baseline.
        lambda_max: the upper bound of every lambda.
        decay_min: the lower bound of the decoupled ``weight_decay``, sampled log-uniformly
            (its useful values lie orders of magnitude above an L2 lambda's: the decay shrinks
            each weight by ``lr * weight_decay`` per step, about 1e-4 of it per step at Adam's
            lr 1e-3 and a decay of 0.1).
        decay_max: the upper bound of the ``weight_decay``.
        lr_range: ``(low, high)``: the learning rate searched log-uniformly in that range, by
            every trial alike, the unregularized family's included (see
            :func:`regsearch.cv.sampling.suggest_configuration`); ``None``: the fixed
            ``TrainSettings.lr``.
    """

    penalties: tuple[str, ...] = DEFAULT_PENALTIES
    lambda_min: float = 1e-6
    lambda_max: float = 1e-1
    decay_min: float = 1e-4
    decay_max: float = 10.0
    lr_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if not self.penalties:
            raise ConfigError(
                f"{param('penalties')} must name at least one of {', '.join(PENALTY_TYPES)}, "
                "got none."
            )
        unknown = [p for p in self.penalties if p not in PENALTY_TYPES]
        if unknown:
            raise ConfigError(
                f"{param('penalties')} must be among {', '.join(PENALTY_TYPES)}, got unknown "
                f"{', '.join(map(repr, unknown))}. Example: {param('penalties')} l1,l2"
            )
        if len(set(self.penalties)) != len(self.penalties):
            raise ConfigError(
                f"{param('penalties')} must not repeat a type, got {','.join(self.penalties)}."
            )
        check_log_range("lambda_min", self.lambda_min, "lambda_max", self.lambda_max)
        check_log_range("decay_min", self.decay_min, "decay_max", self.decay_max)
        if self.lr_range is not None:
            values = tuple(self.lr_range)
            if len(values) != 2:
                raise ConfigError(
                    f"{param('lr_range')} must be two learning rates LOW,HIGH, got "
                    f"{len(values)} value{'s' * (len(values) != 1)} "
                    f"({', '.join(map(str, values))}). Example: {param('lr_range')} 1e-4,1e-2"
                )
            low, high = values
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                raise ConfigError(f"{param('lr_range')} must be two numbers, got {values!r}.")
            if not all(math.isfinite(v) and v > 0 for v in values) or not low < high:
                raise ConfigError(
                    f"{param('lr_range')} must be LOW,HIGH with 0 < LOW < HIGH for a "
                    f"log-uniform range, got {low:g},{high:g}. Example: "
                    f"{param('lr_range')} 1e-4,1e-2"
                )

    @property
    def decays(self) -> bool:
        """Whether the decoupled weight decay is among the penalties searched."""
        return "weight_decay" in self.penalties

    def identity(self) -> dict[str, Any]:
        """What a resumed study must share: the penalties and the ranges it samples from (the
        decay's range only where it is searched, the learning rate's only where it is)."""
        found: dict[str, Any] = {
            "penalties": list(self.penalties),
            "lambda_min": self.lambda_min,
            "lambda_max": self.lambda_max,
        }
        if self.decays:
            found |= {"decay_min": self.decay_min, "decay_max": self.decay_max}
        if self.lr_range is not None:
            found["lr_range"] = [float(v) for v in self.lr_range]
        return found
