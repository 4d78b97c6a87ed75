"""Testing helpers, for regsearch's own tests and for whoever writes a backend or a model.

- :class:`FakeBackend` (:mod:`~regsearch.testing.fake`): a deterministic, framework-free
  backend for testing the orchestration.
- :func:`synthetic_dataset` (:mod:`~regsearch.testing.synthetic`): tiny separable blobs.
- :func:`check_backend` (:mod:`~regsearch.testing.contract`): the contract every backend
  keeps (like scikit-learn's ``check_estimator``), one check per promise, by topic in
  :mod:`~regsearch.testing.checks_training`, :mod:`~regsearch.testing.checks_batched` and
  :mod:`~regsearch.testing.checks_scaling`; with pytest, subclass
  :class:`regsearch.testing.pytest_contract.BackendContract` for one test per promise.
"""

from regsearch.testing.check_kit import CHECK_DATA
from regsearch.testing.contract import BACKEND_CHECKS, BackendCheck, check_backend
from regsearch.testing.fake import Call, FakeBackend, FakeTrainer
from regsearch.testing.synthetic import raw_scales, synthetic_dataset

__all__ = [
    "BACKEND_CHECKS",
    "CHECK_DATA",
    "BackendCheck",
    "Call",
    "FakeBackend",
    "FakeTrainer",
    "check_backend",
    "raw_scales",
    "synthetic_dataset",
]
