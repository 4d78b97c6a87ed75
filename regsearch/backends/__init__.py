"""Training backends: one small interface (:mod:`regsearch.backends.base`), one module per
framework, imported lazily, and the epoch loop they share (:mod:`regsearch.backends.loop`)."""

from __future__ import annotations

import importlib
import importlib.util
import sys

from regsearch.backends.base import Backend, Fit, FoldParallel, Job, Trainer
from regsearch.config.choices import BACKEND_MODULES
from regsearch.errors import BackendUnavailable, ConfigError, param
from regsearch.models.spec import ModelFactory
from regsearch.threads import prepare_openmp

__all__ = ["Backend", "Fit", "FoldParallel", "Job", "ModelFactory", "Trainer", "get_backend"]


def get_backend(name: str) -> Backend:
    """Import and return the backend ``name`` of the registry
    (:data:`regsearch.config.choices.BACKEND_MODULES`): ``tf`` or ``torch``.

    Raises:
        BackendUnavailable: the framework is missing; the message gives the install command.
        ConfigError: no backend of that name.
    """
    entry = BACKEND_MODULES.get(name)
    if entry is None:
        raise ConfigError(
            f"{param('backend')} must be one of {', '.join(BACKEND_MODULES)}, got {name!r}."
        )
    if name == "torch":
        _refuse_torch_after_tensorflow()
        prepare_openmp()
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in entry.packages:
            raise
        raise BackendUnavailable(
            f"{param('backend')} {name} needs {exc.name.split('.')[0]}, which is not "
            f"installed. Install it with: pip install 'regsearch[{entry.extra}]'"
        ) from exc
    backend: Backend = module.BACKEND
    return backend


def _refuse_torch_after_tensorflow() -> None:
    """PyTorch's CUDA wheels load triton on the first optimizer; loaded after TensorFlow, its
    LLVM clashes with TensorFlow's and the process dies with a segmentation fault. Say so
    instead (importing torch first, as the test suite does, is safe)."""
    if (
        "tensorflow" in sys.modules
        and "triton" not in sys.modules
        and importlib.util.find_spec("triton") is not None
    ):
        raise BackendUnavailable(
            f"{param('backend')} torch cannot start in a process that has already loaded "
            "TensorFlow: triton (shipped with PyTorch) would crash it. Run the torch backend "
            "in its own process, or import torch._dynamo before tensorflow."
        )
