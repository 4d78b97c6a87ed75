"""``--tensorboard DIR``: each fold's per-epoch curves as TensorBoard scalars, as they train.

One run per trial and fold, named ``trial007-l2-l2=1.2e-03/fold2``, so ``tensorboard --logdir
DIR`` shows the folds of every configuration side by side; the refits of the chosen
configuration and of the baseline are runs of their own, ``trial007-l2-l2=1.2e-03/refit`` and
``trial000-none/refit``. Tags: ``loss/train``, ``loss/validation`` (both penalized, as Keras
reports them), ``accuracy/train``, ``accuracy/validation`` and ``penalty`` (the penalty term
at the epoch's end); the step is the epoch (from 1).

Both backends write the same events: plain scalar summaries (``simple_value``), through
TensorBoard's own event-file writer, with no framework loaded (``tf.summary`` would write
tensor events, and torch's writer would import TensorFlow where installed). Each epoch is
written and flushed as it ends, so TensorBoard shows a fold while it trains; folds trained as
one population with other trials' (``--trial-batch``) are written when they end.
"""

from __future__ import annotations

import sys
import threading
import time
import types
from pathlib import Path

from regsearch.backends.base import Fit
from regsearch.observe.base import Observer
from regsearch.penalty import Penalty

TAGS = {
    "loss": "loss/train",
    "val_loss": "loss/validation",
    "accuracy": "accuracy/train",
    "val_accuracy": "accuracy/validation",
    "penalty": "penalty",
}


def run_name(trial_number: int, penalty: Penalty, fold: int | None) -> str:
    """``trial007-l1_l2-l1=3.0e-05-l2=1.2e-03/fold2`` (``/refit`` for the refit)."""
    lambdas = "-" + penalty.lambdas(".1e", sep="-") if penalty.active else ""
    return f"trial{trial_number:03d}-{penalty.kind}{lambdas}/" + (
        "refit" if fold is None else f"fold{fold}"
    )


class ScalarRun:
    """One run's event file, appended to and flushed epoch by epoch."""

    def __init__(self, run_dir: Path):
        # TensorBoard's writer reaches for TensorFlow's file system when TensorFlow is
        # installed (seconds, and its logs); its own switch keeps it on the built-in one.
        # (Where TensorFlow is loaded already, the switch would break it: leave it.)
        if "tensorflow" not in sys.modules:
            sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("notf"))
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        run_dir.mkdir(parents=True, exist_ok=True)
        self.writer = EventFileWriter(str(run_dir))
        self.written = 0
        """The last epoch written."""

    def write(self, epoch: int, logs: dict[str, float]) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        values = [
            Summary.Value(tag=tag, simple_value=float(logs[key]))
            for key, tag in TAGS.items()
            if key in logs
        ]
        event = Event(wall_time=time.time(), step=epoch, summary=Summary(value=values))
        self.writer.add_event(event)
        self.writer.flush()
        self.written = epoch

    def write_history(self, history: dict[str, list[float]]) -> None:
        """The epochs of ``history`` after those written already."""
        epochs = max((len(values) for values in history.values()), default=0)
        for epoch in range(self.written + 1, epochs + 1):
            self.write(epoch, {k: v[epoch - 1] for k, v in history.items() if len(v) >= epoch})

    def close(self) -> None:
        self.writer.close()


def write_run(run_dir: Path, history: dict[str, list[float]]) -> None:
    """A whole history as one run (a refit's)."""
    run = ScalarRun(run_dir)
    run.write_history(history)
    run.close()


class TensorBoardLogger(Observer):
    """Writes each fold's epochs under ``logdir/<run name>`` as they end (see the module)."""

    def __init__(self, logdir: Path):
        self.logdir = Path(logdir)
        self.runs: dict[tuple[int, int], ScalarRun] = {}
        self.lock = threading.Lock()  # trials of a population end their folds in threads

    def _run(self, trial_number: int, fold: int, penalty: Penalty) -> ScalarRun:
        with self.lock:
            run = self.runs.get((trial_number, fold))
            if run is None:
                run_dir = self.logdir / run_name(trial_number, penalty, fold)
                run = self.runs[(trial_number, fold)] = ScalarRun(run_dir)
            return run

    def on_epoch_end(
        self, trial_number: int, fold: int, epoch: int, penalty: Penalty, logs: dict[str, float]
    ) -> None:
        self._run(trial_number, fold, penalty).write(epoch, logs)

    def on_fold(self, trial_number: int, fold: int, penalty: Penalty, fit: Fit) -> None:
        run = self._run(trial_number, fold, penalty)
        run.write_history(fit.history)  # the epochs not heard of as they ended, if any
        with self.lock:
            self.runs.pop((trial_number, fold), None)
        run.close()

    def on_refit(self, trial_number: int, penalty: Penalty, fit: Fit) -> None:
        write_run(self.logdir / run_name(trial_number, penalty, None), fit.history)

    def close(self) -> None:
        with self.lock:
            runs, self.runs = list(self.runs.values()), {}
        for run in runs:  # folds a pruned trial left unfinished
            run.close()
