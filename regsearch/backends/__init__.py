"""Training backends: one small interface (:mod:`regsearch.backends.base`), one module per
framework, imported lazily, and the epoch loop they share (:mod:`regsearch.backends.loop`)."""

from __future__ import annotations

import importlib
import importlib.util
import sys

from regsearch.backends.base import Backend, Fit, FoldParallel, Job, ModelFactory, Trainer
from regsearch.errors import BackendUnavailable, param
from regsearch.threads import prepare_openmp

__all__ = ["Backend", "Fit", "FoldParallel", "Job", "ModelFactory", "Trainer", "get_backend"]

_MODULES = {
    "tf": ("regsearch.backends.tf", "tensorflow", "tf"),
    "torch": ("regsearch.backends.torch", "torch", "torch"),
}


def get_backend(name: str) -> Backend:
    """Import and return the backend ``tf`` or ``torch``.

    Raises:
        BackendUnavailable: the framework is missing; the message gives the install command.
        KeyError: unknown name.
    """
    module_name, package, extra = _MODULES[name]
    if name == "torch":
        _refuse_torch_after_tensorflow()
        prepare_openmp()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in (package, "torchvision", "keras"):
            raise
        raise BackendUnavailable(
            f"{param('backend')} {name} needs {exc.name.split('.')[0]}, which is not "
            f"installed. Install it with: pip install 'regsearch[{extra}]'"
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
