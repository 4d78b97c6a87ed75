"""Model factories: what the backends train. A factory is called as
``factory(input_shape, n_classes)`` and returns a fresh, unregularized model of one framework
(see :data:`regsearch.backends.ModelFactory`); the backend adds the penalty.

Built in: ``mlp`` (:mod:`regsearch.models.mlp`). A new built-in model is a module here and a
line in :func:`model_factory`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from regsearch.models.mlp import MLP

if TYPE_CHECKING:
    from regsearch.backends import ModelFactory
    from regsearch.config import TrainSettings

__all__ = ["MLP", "architecture", "model_factory"]


def model_factory(backend: str, settings: TrainSettings) -> ModelFactory:
    """The study's model for ``backend``: today the built-in MLP of ``settings.hidden``."""
    return MLP(settings.hidden, framework=backend)


def architecture(factory: ModelFactory, input_shape: tuple[int, ...], n_classes: int) -> Any:
    """What a saved model records of its architecture, to rebuild it before loading weights:
    the MLP's sizes (``n_features``, ``hidden``, ``n_classes``), or the factory's name."""
    if isinstance(factory, MLP):
        return {
            "n_features": int(input_shape[0]),
            "hidden": list(factory.hidden),
            "n_classes": n_classes,
        }
    return {"factory": f"{factory.__module__}:{getattr(factory, '__qualname__', factory)}"}
