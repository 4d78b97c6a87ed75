"""Fold-parallel training in Keras: the models of a trial's folds (or of several trials) as
towers of one XLA-compiled step.

Each step feeds tower ``i`` a batch of its own job's rows, adds the towers' losses (each its
batch's mean cross-entropy plus its own penalty, strengths held in per-tower variables), decays
each tower's weights by its own decoupled weight decay, and applies one Adam update to every
tower's variables. A tower's gradient depends on its own loss only and Adam is elementwise, so
each tower trains as :meth:`KerasTrainer.fit` would train it alone, from the same initial
weights (the factory's model after ``keras.utils.set_random_seed(seed)``) and in the same batch
order (NumPy's ``default_rng(seed).permutation`` each epoch). k small steps become one, which is
where Keras spends its time with small models: measured on a 2-core CPU (``python -m
regsearch.bench --backend tf --n-train 12000 --epochs 2 --keras-towers 5``), an epoch of 5 MLP
folds, validation included, took 0.75-0.86 s as towers against 1.02-1.17 s one by one
(1.22-1.38x in three runs; the training steps alone, without validation, 2.66x).

Models keep training one fold at a time where towers would not train as alone: layers that
draw random numbers (their draws would differ), batch normalization (a ragged last batch would
be padded, and the padding would enter the batch statistics), and a feature scaling fitted per
fold (the trainer applies one scaling to every row it predicts).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from regsearch import interrupt
from regsearch.backends.base import (
    EpochHook,
    EpochLogs,
    Fit,
    FoldParallel,
    FoldsAsJobs,
    GroupJudge,
    Job,
    common_lr,
)
from regsearch.backends.keras_model import all_layers, decay_variables, penalized_variables
from regsearch.backends.keras_runtime import keras, tf
from regsearch.backends.keras_trainer import KerasTrainer
from regsearch.backends.loop import PopulationProgress, validation_scores

RANDOM_LAYERS = (
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "AlphaDropout",
    "GaussianDropout",
    "GaussianNoise",
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomCrop",
    "RandomContrast",
)
"""Keras layers that draw random numbers while training."""


def towers_for(trainer: KerasTrainer) -> tuple[FoldParallel | None, str]:
    """The towers path for ``trainer``'s model, or ``None`` and why not."""
    if trainer.fitted is not None:
        return None, (
            f"folds train one at a time: each fold's {trainer.scaling} scaling is fitted on its "
            "own rows, and the Keras trainer applies one scaling at a time"
        )
    kinds = {type(layer).__name__ for layer in all_layers(trainer.model)}
    random = sorted(kinds & set(RANDOM_LAYERS))
    if random:
        return None, (
            f"folds train one at a time: the model's {', '.join(random)} would draw other "
            "random numbers as towers than alone"
        )
    # Batch statistics only: layer, group and unit normalization work per example.
    norms = sorted(k for k in kinds if "BatchNormalization" in k)
    if norms:
        return None, (
            f"folds train one at a time: the model's {', '.join(norms)} would see padded rows "
            "in a ragged last batch as towers"
        )
    return KerasTowers(trainer), "folds train at once (one compiled step over k Keras towers)"


