"""What the sampler may choose: the penalty types and the lambdas' log-uniform range."""

from __future__ import annotations

from dataclasses import dataclass

from regsearch.config.checks import check_positive_finite
from regsearch.config.choices import PENALTY_TYPES
from regsearch.errors import ConfigError, param


@dataclass(frozen=True)
class SearchSpace:
    """What the sampler may choose.

    Attributes:
        penalties: penalty types, a non-empty subset of ``("l1", "l2", "l1_l2")``.
        lambda_min, lambda_max: bounds of every lambda, sampled log-uniformly; ``log=True``
            excludes 0, so "no regularization" is the study's separate baseline trial.
    """

    penalties: tuple[str, ...] = PENALTY_TYPES
    lambda_min: float = 1e-6
    lambda_max: float = 1e-1

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
        check_positive_finite("lambda_min", self.lambda_min)
        check_positive_finite("lambda_max", self.lambda_max)
        low, high = param("lambda_min"), param("lambda_max")
        if not self.lambda_min < self.lambda_max:
            raise ConfigError(
                f"`{low} < {high}` must hold for a log-uniform range, but got "
                f"({low}={self.lambda_min:g}, {high}={self.lambda_max:g})."
            )
