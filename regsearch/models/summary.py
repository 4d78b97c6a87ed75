"""What a study records and prints of its model: which weights the penalty covers, how many
values are trained, what the outputs are, and a fingerprint of the architecture."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

OUTPUTS = ("logits", "probabilities")
"""A model's outputs: unnormalised scores, or probabilities (each row >= 0, summing to 1:
the model ends in a softmax). The loss takes the log of probabilities (clipped at 1e-7, as
Keras' cross-entropy does), so both train alike."""

_SHOWN = 6  # weights named in the printed summary; the study stores them all


@dataclass(frozen=True)
class Weight:
    """One trainable tensor: its name in the framework and its shape in that framework's
    layout."""

    name: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __str__(self) -> str:
        return f"{self.name} {self.shape}"


@dataclass(frozen=True)
class ModelSummary:
    """A built model, described once before any trial.

    Attributes:
        spec: the ``--model`` value (``mlp``, ``cnn``, ``module:function``, ``file.py:function``).
        framework: ``tf`` or ``torch``.
        input_shape: one example's shape as the model receives it.
        outputs: ``logits`` or ``probabilities`` (see :data:`OUTPUTS`).
        penalized: the trainable weights of two or more dimensions, in the model's order.
        not_penalized: the other trainable weights (biases, normalization scales and shifts).
        fingerprint: SHA-256 of the layer types and every weight's (and buffer's) name and
            shape: equal for the same architecture built again, in any process.
    """

    spec: str
    framework: str
    input_shape: tuple[int, ...]
    outputs: str
    penalized: tuple[Weight, ...]
    not_penalized: tuple[Weight, ...]
    fingerprint: str

    @property
    def trainable_parameters(self) -> int:
        return sum(w.size for w in (*self.penalized, *self.not_penalized))

    def identity(self) -> dict[str, Any]:
        """What a resumed study must share (the spec's text may differ, e.g. another path to
        the same file)."""
        return {"fingerprint": self.fingerprint, "trainable_parameters": self.trainable_parameters}

    def record(self) -> dict[str, Any]:
        """JSON-ready, for the study's ``model_summary``."""
        return {
            "spec": self.spec,
            "framework": self.framework,
            "input_shape": list(self.input_shape),
            "outputs": self.outputs,
            "penalized": [[w.name, list(w.shape)] for w in self.penalized],
            "not_penalized": [[w.name, list(w.shape)] for w in self.not_penalized],
        }

    def describe(self) -> list[str]:
        """Lines for the start of a run."""
        return [
            f"Model: {self.spec} ({self.framework}), input {self.input_shape}, "
            f"{self.trainable_parameters:,} trainable values, outputs {self.outputs}.",
            "Penalized: " + _weights(self.penalized) + ".",
            "Not penalized (fewer than 2 dimensions: biases, normalization): "
            + _weights(self.not_penalized)
            + ".",
        ]


def _weights(weights: tuple[Weight, ...]) -> str:
    if not weights:
        return "none"
    total = sum(w.size for w in weights)
    shown = ", ".join(map(str, weights[:_SHOWN]))
    more = f", and {len(weights) - _SHOWN} more" if len(weights) > _SHOWN else ""
    return f"{len(weights)} tensor{'s' * (len(weights) != 1)}, {total:,} values: {shown}{more}"


def fingerprint(layers: list[str], tensors: list[tuple[str, tuple[int, ...], bool]]) -> str:
    """SHA-256 of the layer type names (in order) and each tensor's ``(name, shape,
    trainable)``."""
    text = json.dumps({"layers": layers, "tensors": [[n, list(s), t] for n, s, t in tensors]})
    return hashlib.sha256(text.encode()).hexdigest()


def output_kind(outputs: Any) -> str:
    """``probabilities`` when every row of ``outputs`` (NumPy, ``(n, classes)``) is >= 0 and
    sums to 1 within 1e-4; else ``logits``. A freshly initialised logits model practically
    never gives such rows."""
    import numpy as np

    rows = np.asarray(outputs, dtype=np.float64)
    if rows.size and (rows >= 0).all() and np.allclose(rows.sum(axis=1), 1.0, atol=1e-4):
        return "probabilities"
    return "logits"
