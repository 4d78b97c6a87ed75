"""Training backends: one small interface, one module per framework, imported lazily.

A backend only trains and predicts; it never touches the Optuna trial. Metrics are computed by
:mod:`regsearch.metrics` from the backend's logits, so both backends share one definition.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from regsearch.config import TrainSettings
from regsearch.penalty import Penalty


class BackendUnavailable(ImportError):
    """The framework of the requested backend is not installed; the message has the fix."""


@dataclass
class Fit:
    """The outcome of training one model.

    Attributes:
        model: the trained model, with the best epoch's weights restored when a validation part
            was given (framework object; pass it back to the same trainer).
        history: per-epoch curves with Keras' keys: ``loss`` (penalized training loss),
            ``accuracy``, ``penalty`` (the penalty term at the epoch's end) and, with a
            validation part, ``val_loss`` (penalized, the early-stopping quantity) and
            ``val_accuracy``.
        best_epoch: 1-based epoch whose weights the model holds.
        fit_time: seconds spent training.
        diverged: why training stopped on a non-finite loss, or ``None``.
    """

    model: Any
    history: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = 0
    fit_time: float = 0.0
    diverged: str | None = None


class Trainer(Protocol):
    """Trains fresh models of one architecture on one training set, held as framework tensors."""

    def fit(
        self,
        train_idx: np.ndarray,
        val_idx: np.ndarray | None,
        penalty: Penalty,
        epochs: int,
        seed: int,
    ) -> Fit:
        """Train a freshly initialised model on the rows ``train_idx``.

        With ``val_idx``, early stopping watches the penalized validation loss of those rows
        (patience from the settings) and restores the best epoch's weights; without it, the
        model trains for exactly ``epochs``.
        """
        ...

    def predict_logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        """Logits ``(n, n_classes)`` as float32 NumPy."""
        ...

    def kernels(self, model: Any) -> list[np.ndarray]:
        """The weight matrices in Keras' layout ``(in, out)``, biases excluded."""
        ...

    def save(self, model: Any, path: Path) -> Path:
        """Save the model in the framework's own format; returns the path written."""
        ...

    def release(self) -> None:
        """Free framework state held for the last model (e.g. Keras' global graph)."""
        ...


class Backend(Protocol):
    """A framework able to build the MLP and train it with the regsearch penalty."""

    name: str
    """``tf`` or ``torch``"""
    model_suffix: str
    """file suffix of a saved model, ``.keras`` or ``.pt``"""

    def trainer(
        self, x: np.ndarray, y: np.ndarray, n_classes: int, settings: TrainSettings
    ) -> Trainer:
        """A trainer for the rows of ``(x, y)``, converted to framework tensors once."""
        ...

    def versions(self) -> dict[str, str]:
        """The framework's package versions, for the study's records."""
        ...

    def download_mnist(self, data_dir: Path) -> str:
        """Download MNIST into ``data_dir`` with the framework's own loader; returns a sentence
        saying where the files went."""
        ...


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
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in (package, "torchvision", "keras"):
            raise
        raise BackendUnavailable(
            f"--backend {name} needs {exc.name.split('.')[0]}, which is not installed. "
            f"Install it with: pip install 'regsearch[{extra}]'"
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
            "--backend torch cannot start in a process that has already loaded TensorFlow: "
            "triton (shipped with PyTorch) would crash it. Run the torch backend in its own "
            "process, or import torch._dynamo before tensorflow."
        )