class _Towers:
    """``m`` models of the trainer's factory, one Adam over all of them, per-tower penalty
    strengths, and the compiled epoch function; built once per population size."""

    def __init__(self, trainer: KerasTrainer, m: int):
        self.models = [trainer.new_model() for _ in range(m)]
        self.variables = [v for model in self.models for v in model.trainable_variables]
        self.kernels = [penalized_variables(model) for model in self.models]
        self.l1 = tf.Variable(tf.zeros(m), trainable=False, name="tower_l1")
        self.l2 = tf.Variable(tf.zeros(m), trainable=False, name="tower_l2")
        self.weight_decay = tf.Variable(tf.zeros(m), trainable=False, name="tower_weight_decay")
        self.optimizer = keras.optimizers.Adam(learning_rate=trainer.settings.lr)
        self.optimizer.build(self.variables)
        self.epoch = self._epoch_function(trainer)

    def reset(self, trainer: KerasTrainer, jobs: Sequence[Job]) -> None:
        """Each tower's initial weights as ``fit`` with its job's seed would draw them, the
        penalties, and zeroed optimizer state."""
        for model, job in zip(self.models, jobs, strict=True):
            keras.utils.set_random_seed(job.seed)
            model.set_weights(trainer.new_model().get_weights())
        for variable in self.optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        self.optimizer.learning_rate = common_lr(jobs, trainer.settings.lr)
        self.l1.assign([job.penalty.l1 for job in jobs])
        self.l2.assign([job.penalty.l2 for job in jobs])
        self.weight_decay.assign([job.penalty.weight_decay for job in jobs])

    def _epoch_function(self, trainer: KerasTrainer) -> Any:
        """``epoch(orders, mask) -> (per-tower sum of batch loss * rows, correct)``:
        ``orders`` ``(m, steps * batch)`` row indices, padded where a tower has fewer rows,
        ``mask`` 1.0 on real rows and 0.0 on padding."""
        models, kernels, variables = self.models, self.kernels, self.variables
        optimizer, batch = self.optimizer, trainer.settings.batch_size
        x, y = trainer.x, trainer.y
        per_row = keras.losses.SparseCategoricalCrossentropy(
            from_logits=trainer.outputs == "logits", reduction=None
        )
        m = len(models)

        @tf.function(jit_compile=True)
        def step(rows: tf.Tensor, mask: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
            losses, correct = [], []
            with tf.GradientTape() as tape:
                for i, model in enumerate(models):
                    yb = tf.gather(y, rows[i])
                    outputs = model(tf.gather(x, rows[i]), training=True)
                    count = tf.reduce_sum(mask[i])
                    mean = tf.reduce_sum(per_row(yb, outputs) * mask[i]) / tf.maximum(count, 1.0)
                    penalty = self.l1[i] * tf.add_n(
                        [tf.reduce_sum(tf.abs(w)) for w in kernels[i]]
                    ) + self.l2[i] * tf.add_n([tf.reduce_sum(tf.square(w)) for w in kernels[i]])
                    # A tower without rows left adds nothing (a zero gradient), as in PyTorch.
                    losses.append(tf.where(count > 0, mean + penalty, 0.0))
                    hits = tf.cast(tf.argmax(outputs, 1) == yb, tf.float32) * mask[i]
                    correct.append(tf.reduce_sum(hits))
                total = tf.add_n(losses)
            gradients = tape.gradient(total, variables)
            counts = tf.reduce_sum(mask, axis=1)
            for i in range(m):
                # A tower without rows in this step is not decayed: alone, it would not step.
                decay = tf.where(counts[i] > 0, self.weight_decay[i], 0.0)
                decay_variables(kernels[i], decay, optimizer.learning_rate)
            optimizer.apply_gradients(zip(gradients, variables, strict=True))
            return tf.stack(losses) * counts, tf.stack(correct), counts

        @tf.function(
            input_signature=[
                tf.TensorSpec([m, None], tf.int64),
                tf.TensorSpec([m, None], tf.float32),
            ]
        )
        def epoch(orders: tf.Tensor, mask: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            n = tf.shape(orders)[1]
            loss_sum, correct = tf.zeros(m), tf.zeros(m)
            for begin in tf.range(0, n, batch):
                batch_loss, batch_correct, _ = step(
                    orders[:, begin : begin + batch], mask[:, begin : begin + batch]
                )
                loss_sum += batch_loss
                correct += batch_correct
            return loss_sum, correct

        return epoch


class KerasTowers(FoldsAsJobs):
    """:class:`~regsearch.backends.base.FoldParallel` for Keras models (see the module)."""

    def __init__(self, trainer: KerasTrainer):
        self.trainer = trainer
        self._towers: dict[int, _Towers] = {}

    def fit_many(
        self,
        jobs: Sequence[Job],
        epochs: int,
        on_epoch: EpochHook | None = None,
        judges: Mapping[int, GroupJudge] | None = None,
        on_epoch_end: EpochLogs | None = None,
    ) -> list[Fit]:
        """One tower per job, trained together (see the module); early stopping, the best
        epoch's weights, divergence (a diverging tower stops the later jobs of its group) and
        ``judges`` per job or group, as in the PyTorch path. A ragged last batch is padded
        and masked out of its tower's mean; a tower with no rows left in it gets a zero
        gradient (Adam's moments still move: the one difference from training alone, as in
        PyTorch). A stopped tower's results are no longer read; it leaves the computation
        when every tower has stopped (Keras cannot drop part of a compiled model cheaply)."""
        trainer = self.trainer
        k, batch = len(jobs), trainer.settings.batch_size
        towers = self._towers.get(k)
        if towers is None:
            towers = self._towers[k] = _Towers(trainer, k)
        towers.reset(trainer, jobs)
        rows = [np.asarray(job.train_idx, dtype=np.int64) for job in jobs]
        width = math.ceil(max(len(r) for r in rows) / batch) * batch
        mask = np.zeros((k, width), dtype=np.float32)
        for i, r in enumerate(rows):
            mask[i, : len(r)] = 1.0
        mask_tensor = tf.constant(mask)
        generators = [np.random.default_rng(job.seed) for job in jobs]  # as in fit
        progress = PopulationProgress(jobs, trainer.settings.patience, on_epoch_end)
        last: dict[int, list[np.ndarray]] = {}
        sizes = np.array([len(r) for r in rows], dtype=np.float64)

        start = time.perf_counter()
        for epoch in range(1, epochs + 1):
            interrupt.check()
            if on_epoch is not None:
                on_epoch(epoch)
            orders = np.zeros((k, width), dtype=np.int64)  # padding: row 0, masked out
            for i, (r, g) in enumerate(zip(rows, generators, strict=True)):
                orders[i, : len(r)] = g.permutation(r)
            loss_sum, correct = towers.epoch(tf.constant(orders), mask_tensor)
            train_loss = np.asarray(loss_sum, dtype=np.float64) / sizes
            train_acc = np.asarray(correct, dtype=np.float64) / sizes
            for i, job in enumerate(jobs):
                model = towers.models[i]
                if not progress.active[i] or not progress.trained(
                    i,
                    epoch,
                    float(train_loss[i]),
                    float(train_acc[i]),
                    job.penalty.value(trainer.kernels(model)),
                ):
                    continue
                val_x, val_y = trainer.x_np[job.val_idx], trainer.y_np[job.val_idx]
                val_loss, val_acc = validation_scores(trainer, model, val_x, val_y, job.penalty)
                progress.scored(i, epoch, val_loss, val_acc, model.get_weights)
            progress.judge(epoch, judges)
            for i in progress.stopped_without_best([i for i in range(k) if i not in last]):
                last[i] = towers.models[i].get_weights()
            if not any(progress.active):
                break
        elapsed = (time.perf_counter() - start) / k
        fits = []
        for i, job_progress in enumerate(progress.fits):
            fit = job_progress.fit
            weights = job_progress.stopping.best
            if weights is None:
                weights = last.get(i) or towers.models[i].get_weights()
            # An independent model: the towers are reused by the next population.
            model = trainer.new_model()
            model.set_weights(weights)
            fit.model = model
            fit.fit_time = elapsed
            fits.append(fit)
        return fits
