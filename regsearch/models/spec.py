"""How a study names its model: a *spec* is ``mlp``, ``cnn``, ``package.module:function``,
``path/to/file.py:function``, or (in Python) a callable ``build(input_shape, n_classes)``.

A study records a model by its spec: the text as given, or a callable's
``module:qualified_name``. A worker process or a resumed run finds the same model by loading
that spec again (:mod:`regsearch.models.loading`), so a callable must be importable there (a
module-level function, not a lambda or a function defined inside another).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from regsearch.errors import ModelError, param

ModelFactory = Callable[[tuple[int, ...], int], Any]
"""``(input_shape, n_classes) -> model``: a freshly initialised, unregularized model of the
backend's framework (a ``keras.Model`` or a ``torch.nn.Module``) whose outputs are logits or
probabilities, ``(batch, n_classes)``. ``input_shape`` is one example's shape as the framework
lays it out: ``(H, W, C)`` for Keras, ``(C, H, W)`` for PyTorch, ``(F,)`` for features. Called
once per fold and for the refit, after the framework's random state is seeded."""

BUILTIN_MODELS: tuple[str, ...] = ("mlp", "cnn")

ModelSpec = str | ModelFactory
"""What ``--model`` / ``StudyConfig.model`` takes: a name, a ``module:function`` or
``file.py:function`` reference, or a callable ``build(input_shape, n_classes)``."""

REFERENCE = re.compile(r"^(?P<where>.+):(?P<name>[A-Za-z_][\w.]*)$")
"""``where:name``: a module or ``.py`` file, and a function (or a dotted attribute) in it."""


def spec_text(spec: ModelSpec) -> str:
    """How a study names its model: the text as given, or a callable's
    ``module:qualified_name``."""
    if isinstance(spec, str):
        return spec
    module = getattr(spec, "__module__", None) or type(spec).__module__
    name = getattr(spec, "__qualname__", None) or type(spec).__qualname__
    return f"{module}:{name}"


def model_label(spec: ModelSpec) -> str:
    """A short name for study names: ``cnn``, a file's stem or module's last part
    (``my_cnn``), or a callable's name."""
    if callable(spec):
        return str(getattr(spec, "__name__", type(spec).__name__))
    match = REFERENCE.match(spec)
    if match is None:
        return spec
    where = match["where"]
    return Path(where).stem if where.endswith(".py") else where.rsplit(".", 1)[-1]


def importable(spec: ModelSpec) -> bool:
    """Whether :func:`spec_text` of a callable names it so that another process finds it."""
    if isinstance(spec, str):
        return True
    text = spec_text(spec)
    return "<locals>" not in text and "<lambda>" not in text


def check_spec(spec: ModelSpec) -> None:
    """Refuse a ``--model`` value that cannot name a model, before anything is loaded.

    Raises:
        ModelError: neither a built-in name, a ``where:function`` reference nor a callable.
    """
    if callable(spec):
        return
    if not isinstance(spec, str) or not (spec in BUILTIN_MODELS or REFERENCE.match(spec)):
        raise ModelError(
            f"{param('model')} must be mlp, cnn, package.module:function or "
            f"path/to/file.py:function (in Python also a callable), got {spec!r}. Example: "
            f"{param('model')} models/my_cnn.py:build"
        )
