"""The contract every backend keeps, for users without pytest (as scikit-learn's
``check_estimator``): :func:`check_backend` runs each check of :data:`BACKEND_CHECKS`, which
raises ``AssertionError`` with what went wrong. With pytest,
:class:`regsearch.testing.pytest_contract.BackendContract` runs the same checks, one test per
promise."""

from __future__ import annotations

from collections.abc import Callable

from regsearch.backends.base import Backend
from regsearch.models.spec import ModelFactory
from regsearch.testing.checks_batched import (
    check_fold_parallel_keeps_each_models_rows,
    check_fold_parallel_matches_one_by_one,
    check_fold_parallel_reports_divergence,
    check_population_divergence_stops_only_its_trial,
    check_population_judges_stop_their_group,
    check_population_matches_one_by_one,
)
from regsearch.testing.checks_scaling import (
    check_saved_model_takes_raw_rows,
    check_scaling_is_fitted_on_training_rows_only,
)
from regsearch.testing.checks_training import (
    check_divergence_is_reported_not_raised,
    check_early_stopping_sees_only_the_validation_rows,
    check_epochs_are_told_as_they_end,
    check_fit_is_deterministic,
    check_fit_learns_and_restores_the_best_epoch,
)

BackendCheck = Callable[[Backend, ModelFactory | None, str], None]
"""``check(backend, model, device)``: raises ``AssertionError`` where ``backend`` (training
``model``, or the built-in MLP for ``None``, on ``device``) breaks one promise."""

BACKEND_CHECKS: tuple[BackendCheck, ...] = (
    check_fit_learns_and_restores_the_best_epoch,
    check_fit_is_deterministic,
    check_early_stopping_sees_only_the_validation_rows,
    check_divergence_is_reported_not_raised,
    check_epochs_are_told_as_they_end,
    check_fold_parallel_matches_one_by_one,
    check_fold_parallel_keeps_each_models_rows,
    check_fold_parallel_reports_divergence,
    check_population_matches_one_by_one,
    check_population_judges_stop_their_group,
    check_population_divergence_stops_only_its_trial,
    check_scaling_is_fitted_on_training_rows_only,
    check_saved_model_takes_raw_rows,
)
"""Every promise of the backend contract, each a check of its own."""


def check_backend(backend: Backend, model: ModelFactory | None = None, device: str = "cpu") -> None:
    """Run every check of :data:`BACKEND_CHECKS` on ``backend`` (with ``model``, or the
    built-in MLP) on ``device``; raises ``AssertionError`` at the first broken promise."""
    for check in BACKEND_CHECKS:
        check(backend, model, device)
