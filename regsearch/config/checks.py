"""Value checks every settings class shares; each raises :class:`ConfigError` saying what must
hold and what was given."""

from __future__ import annotations

import math
from typing import Any

from regsearch.errors import ConfigError, param


def check_int(name: str, value: Any, minimum: int, what: str | None = None) -> None:
    """``value`` must be an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{what or param(name)} must be an integer >= {minimum}, got {value!r}.")


def check_positive_finite(name: str, value: Any) -> None:
    """``value`` must be a finite number above 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"{param(name)} must be a finite number > 0, got {value!r}.")
