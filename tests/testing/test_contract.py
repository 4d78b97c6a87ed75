"""The backend contract's two front doors, :func:`check_backend` and the pytest class, run the
same checks: one test per promise, none missing."""

from __future__ import annotations

from regsearch.testing import BACKEND_CHECKS, FakeBackend, contract
from regsearch.testing.pytest_contract import BackendContract


def test_the_pytest_class_has_one_test_per_check():
    tests = sorted(name for name in vars(BackendContract) if name.startswith("test_"))
    checks = sorted("test_" + check.__name__.removeprefix("check_") for check in BACKEND_CHECKS)
    assert tests == checks


def test_check_backend_runs_every_check_in_order(monkeypatch):
    ran = []
    recorders = [
        lambda backend, model, device, name=check.__name__: ran.append((name, model, device))
        for check in BACKEND_CHECKS
    ]
    monkeypatch.setattr(contract, "BACKEND_CHECKS", tuple(recorders))
    contract.check_backend(FakeBackend(), None, "cuda")
    assert ran == [(check.__name__, None, "cuda") for check in BACKEND_CHECKS]
