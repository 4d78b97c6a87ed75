"""A Keras model built and checked for training: fresh from its factory (built on a sample if
it creates its weights on the first call), the weights the penalty covers named, and the
outputs' kind found.

The penalty rule, the one place it lives for Keras: every trainable variable with two or more
dimensions (``Dense`` and convolution kernels, recurrent kernels, ``Embedding`` tables), never
biases or normalization parameters: the tensors of Keras' kernel-like regularizer arguments.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from regsearch.backends.keras_runtime import keras
from regsearch.errors import ModelError, param
from regsearch.models import spec_of
from regsearch.models.contract import (
    built,
    called,
    check_fresh,
    check_outputs,
    check_penalized,
)
from regsearch.models.summary import ModelSummary, Weight, fingerprint, output_kind
from regsearch.penalty import Penalty

_HINT = (
    f"With {param('backend')} tf the model is a keras.Model (a Sequential, a functional Model "
    "or a subclass; wrap a single layer in keras.Sequential); for a torch.nn.Module use "
    f"{param('backend')} torch."
)
_SAMPLE = 8
WEIGHT_REGULARIZERS = (
    "kernel_regularizer",
    "recurrent_regularizer",
    "embeddings_regularizer",
    "depthwise_regularizer",
    "pointwise_regularizer",
)
"""Layer arguments that regularize weights of two or more dimensions (never
``bias_regularizer``, ``beta_regularizer``/``gamma_regularizer`` or ``activity_regularizer``)."""


def penalized_variables(model: keras.Model) -> list[Any]:
    """The trainable variables of two or more dimensions, in ``trainable_variables`` order."""
    return [v for v in model.trainable_variables if len(v.shape) >= 2]


def decay_variables(variables: list[Any], weight_decay: Any, lr: Any) -> None:
    """Decoupled weight decay, in place, as Keras 3 optimizers apply their ``weight_decay``
    before the update (``BaseOptimizer._apply_weight_decay``)::

        v <- v - v * weight_decay * lr

    ``weight_decay`` 0 leaves every variable exactly as it was."""
    for v in variables:
        v.assign(v - v * keras.ops.cast(weight_decay, v.dtype) * keras.ops.cast(lr, v.dtype))


def fresh_model(
    factory: Callable[[tuple[int, ...], int], Any],
    input_shape: tuple[int, ...],
    n_classes: int,
    sample: np.ndarray,
) -> keras.Model:
    """``factory(input_shape, n_classes)``, built by one call on ``sample`` if it has no
    weights yet (a subclassed model creates them on its first call)."""
    return _with_weights(factory(input_shape, n_classes), sample)


def _with_weights(model: keras.Model, sample: np.ndarray) -> keras.Model:
    if not model.weights:
        model(sample[:1], training=False)
    return model


def summarize(
    factory: Callable[[tuple[int, ...], int], Any],
    input_shape: tuple[int, ...],
    n_classes: int,
    sample: np.ndarray,
) -> ModelSummary:
    """Build the model twice and check the contract (see :mod:`regsearch.models.contract`) on
    ``sample``, a batch of training examples.

    Raises:
        ModelError: what is wrong, naming the model.
    """
    spec = spec_of(factory)
    sample = sample[:_SAMPLE]
    model = built(factory, spec, input_shape, n_classes, keras.Model, _HINT)
    outputs = called(spec, lambda: model(sample, training=False), tuple(sample.shape))
    values = check_outputs(spec, outputs, len(sample), n_classes)
    again = _with_weights(built(factory, spec, input_shape, n_classes, keras.Model, _HINT), sample)
    check_fresh(spec, {id(v) for v in model.weights}, {id(v) for v in again.weights})
    weights = penalized_variables(model)
    penalized = [Weight(v.path, tuple(v.shape)) for v in weights]
    check_penalized(spec, len(penalized))
    check_no_own_regularizer(spec, model)
    chosen = {id(v) for v in weights}
    others = [
        Weight(v.path, tuple(v.shape)) for v in model.trainable_variables if id(v) not in chosen
    ]
    trainable = {id(v) for v in model.trainable_variables}
    tensors = [(_stable(v.path), tuple(v.shape), id(v) in trainable) for v in model.weights]
    return ModelSummary(
        spec=spec,
        framework="tf",
        input_shape=tuple(input_shape),
        outputs=output_kind(values),
        penalized=tuple(penalized),
        not_penalized=tuple(others),
        fingerprint=fingerprint(_layer_types(model), tensors),
    )


def check_no_own_regularizer(spec: str, model: keras.Model) -> None:
    """Refuse a model whose layers regularize their own weights (a ``kernel_regularizer`` or
    another of :data:`WEIGHT_REGULARIZERS`): regsearch searches that regularization itself,
    and a fixed one beside it would be a second, unsearched penalty (the trainers' loss
    leaves ``model.losses`` out, so it would silently not train either).

    Raises:
        ModelError: naming the layers and their regularizers.
    """
    found = [
        f"{layer.name}.{key}={type(getattr(layer, key)).__name__}"
        for layer in all_layers(model)
        for key in WEIGHT_REGULARIZERS
        if getattr(layer, key, None) is not None
    ]
    if found:
        raise ModelError(
            f"{param('model')} {spec}: the model regularizes its own weights "
            f"({', '.join(found)}), but regsearch searches that regularization itself: a fixed "
            "penalty beside the searched one would stack with it. Build the layers without "
            "a kernel_regularizer (or its like); regsearch adds the one it chooses, and the "
            "saved model carries it."
        )


def all_layers(model: Any) -> list[Any]:
    """Every layer of ``model``, nested models' included."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found += all_layers(layer)
    return found


def _stable(path: str) -> str:
    """A variable's path without the numbers Keras appends to repeated layer names
    (``conv2d_7/kernel`` -> ``conv2d/kernel``), which depend on what the process built before."""
    return "/".join(re.sub(r"_\d+$", "", part) for part in path.split("/"))


def _layer_types(layer: Any) -> list[str]:
    return [type(child).__name__ for child in all_layers(layer)]


def with_keras_penalty(model: keras.Model, penalty: Penalty) -> keras.Model:
    """A copy of ``model`` (same architecture, new weights) whose layers carry Keras' own
    ``L1L2(l1, l2)`` in every :data:`WEIGHT_REGULARIZERS` argument they have: how a Keras user
    regularizes. Needs a model Keras can clone (Sequential or functional, or a subclass with
    ``get_config``).
    """

    def regularized(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        for key in WEIGHT_REGULARIZERS:
            if key in config and penalty.in_loss:
                config[key] = keras.regularizers.L1L2(l1=penalty.l1, l2=penalty.l2)
        return layer.__class__.from_config(config)

    return keras.models.clone_model(model, clone_function=regularized)


def compile_model(model: keras.Model, lr: float, outputs: str = "logits") -> None:
    """Adam and the sparse cross-entropy, ``from_logits`` unless the model outputs
    probabilities."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=outputs == "logits"),
        metrics=["accuracy"],
    )
