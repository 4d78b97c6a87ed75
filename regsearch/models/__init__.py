"""Model factories: what the backends train. A factory is called as
``factory(input_shape, n_classes)`` and returns a fresh, unregularized model of one framework
(see :data:`regsearch.models.ModelFactory`); the backend adds the penalty.

Built in: ``mlp`` (:mod:`regsearch.models.mlp`) and ``cnn`` (:mod:`regsearch.models.cnn`); a
user's function is loaded by :mod:`regsearch.models.loading`. A new built-in model is a module
here and a line in :func:`model_factory`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from regsearch.models.cnn import CNN
from regsearch.models.loading import load_builder
from regsearch.models.mlp import MLP
from regsearch.models.spec import BUILTIN_MODELS, ModelFactory, ModelSpec, spec_text

__all__ = [
    "BUILTIN_MODELS",
    "CNN",
    "MLP",
    "ModelFactory",
    "ModelSpec",
    "UserModel",
    "architecture",
    "model_factory",
    "spec_of",
]


@dataclass(frozen=True)
class UserModel:
    """A user's ``build(input_shape, n_classes)``, with the spec that named it."""

    spec: str
    build: Callable[[tuple[int, ...], int], Any]

    def __call__(self, input_shape: tuple[int, ...], n_classes: int) -> Any:
        return self.build(input_shape, n_classes)


def model_factory(spec: ModelSpec, framework: str, hidden: tuple[int, ...] = (128,)) -> Any:
    """The factory of ``spec`` for ``framework`` (``tf`` or ``torch``): the built-in MLP of
    ``hidden`` widths, the built-in CNN, or the user's function.

    Raises:
        ModelError: the spec cannot be loaded (see :func:`regsearch.models.loading.load_builder`).
    """
    if spec == "mlp":
        return MLP(tuple(hidden), framework=framework)
    if spec == "cnn":
        return CNN(framework=framework)
    return UserModel(spec_text(spec), load_builder(spec))


def spec_of(factory: ModelFactory) -> str:
    """The spec a study records for ``factory``."""
    if isinstance(factory, MLP):
        return "mlp"
    if isinstance(factory, CNN):
        return "cnn"
    if isinstance(factory, UserModel):
        return factory.spec
    return spec_text(factory)


def architecture(
    factory: ModelFactory, input_shape: tuple[int, ...], n_classes: int, outputs: str
) -> dict[str, Any]:
    """What a saved PyTorch model records to rebuild it before loading its weights:
    ``model_factory(model, "torch", hidden)(tuple(input_shape), n_classes)``, or the user's
    own function called the same way (``hidden`` only for the MLP)."""
    found: dict[str, Any] = {
        "model": spec_of(factory),
        "input_shape": [int(d) for d in input_shape],
        "n_classes": int(n_classes),
        "outputs": outputs,
    }
    if isinstance(factory, MLP):
        found["hidden"] = list(factory.hidden)
    return found
