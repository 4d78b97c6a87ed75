"""TensorFlow/Keras backend: trains any Keras model with Keras' own ``L1L2`` semantics, one model
at a time (:mod:`regsearch.backends.keras_trainer`) or a trial's folds as towers of one compiled
step (:mod:`regsearch.backends.keras_towers`) where the model allows it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from regsearch.backends.keras_runtime import keras, tf
from regsearch.backends.keras_towers import towers_for
from regsearch.backends.keras_trainer import KerasTrainer
from regsearch.config import TrainSettings
from regsearch.models.spec import ModelFactory


class KerasBackend:
    name = "tf"

    def trainer(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        settings: TrainSettings,
        model: ModelFactory,
        device: str = "cpu",
        scaling: str = "none",
    ) -> KerasTrainer:
        trainer = KerasTrainer(x, y, n_classes, settings, model, device, scaling)
        trainer.fold_parallel, trainer.fold_parallel_reason = towers_for(trainer)
        return trainer

    def versions(self) -> dict[str, str]:
        return {"tensorflow": tf.__version__, "keras": keras.__version__}

    def use_threads(self, threads: int | None) -> str:
        """TensorFlow takes its thread pools' sizes only before its runtime starts; in a
        process where it already runs, they stay as they are, and the line says so."""
        if threads is None:
            return "TensorFlow's default intra-op threads (the cores)"
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            now = tf.config.threading.get_intra_op_parallelism_threads() or "TensorFlow's default"
            return f"{now} intra-op thread(s) (TensorFlow had already started in this process)"
        return f"{threads} intra-op thread(s)"

    def download_mnist(self, data_dir: Path) -> str:
        """``keras.datasets.mnist`` (cached by Keras in ``~/.keras/datasets``), saved again as
        ``data_dir/mnist.npz`` so later runs find it where they look."""
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        target = Path(data_dir) / "mnist.npz"
        target.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(target, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        return f"Downloaded MNIST with keras.datasets and saved it to {target}."


BACKEND = KerasBackend()
