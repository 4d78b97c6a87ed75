"""``--tensorboard DIR``: each fold's per-epoch curves as TensorBoard scalars.

One run per trial and fold, named ``trial007-l2-l2=1.2e-03/fold2``, so ``tensorboard --logdir
DIR`` shows the folds of every configuration side by side. Tags: ``loss/train``,
``loss/validation`` (both penalized, as Keras reports them), ``accuracy/train``,
``accuracy/validation`` and ``penalty`` (the penalty term at the epoch's end). The events are
written with the backend framework's own writer (``tf.summary`` or torch's ``SummaryWriter``).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from regsearch.backends import Fit
from regsearch.observe import Quiet
from regsearch.penalty import Penalty

if TYPE_CHECKING:
    pass

TAGS = {
    "loss": "loss/train",
    "val_loss": "loss/validation",
    "accuracy": "accuracy/train",
    "val_accuracy": "accuracy/validation",
    "penalty": "penalty",
}

ScalarWriter = Callable[[Path, dict[str, list[float]]], None]


def run_name(trial_number: int, penalty: Penalty, fold: int | None) -> str:
    """``trial007-l1_l2-l1=3.0e-05-l2=1.2e-03/fold2`` (``/refit`` for the refit)."""
    lambdas = "-" + penalty.lambdas(".1e", sep="-") if penalty.active else ""
    return f"trial{trial_number:03d}-{penalty.kind}{lambdas}/" + (
        "refit" if fold is None else f"fold{fold}"
    )


def _torch_writer(run_dir: Path, curves: dict[str, list[float]]) -> None:
    # TensorBoard's writer would import all of TensorFlow (seconds, and its logs) when it is
    # installed; its own switch ``tensorboard.compat.notf`` makes it use its built-in stub.
    # (Where TensorFlow is loaded already, the stub would break its tf.summary: leave it.)
    if "tensorflow" not in sys.modules:
        sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("notf"))
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(log_dir=str(run_dir)) as writer:
        for key, tag in TAGS.items():
            for epoch, value in enumerate(curves.get(key, []), start=1):
                writer.add_scalar(tag, value, global_step=epoch)


def _tf_writer(run_dir: Path, curves: dict[str, list[float]]) -> None:
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        for key, tag in TAGS.items():
            for epoch, value in enumerate(curves.get(key, []), start=1):
                tf.summary.scalar(tag, value, step=epoch)
    writer.close()


WRITERS: dict[str, ScalarWriter] = {"torch": _torch_writer, "tf": _tf_writer}


class TensorBoardLogger(Quiet):
    """Writes a finished fold's history under ``logdir/<run name>``."""

    def __init__(self, logdir: Path, backend: str):
        self.logdir = Path(logdir)
        self.write = WRITERS[backend]

    def on_fold(self, trial_number: int, fold: int, penalty: Penalty, fit: Fit) -> None:
        self.write(self.logdir / run_name(trial_number, penalty, fold), fit.history)
