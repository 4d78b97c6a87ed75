"""How every model is trained: the epoch cap, batch, learning rate, MLP widths and patience."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from regsearch.config.checks import check_int, check_positive_finite
from regsearch.errors import ConfigError, param

AUTO_MIN_STEPS = 2000
"""The study's default floor on optimizer steps per fold (where no epoch cap is given):
measured with ``studies/budget.py``, it lets early stopping end the folds of small tables
(breast cancer, wine, digits) and of 3,000 MNIST images, where 20 epochs of 128-row batches
ended every fold still improving; full MNIST trains 7,500 steps in 20 epochs, unchanged."""


@dataclass(frozen=True)
class TrainSettings:
    """How every model is trained.

    The defaults let each fold train until its own early stopping ends it: on full MNIST the
    MLP's validation loss is lowest at epoch 12-13 unregularized and 17-20 with a useful L2
    penalty, so a cap of 20 with a patience of 3 compares configurations at their best (a
    5-epoch cap scored every configuration before it could over-fit). README, "Choosing the
    budget", has the measurements.

    Attributes:
        epochs: maximum epochs per fold (the cap); early stopping may end a fold sooner.
        batch_size: mini-batch size; the penalty is added once per batch to the batch's mean loss.
        lr: Adam's learning rate.
        hidden: units of each hidden ReLU layer of the built-in MLP, e.g. ``(256, 128)``.
        patience: epochs without a lower validation loss before a fold stops; the weights of
            the best epoch are restored (Keras ``EarlyStopping(restore_best_weights=True)``).
        min_steps: a floor on each fold's optimizer steps: the cap is raised to
            ``ceil(min_steps / ceil(rows / batch_size))`` epochs where ``epochs`` gives fewer
            (:meth:`epoch_cap`); 0, the default here, keeps the cap at ``epochs`` exactly. A
            study's default settings (``StudyConfig()``, the command without ``--epochs``)
            carry :data:`AUTO_MIN_STEPS`.
    """

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    hidden: tuple[int, ...] = (128,)
    patience: int = 3
    min_steps: int = 0

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_positive_finite("lr", self.lr)
        if not self.hidden:
            raise ConfigError(
                f"{param('hidden')} must list at least one layer width, e.g. {param('hidden')} 128."
            )
        for units in self.hidden:
            check_int("hidden", units, 1, what=f"each {param('hidden')} layer width")
        check_int("patience", self.patience, 0)
        check_int("min_steps", self.min_steps, 0)

    def epoch_cap(self, rows: int) -> int:
        """The epoch cap for folds of ``rows`` training rows::

        cap = max(epochs, ceil(min_steps / ceil(rows / batch_size)))
        """
        if self.min_steps == 0 or rows <= 0:
            return self.epochs
        steps_per_epoch = math.ceil(rows / self.batch_size)
        return max(self.epochs, math.ceil(self.min_steps / steps_per_epoch))

    def identity(self) -> dict[str, Any]:
        """What a resumed study must share (JSON-ready). The floor is left out: a study
        records the cap it resolved to (:meth:`epoch_cap`), which is what trained."""
        found = {**asdict(self), "hidden": list(self.hidden)}
        del found["min_steps"]
        return found


def study_train_settings(epochs: int | None = None, **given: Any) -> TrainSettings:
    """A study's training settings: with ``epochs``, that cap exactly; without, 20 epochs
    raised until each fold trains :data:`AUTO_MIN_STEPS` optimizer steps (the default of
    ``StudyConfig()``, of the command without ``--epochs`` and of the estimators)."""
    if epochs is None:
        return TrainSettings(min_steps=AUTO_MIN_STEPS, **given)
    return TrainSettings(epochs=epochs, **given)
