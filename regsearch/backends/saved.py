"""Models regsearch saved, loaded back ready for raw rows.

A ``.keras`` file is a plain Keras model (``keras.models.load_model``); its feature scaling,
if any, is its first layer. A ``.pt`` file holds ``state_dict``, ``architecture`` and
``scaling``: :func:`load_model` rebuilds the model with the same builder (which must be
importable as recorded: ``mlp``, ``cnn``, ``package.module:function`` or a file path relative
to where you run), loads the weights, and puts the scaling in front
(:class:`regsearch.backends.torch_model.Scaled`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from regsearch.errors import DataError
from regsearch.models.spec import ModelSpec

_BATCH = 4096  # rows per forward pass in predict_proba; bounds memory, not results


def load_model(path: str | Path, model: ModelSpec | None = None) -> Any:
    """The model saved at ``path`` (``.keras`` or ``.pt``), in evaluation mode.

    A ``.pt`` file is rebuilt with ``model`` where given (the same builder the study used,
    e.g. a lambda that cannot be imported by its recorded name), else with the recorded one.

    A PyTorch model takes rows in PyTorch's layout (images ``(N, C, H, W)``) and has an
    ``outputs`` attribute, ``logits`` or ``probabilities``; :func:`predict_proba` handles
    both layouts and kinds.

    Raises:
        DataError: no such file, or not a model regsearch saved.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file; a saved model is <study>.keras or <study>.pt.")
    if path.suffix == ".keras":
        from regsearch.backends.keras_runtime import keras

        return keras.models.load_model(path)
    if path.suffix != ".pt":
        raise DataError(f"{path}: not a saved model; regsearch saves .keras and .pt files.")
    import torch

    from regsearch.backends.torch_model import Scaled, materialised
    from regsearch.models import model_factory

    saved = torch.load(path, weights_only=True, map_location="cpu")
    if not isinstance(saved, dict) or "architecture" not in saved:
        raise DataError(f"{path}: not a model regsearch saved (no 'architecture' in it).")
    arch = saved["architecture"]
    spec = arch["model"] if model is None else model
    factory = model_factory(spec, "torch", tuple(arch.get("hidden", (128,))))
    input_shape = tuple(arch["input_shape"])
    module = materialised(
        factory(input_shape, int(arch["n_classes"])), torch.zeros((1, *input_shape))
    )
    module.load_state_dict(saved["state_dict"])
    scaling = saved.get("scaling")
    if scaling is not None:  # shift and scale are stored in the model's layout
        module = Scaled(module, scaling["shift"], scaling["scale"])
    module.outputs = arch.get("outputs", "logits")
    return module.eval()


def predict_proba(model: Any, x: np.ndarray) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` of a :func:`load_model` model for raw rows ``x``
    in the dataset's layout (images ``(N, H, W, C)``, channels last, as regsearch loads them)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if hasattr(model, "state_dict") and hasattr(model, "outputs"):
        import torch

        from regsearch.backends.torch_model import channels_first

        with torch.no_grad():
            rows = torch.from_numpy(channels_first(x))
            found = torch.cat([model(rows[b : b + _BATCH]) for b in range(0, len(rows), _BATCH)])
            if model.outputs == "logits":
                found = found.softmax(1)
            return np.asarray(found.numpy())
    outputs = np.concatenate(
        [np.asarray(model(x[b : b + _BATCH], training=False)) for b in range(0, len(x), _BATCH)]
    )
    loss = getattr(model, "loss", None)
    if loss is None:  # saved uncompiled (a model Keras cannot clone): tell by the values
        from regsearch.models.summary import output_kind

        logits = output_kind(outputs) == "logits"
    else:
        logits = bool(getattr(loss, "from_logits", True))
    if logits:
        shifted = np.exp(outputs - outputs.max(1, keepdims=True))
        return shifted / shifted.sum(1, keepdims=True)
    return outputs
