"""TensorFlow/Keras backend: a functional Keras model trained with ``fit``.

The penalty is Keras' own ``L1L2`` kernel regularizer on every ``Dense`` layer, which adds
``l1 * sum(|W|) + l2 * sum(W^2)`` (kernels only) once per batch to the mean loss.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from regsearch.backends import BackendUnavailable, Fit
from regsearch.backends.loop import train_epochs
from regsearch.config import TrainSettings
from regsearch.objective import derive_seed
from regsearch.penalty import Penalty


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for native start-up logs (oneDNN, CUDA probing) that
    TensorFlow writes before its log level applies; Python errors still surface afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# Keras picks its backend at its first import (KERAS_BACKEND is read then).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_requested = os.environ.get("KERAS_BACKEND")
if _requested not in (None, "", "tensorflow"):
    raise BackendUnavailable(
        f"--backend tf needs Keras on TensorFlow, but KERAS_BACKEND={_requested!r} is set. "
        "Unset it or set KERAS_BACKEND=tensorflow."
    )
os.environ["KERAS_BACKEND"] = "tensorflow"

with _quiet_native_stderr():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()  # probes devices now, while stderr is quiet

tf.get_logger().setLevel("ERROR")
if keras.backend.backend() != "tensorflow":  # keras was imported earlier with another backend
    raise BackendUnavailable(
        f"--backend tf needs Keras on TensorFlow, but Keras was already loaded with the "
        f"{keras.backend.backend()!r} backend. Set KERAS_BACKEND=tensorflow before starting."
    )

_EVAL_BATCH = 8192


def build_model(
    n_features: int, hidden: tuple[int, ...], n_classes: int, penalty: Penalty
) -> keras.Model:
    """Dense ReLU layers then linear logits, each kernel regularized by ``L1L2(l1, l2)``."""

    def regularizer() -> keras.regularizers.Regularizer | None:
        return keras.regularizers.L1L2(l1=penalty.l1, l2=penalty.l2) if penalty.active else None

    inputs = keras.Input(shape=(n_features,))
    h = inputs
    for units in hidden:
        h = keras.layers.Dense(units, activation="relu", kernel_regularizer=regularizer())(h)
    logits = keras.layers.Dense(n_classes, kernel_regularizer=regularizer())(h)
    return keras.Model(inputs, logits)


def compile_model(model: keras.Model, lr: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


class AdjustableL1L2(keras.regularizers.Regularizer):
    """Keras' ``L1L2`` penalty, ``l1 * sum(|W|) + l2 * sum(W^2)``, with its two strengths held
    in variables: a model built once, and its compiled training step, serve every lambda."""

    def __init__(self, l1: tf.Variable, l2: tf.Variable):
        self.l1 = l1
        self.l2 = l2

    def __call__(self, x: Any) -> Any:
        return self.l1 * tf.reduce_sum(tf.abs(x)) + self.l2 * tf.reduce_sum(tf.square(x))

    def get_config(self) -> dict[str, float]:
        return {"l1": float(self.l1.numpy()), "l2": float(self.l2.numpy())}


class KerasTrainer:
    """Trains the MLP on rows of one training set, held as TensorFlow tensors.

    One Keras model, one optimizer and one epoch ``tf.function`` (each step XLA-compiled) are
    built per trainer, i.e. once per study. Each fit re-initialises the weights (Glorot uniform
    from the fit's seed, zero biases, as a new ``Dense`` layer would) and the optimizer's slots,
    and sets the penalty strengths of :class:`AdjustableL1L2`. Building a model and tracing per
    fold cost about a second each time and kept every compiled function alive (memory grew
    with every trial, even after ``clear_session``). The loss is exactly what ``model.fit``
    minimises: the compiled loss plus ``model.losses``, the kernel penalties.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, n_classes: int, settings: TrainSettings):
        self.x_np = np.ascontiguousarray(x, dtype=np.float32)
        self.y_np = np.ascontiguousarray(y, dtype=np.int64)
        self.x = tf.constant(self.x_np)
        self.y = tf.constant(self.y_np)
        self.n_classes = n_classes
        self.settings = settings
        self.l1 = tf.Variable(0.0, trainable=False, name="l1")
        self.l2 = tf.Variable(0.0, trainable=False, name="l2")
        self.penalty = Penalty()
        self.model = self._build()
        self._run_epoch = self._epoch_function(self.model)

    def _build(self) -> keras.Model:
        inputs = keras.Input(shape=(self.x_np.shape[1],))
        h = inputs
        for units in self.settings.hidden:
            h = keras.layers.Dense(
                units, activation="relu", kernel_regularizer=AdjustableL1L2(self.l1, self.l2)
            )(h)
        logits = keras.layers.Dense(
            self.n_classes, kernel_regularizer=AdjustableL1L2(self.l1, self.l2)
        )(h)
        model = keras.Model(inputs, logits)
        compile_model(model, self.settings.lr)
        model.optimizer.build(model.trainable_variables)
        return model

    def _reset(self, penalty: Penalty, seed: int) -> None:
        """Fresh weights and optimizer state from ``seed``; the penalty's strengths."""
        for i, layer in enumerate(self._dense_layers(self.model)):
            init = keras.initializers.GlorotUniform(seed=derive_seed(seed, i))
            layer.kernel.assign(init(layer.kernel.shape))
            layer.bias.assign(tf.zeros_like(layer.bias))
        optimizer = self.model.optimizer
        for variable in optimizer.variables:  # step count, moments (and the rate, set next)
            variable.assign(tf.zeros_like(variable))
        optimizer.learning_rate = self.settings.lr
        self.l1.assign(penalty.l1)
        self.l2.assign(penalty.l2)
        self.penalty = penalty

    def fit(
        self,
        train_idx: np.ndarray,
        val_idx: np.ndarray | None,
        penalty: Penalty,
        epochs: int,
        seed: int,
    ) -> Fit:
        self._reset(penalty, seed)
        model = self.model
        rng = np.random.default_rng(seed)
        rows = np.asarray(train_idx, dtype=np.int64)

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
        )

    def _epoch_function(self, model: keras.Model) -> Any:
        """``epoch(order) -> (sum of batch loss * batch size, correct predictions)``."""
        optimizer, loss_fn = model.optimizer, model.loss
        variables = model.trainable_variables
        batch = self.settings.batch_size
        x, y = self.x, self.y

        @tf.function(jit_compile=True)
        def step(xb: tf.Tensor, yb: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            with tf.GradientTape() as tape:
                logits = model(xb, training=True)
                loss = loss_fn(yb, logits) + tf.add_n(model.losses)
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
            correct = tf.reduce_sum(tf.cast(tf.argmax(logits, 1) == yb, tf.int64))
            return loss * tf.cast(tf.shape(yb)[0], tf.float32), correct

        # One signature for every fold and the refit: traced once per trainer.
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
        def epoch(order: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            n = tf.shape(order)[0]
            loss_sum, correct = tf.constant(0.0), tf.constant(0, tf.int64)
            for begin in tf.range(0, n, batch):
                rows = order[begin : begin + batch]
                batch_loss, batch_correct = step(tf.gather(x, rows), tf.gather(y, rows))
                loss_sum += batch_loss
                correct += batch_correct
            return loss_sum, correct

        return epoch

    def predict_logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        chunks = [
            np.asarray(model(x[b : b + _EVAL_BATCH], training=False))
            for b in range(0, len(x), _EVAL_BATCH)
        ]
        return np.concatenate(chunks)

    @staticmethod
    def _dense_layers(model: Any) -> list[Any]:
        return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]

    def kernels(self, model: Any) -> list[np.ndarray]:
        return [np.asarray(layer.kernel) for layer in self._dense_layers(model)]

    def save(self, model: Any, path: Path) -> Path:
        """Save as a plain Keras model whose layers carry Keras' own ``L1L2(l1, l2)`` of the
        last fit, so it loads anywhere without regsearch."""
        path = path.with_suffix(".keras")
        n_features, hidden = self.x_np.shape[1], self.settings.hidden
        export = build_model(n_features, hidden, self.n_classes, self.penalty)
        compile_model(export, self.settings.lr)
        export.set_weights(model.get_weights())
        optimizer = export.optimizer  # with the trained Adam state, as ``model.save`` keeps it
        optimizer.build(export.trainable_variables)
        for target, source in zip(optimizer.variables, model.optimizer.variables, strict=True):
            target.assign(source)
        export.save(path)
        return path

    def release(self) -> None:
        """Nothing to free between fits: the one model is reused by the next fit."""


class KerasBackend:
    name = "tf"
    model_suffix = ".keras"

    def trainer(
        self, x: np.ndarray, y: np.ndarray, n_classes: int, settings: TrainSettings
    ) -> KerasTrainer:
        return KerasTrainer(x, y, n_classes, settings)

    def versions(self) -> dict[str, str]:
        return {"tensorflow": tf.__version__, "keras": keras.__version__}

    def download_mnist(self, data_dir: Path) -> str:
        """``keras.datasets.mnist`` (cached by Keras in ``~/.keras/datasets``), saved again as
        ``data_dir/mnist.npz`` so later runs find it where they look."""
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        target = Path(data_dir) / "mnist.npz"
        target.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(target, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        return f"Downloaded MNIST with keras.datasets and saved it to {target}."


BACKEND = KerasBackend()
