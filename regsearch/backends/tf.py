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


class KerasTrainer:
    """Trains fresh Keras models on rows of one training set, held as TensorFlow tensors.

    Each epoch runs as one ``tf.function`` looping over index-sliced batches, each step
    XLA-compiled: the loss is exactly what ``model.fit`` minimises (the compiled loss plus
    ``model.losses``, i.e. the ``L1L2`` kernel penalties), without ``fit``'s per-step Python
    overhead, which dominates for a model this small.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, n_classes: int, settings: TrainSettings):
        self.x_np = np.ascontiguousarray(x, dtype=np.float32)
        self.y_np = np.ascontiguousarray(y, dtype=np.int64)
        self.x = tf.constant(self.x_np)
        self.y = tf.constant(self.y_np)
        self.n_classes = n_classes
        self.settings = settings

    def new_model(self, penalty: Penalty, seed: int) -> keras.Model:
        # A fresh graph per model: Keras otherwise keeps every model built in this process.
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = build_model(self.x_np.shape[1], self.settings.hidden, self.n_classes, penalty)
        compile_model(model, self.settings.lr)
        return model

    def fit(
        self,
        train_idx: np.ndarray,
        val_idx: np.ndarray | None,
        penalty: Penalty,
        epochs: int,
        seed: int,
    ) -> Fit:
        model = self.new_model(penalty, seed)
        run_epoch = self._epoch_function(model)
        rng = np.random.default_rng(seed)
        rows = np.asarray(train_idx, dtype=np.int64)

        def train_epoch(epoch: int) -> tuple[float, float]:
            loss_sum, correct = run_epoch(tf.constant(rng.permutation(rows)))
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
        optimizer.build(variables)
        batch = self.settings.batch_size
        x, y = self.x, self.y

        @tf.function(jit_compile=True)
        def step(xb: tf.Tensor, yb: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            with tf.GradientTape() as tape:
                logits = model(xb, training=True)
                loss = loss_fn(yb, logits)
                if model.losses:
                    loss = loss + tf.add_n(model.losses)
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
            correct = tf.reduce_sum(tf.cast(tf.argmax(logits, 1) == yb, tf.int64))
            return loss * tf.cast(tf.shape(yb)[0], tf.float32), correct

        @tf.function
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

    def kernels(self, model: Any) -> list[np.ndarray]:
        return [
            np.asarray(layer.kernel)
            for layer in model.layers
            if isinstance(layer, keras.layers.Dense)
        ]

    def save(self, model: Any, path: Path) -> Path:
        path = path.with_suffix(".keras")
        model.save(path)
        return path

    def release(self) -> None:
        keras.backend.clear_session()


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
