"""The backend contract as a pytest class (as Optuna's ``StorageTestCase``): subclass
:class:`BackendContract` with a ``backend`` fixture, and pytest runs one test per promise of
:data:`~regsearch.testing.contract.BACKEND_CHECKS`, each named for it::

    import pytest
    from regsearch.testing.pytest_contract import BackendContract

    class TestMyBackend(BackendContract):
        @pytest.fixture
        def backend(self):
            return MY_BACKEND

Override ``model`` (a :data:`~regsearch.models.ModelFactory`; default: the built-in MLP) and
``device`` (default ``cpu``) to check another model or device. This module imports pytest;
:func:`regsearch.testing.check_backend` runs the same checks without it.
"""

from __future__ import annotations

import pytest

from regsearch.backends.base import Backend
from regsearch.models.spec import ModelFactory
from regsearch.testing import checks_batched, checks_scaling, checks_training


class BackendContract:
    """One test per promise of the backend contract.

    A subclass must define the ``backend`` fixture; it may define ``model`` and ``device``.
    """

    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError("a BackendContract subclass defines the backend fixture")

    @pytest.fixture
    def model(self) -> ModelFactory | None:
        return None

    @pytest.fixture
    def device(self) -> str:
        return "cpu"

    def test_fit_learns_and_restores_the_best_epoch(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_training.check_fit_learns_and_restores_the_best_epoch(backend, model, device)

    def test_fit_is_deterministic(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_training.check_fit_is_deterministic(backend, model, device)

    def test_early_stopping_sees_only_the_validation_rows(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_training.check_early_stopping_sees_only_the_validation_rows(backend, model, device)

    def test_divergence_is_reported_not_raised(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_training.check_divergence_is_reported_not_raised(backend, model, device)

    def test_epochs_are_told_as_they_end(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_training.check_epochs_are_told_as_they_end(backend, model, device)

    def test_fold_parallel_matches_one_by_one(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_batched.check_fold_parallel_matches_one_by_one(backend, model, device)

    def test_fold_parallel_keeps_each_models_rows(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_batched.check_fold_parallel_keeps_each_models_rows(backend, model, device)

    def test_fold_parallel_reports_divergence(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_batched.check_fold_parallel_reports_divergence(backend, model, device)

    def test_population_matches_one_by_one(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_batched.check_population_matches_one_by_one(backend, model, device)

    def test_population_judges_stop_their_group(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_batched.check_population_judges_stop_their_group(backend, model, device)

    def test_population_divergence_stops_only_its_trial(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_batched.check_population_divergence_stops_only_its_trial(backend, model, device)

    def test_scaling_is_fitted_on_training_rows_only(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_scaling.check_scaling_is_fitted_on_training_rows_only(backend, model, device)

    def test_saved_model_takes_raw_rows(
        self, backend: Backend, model: ModelFactory | None, device: str
    ) -> None:
        checks_scaling.check_saved_model_takes_raw_rows(backend, model, device)
