"""Would Keras gain from training a trial's folds as one model? A probe.

One functional computation holds ``k`` copies of the MLP as towers; each step feeds tower ``i``
a batch of fold ``i``'s own rows, adds the ``k`` mean cross-entropies and the ``k`` penalties,
and applies one Adam update to all towers' variables (each tower's gradient depends on its own
loss only, so each trains as alone). The step is XLA-compiled like regsearch's Keras trainer,
and timed against that trainer fitting the same ``k`` folds one after another.
"""

from __future__ import annotations

import time

import numpy as np

from regsearch.config import TrainSettings
from regsearch.data import Dataset
from regsearch.penalty import Penalty


def keras_towers(
    ds: Dataset, settings: TrainSettings, penalty: Penalty, k: int, seed: int
) -> tuple[float, float]:
    """Seconds per epoch of ``k`` folds: ``(one by one with regsearch's trainer, k towers)``."""
    from regsearch.backends import get_backend
    from regsearch.backends.keras_runtime import keras, tf
    from regsearch.models import model_factory

    backend = get_backend("tf")
    factory = model_factory("mlp", "tf", settings.hidden)
    trainer = backend.trainer(ds.x_train, ds.y_train, ds.n_classes, settings, factory)
    rng = np.random.default_rng(seed)
    parts = np.array_split(rng.permutation(len(ds.y_train)), k)
    folds = [np.concatenate(parts[:i] + parts[i + 1 :]) for i in range(k)]
    n = min(len(f) for f in folds)
    folds = [f[:n] for f in folds]  # equal sizes: every step feeds every tower a full batch

    trainer.fit(folds[0], None, penalty, 1, seed)  # warm-up: tracing and compilation
    start = time.perf_counter()
    for i, rows in enumerate(folds):
        trainer.fit(rows, None, penalty, settings.epochs, seed + i)
    one_by_one = (time.perf_counter() - start) / settings.epochs

    keras.utils.set_random_seed(seed)
    shape = ds.x_train.shape[1:]
    towers = [factory(shape, ds.n_classes) for _ in range(k)]
    for tower in towers:
        tower.build((None, *shape))
    variables = [v for tower in towers for v in tower.trainable_variables]
    kernels = [[v for v in t.trainable_variables if len(v.shape) >= 2] for t in towers]
    optimizer = keras.optimizers.Adam(settings.lr)
    optimizer.build(variables)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x = tf.constant(ds.x_train.astype(np.float32) / (255.0 if ds.pixels else 1.0))
    y = tf.constant(ds.y_train.astype(np.int64))

    @tf.function(jit_compile=True)
    def step(rows: tf.Tensor) -> tf.Tensor:  # rows: (k, batch)
        with tf.GradientTape() as tape:
            loss = tf.constant(0.0)
            for i, tower in enumerate(towers):
                logits = tower(tf.gather(x, rows[i]), training=True)
                loss += ce(tf.gather(y, rows[i]), logits)
                for w in kernels[i]:
                    loss += penalty.l1 * tf.reduce_sum(tf.abs(w))
                    loss += penalty.l2 * tf.reduce_sum(tf.square(w))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    batch = settings.batch_size
    orders = np.stack(folds)
    step(tf.constant(orders[:, :batch]))  # warm-up
    start = time.perf_counter()
    for _ in range(settings.epochs):
        orders = np.stack([rng.permutation(f) for f in folds])
        for begin in range(0, n - batch + 1, batch):
            step(tf.constant(orders[:, begin : begin + batch]))
    towers_s = (time.perf_counter() - start) / settings.epochs
    return one_by_one, towers_s
