"""How every model is trained: the epoch cap, batch, learning rate, MLP widths and patience."""

from __future__ import annotations

from dataclasses import dataclass

from regsearch.config.checks import check_int, check_positive_finite
from regsearch.errors import ConfigError, param


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
    """

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    hidden: tuple[int, ...] = (128,)
    patience: int = 3

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
