"""The Keras trainer: a Keras model trained by a compiled epoch function, one model at a time.

The penalty is Keras' ``L1L2`` kernel regularizer, ``l1 * sum(|W|) + l2 * sum(W^2)``, added once
per batch to the mean loss, over the trainable weights of two or more dimensions (dense and
convolution kernels; never biases or normalization parameters). The decoupled weight decay
shrinks the same variables before each Adam step, ``v - v * weight_decay * lr``, as Keras 3
optimizers' ``weight_decay`` does (``BaseOptimizer._apply_weight_decay``; their
``exclude_from_weight_decay`` would name the rest). The saved model carries Keras' own
``L1L2`` on each layer's ``kernel_regularizer``. The backend (:mod:`regsearch.backends.tf`)
attaches the towers path of a trial's folds (:mod:`regsearch.backends.keras_towers`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from regsearch.backends.base import EpochHook, EpochLogs, Fit, FoldParallel
from regsearch.backends.keras_model import (
    compile_model,
    decay_variables,
    fresh_model,
    penalized_variables,
    summarize,
    with_keras_penalty,
)
from regsearch.backends.keras_runtime import keras, tf, use_device
from regsearch.backends.loop import train_epochs
from regsearch.config import TrainSettings
from regsearch.data.scaling import Scaling, fit_scaling
from regsearch.models.spec import ModelFactory
from regsearch.models.summary import ModelSummary
from regsearch.penalty import Penalty

_EVAL_BATCH = 1024  # rows per forward pass when predicting; bounds memory


class KerasTrainer:
    """Trains a model of one factory on rows of one training set, held as TensorFlow tensors.

    One Keras model, one optimizer and one epoch ``tf.function`` (each step XLA-compiled) are
    built per trainer, i.e. once per study; the penalty strengths are variables, and so are the
    feature scaling's shift and scale, fitted on each fit's own training rows and applied to
    every batch (and built into the saved model as a ``Normalization`` layer). Each fit
    takes its initial weights from a fresh model of the factory, built after
    ``keras.utils.set_random_seed(seed)``, and zeroes the optimizer's slots. Building a
    compiled model and tracing per fold cost about a second each time and kept every compiled
    function alive (memory grew with every trial, even after ``clear_session``).
    :meth:`KerasBackend.trainer <regsearch.backends.tf.KerasBackend.trainer>` attaches the
    towers path.
    """

    fold_parallel: FoldParallel | None = None
    fold_parallel_reason = "folds train one at a time (no towers attached)"

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        settings: TrainSettings,
        model: ModelFactory,
        device: str = "cpu",
        scaling: str = "none",
    ):
        self.device = use_device(device)
        self.x_np = np.ascontiguousarray(x, dtype=np.float32)
        self.y_np = np.ascontiguousarray(y, dtype=np.int64)
        self.x = tf.constant(self.x_np)
        self.y = tf.constant(self.y_np)
        self.n_classes = n_classes
        self.settings = settings
        self.model_factory = model
        self.input_shape = tuple(int(d) for d in x.shape[1:])
        self.l1 = tf.Variable(0.0, trainable=False, name="l1")
        self.l2 = tf.Variable(0.0, trainable=False, name="l2")
        self.weight_decay = tf.Variable(0.0, trainable=False, name="weight_decay")
        self.penalty = Penalty()
        self.scaling = scaling
        # Until a fit sets its own, the whole training set's: the contract is checked on a
        # sample scaled as training will scale it.
        self.fitted: Scaling | None = fit_scaling(scaling, self.x_np)
        if self.fitted is not None:
            self.shift = tf.Variable(self.fitted.shift, trainable=False, name="shift")
            self.scale = tf.Variable(self.fitted.scale, trainable=False, name="scale")
        keras.utils.set_random_seed(0)
        self.model_summary: ModelSummary = summarize(
            model, self.input_shape, n_classes, self.scaled(self.x_np[:8])
        )
        self.outputs = self.model_summary.outputs
        self.model = self.new_model()
        self.optimizer = keras.optimizers.Adam(learning_rate=settings.lr)
        self.optimizer.build(self.model.trainable_variables)
        # On a softmax output Keras' cross-entropy uses the softmax's own logits.
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(
            from_logits=self.outputs == "logits"
        )
        self._run_epoch = self._epoch_function()

    def new_model(self) -> keras.Model:
        """A fresh model of the factory, from Keras' current random state."""
        return fresh_model(self.model_factory, self.input_shape, self.n_classes, self.x_np)

    def scaled(self, x: np.ndarray) -> np.ndarray:
        """``x`` scaled by the last fit's scaling (as it is itself without one)."""
        return x if self.fitted is None else self.fitted.apply(x)

    def penalty_term(self) -> Any:
        """``l1 * sum(|W|) + l2 * sum(W^2)`` over :func:`penalized_variables`, as a tensor."""
        weights = penalized_variables(self.model)
        return self.l1 * tf.add_n([tf.reduce_sum(tf.abs(w)) for w in weights]) + self.l2 * tf.add_n(
            [tf.reduce_sum(tf.square(w)) for w in weights]
        )

    def loss(self, x: Any, y: Any, training: bool = True) -> Any:
        """The penalized loss the training step minimises, on ``(x, y)``."""
        return self.loss_fn(y, self.model(x, training=training)) + self.penalty_term()

    def reset(
        self,
        penalty: Penalty,
        seed: int,
        train_idx: np.ndarray | None = None,
        lr: float | None = None,
    ) -> None:
        """Fresh weights from ``seed``, zeroed optimizer state, the learning rate ``lr``
        (``None``: the settings'), the penalty's strengths, and the scaling fitted on the rows
        ``train_idx`` (default: all)."""
        if self.fitted is not None:
            rows = self.x_np if train_idx is None else self.x_np[train_idx]
            self.fitted = fit_scaling(self.scaling, rows)
            assert self.fitted is not None
            self.shift.assign(self.fitted.shift)
            self.scale.assign(self.fitted.scale)
        keras.utils.set_random_seed(seed)
        self.model.set_weights(self.new_model().get_weights())
        for variable in self.optimizer.variables:  # step count, moments (and the rate, set next)
            variable.assign(tf.zeros_like(variable))
        self.optimizer.learning_rate = self.settings.lr if lr is None else lr
        self.l1.assign(penalty.l1)
        self.l2.assign(penalty.l2)
        self.weight_decay.assign(penalty.weight_decay)
        self.penalty = penalty

    def fit(
        self,
        train_idx: np.ndarray,
        val_idx: np.ndarray | None,
        penalty: Penalty,
        epochs: int,
        seed: int,
        on_epoch: EpochHook | None = None,
        on_epoch_end: EpochLogs | None = None,
        lr: float | None = None,
    ) -> Fit:
        rows = np.asarray(train_idx, dtype=np.int64)
        self.reset(penalty, seed, rows, lr)
        model = self.model
        rng = np.random.default_rng(seed)

        def train_epoch(epoch: int) -> tuple[float, float]:
            loss_sum, correct = self._run_epoch(tf.constant(rng.permutation(rows)))
            return float(loss_sum) / len(rows), float(correct) / len(rows)

        validation = None if val_idx is None else (self.x_np[val_idx], self.y_np[val_idx])
        return train_epochs(
            self,
            model,
            penalty,
            validation,
            epochs,
            self.settings.patience,
            train_epoch,
            snapshot=model.get_weights,
            restore=model.set_weights,
            on_epoch=on_epoch,
            on_epoch_end=on_epoch_end,
        )

    def _epoch_function(self) -> Any:
        """``epoch(order) -> (sum of batch loss * batch size, correct predictions)``."""
        model, optimizer = self.model, self.optimizer
        variables = model.trainable_variables
        decayed = penalized_variables(model)
        batch = self.settings.batch_size
        x, y = self.x, self.y
        fitted = self.fitted is not None

        def scaled(xb: tf.Tensor) -> tf.Tensor:
            return (xb - self.shift) / self.scale if fitted else xb

        @tf.function(jit_compile=True)
        def step(xb: tf.Tensor, yb: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            with tf.GradientTape() as tape:
                logits = model(xb, training=True)
                loss = self.loss_fn(yb, logits) + self.penalty_term()
            gradients = tape.gradient(loss, variables)
            decay_variables(decayed, self.weight_decay, optimizer.learning_rate)
            optimizer.apply_gradients(zip(gradients, variables, strict=True))
            correct = tf.reduce_sum(tf.cast(tf.argmax(logits, 1) == yb, tf.int64))
            return loss * tf.cast(tf.shape(yb)[0], tf.float32), correct

        # One signature for every fold and the refit: traced once per trainer.
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
        def epoch(order: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            n = tf.shape(order)[0]
            loss_sum, correct = tf.constant(0.0), tf.constant(0, tf.int64)
            for begin in tf.range(0, n, batch):
                rows = order[begin : begin + batch]
                batch_loss, batch_correct = step(scaled(tf.gather(x, rows)), tf.gather(y, rows))
                loss_sum += batch_loss
                correct += batch_correct
            return loss_sum, correct

        return epoch

    def predict_logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        """Logits: the outputs, or the log of probabilities clipped to ``[1e-7, 1 - 1e-7]``
        (as Keras' cross-entropy clips them)."""
        x = self.scaled(np.ascontiguousarray(x, dtype=np.float32))
        chunks = [
            np.asarray(model(x[b : b + _EVAL_BATCH], training=False))
            for b in range(0, len(x), _EVAL_BATCH)
        ]
        outputs = np.concatenate(chunks)
        if self.outputs == "probabilities":
            return np.log(np.clip(outputs, 1e-7, 1 - 1e-7))
        return outputs

    def kernels(self, model: Any) -> list[np.ndarray]:
        return [np.asarray(w) for w in penalized_variables(model)]

    def save(self, model: Any, path: Path) -> Path:
        """Save as a plain Keras model whose layers carry Keras' own ``L1L2(l1, l2)`` of the
        last fit (:func:`with_keras_penalty`), compiled with the trained Adam state, so it
        loads (``keras.models.load_model``) and trains on anywhere without regsearch. With a
        scaling, the model is wrapped behind a Keras ``Normalization`` layer holding it
        (mean = shift, variance = scale^2), so that it takes raw rows. A user's custom layers
        or model class must be importable and registered for Keras to load it
        (``@keras.saving.register_keras_serializable()``), as for any Keras model."""
        path = path.with_suffix(".keras")
        try:
            export = with_keras_penalty(model, self.penalty)
        except Exception:  # a subclassed model without get_config cannot be cloned
            self._with_scaling(model).save(path)  # as Keras saves it, without the penalty
            return path
        export.set_weights(model.get_weights())
        export = self._with_scaling(export)
        compile_model(export, self.settings.lr, self.outputs)
        optimizer = export.optimizer  # with the trained Adam state, as ``model.save`` keeps it
        optimizer.build(export.trainable_variables)
        for target, source in zip(optimizer.variables, self.optimizer.variables, strict=True):
            target.assign(source)
        export.save(path)
        return path

    def _with_scaling(self, model: keras.Model) -> keras.Model:
        """``model`` behind a ``Normalization`` layer of the last fit's scaling (itself
        without one)."""
        if self.fitted is None:
            return model
        axes = tuple(range(1, len(self.input_shape) + 1))
        inputs = keras.Input(self.input_shape, name="raw_features")
        normalize = keras.layers.Normalization(
            axis=axes,
            mean=self.fitted.shift,
            variance=np.square(self.fitted.scale, dtype=np.float64),
            name=f"{self.scaling}_scaling",
        )
        return keras.Model(inputs, model(normalize(inputs)), name=f"{model.name}_scaled")
