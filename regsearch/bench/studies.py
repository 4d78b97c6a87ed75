"""Whole studies, the same settings run five ways in one process: trials one at a time with
their folds pruned by the median pruner, trials one at a time with their folds at once, and
trials in populations of several at once; the last two also with the ``epochs`` pruner. Wall
time includes sampling, storage and the refits. ``--study-busy`` times the default path
quiet and beside a busy PyTorch process instead. A trial pruned between epochs stores no fold
records, so the fold columns count the finished trials' folds only."""

from __future__ import annotations

import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import Any

from regsearch.bench.probes import busy_machine, epoch_gflop
from regsearch.config import StudyConfig, TrainSettings
from regsearch.data import Dataset


@dataclass(frozen=True)
class StudyTiming:
    path: str
    seconds: float
    complete: int
    pruned: int
    best_cv: float
    chosen: str
    test_accuracy: float
    fold_gflop: float
    """Arithmetic of every fold's training and validation passes (the MLP's matmuls)."""
    fold_seconds: float
    """Seconds spent training folds (the sum of the folds' recorded fit times)."""


def fold_work(study: Any, ds: Dataset, folds: list[Any], hidden: tuple[int, ...]) -> float:
    """GFLOP of the folds' training (6 flops per multiply-add and row: forward and backward)
    and validation (2 per multiply-add) passes, from each fold's recorded epochs."""
    from regsearch import records

    per_row = epoch_gflop(1, ds.n_features, hidden, ds.n_classes)
    total = 0.0
    for trial in study.trials:
        for i, (train, val) in enumerate(folds):
            history = records.fold_value(records.attrs(trial), i, "history")
            if not history:
                continue
            epochs = len(history["loss"])
            total += epochs * per_row * (len(train) + len(val) / 3)
    return total


def fold_seconds(study: Any, n_folds: int) -> float:
    from regsearch import records

    return sum(
        float(records.fold_value(records.attrs(t), i, "fit_time") or 0.0)
        for t in study.trials
        for i in range(n_folds)
    )


def compare_study_paths(
    ds: Dataset,
    trials: int,
    folds: int,
    settings: TrainSettings,
    batch: int,
    seed: int,
    backend: str = "torch",
    busy: bool = False,
) -> list[StudyTiming]:
    """Run the study on each path (in a throwaway SQLite file) and time it; with ``busy``,
    the default path on a quiet machine and beside a busy PyTorch process instead."""
    from optuna.trial import TrialState

    from regsearch.cv.folds import make_folds
    from regsearch.run import run_study

    parts = make_folds(ds.y_train, folds, seed)
    paths = [
        ("sequential, median pruner", "median", 1, False),
        ("folds at once, no pruner", "none", 1, False),
        (f"{batch} trials at once, no pruner", "none", batch, False),
        ("folds at once, epochs pruner", "epochs", 1, False),
        (f"{batch} trials at once, epochs pruner", "epochs", batch, False),
    ]
    if busy:
        paths = [
            ("the default path, quiet", "auto", 1, False),
            ("the default path, beside a busy process", "auto", 1, True),
        ]
    folder = tempfile.mkdtemp(prefix="regsearch-bench-studies-")
    timings = []
    try:
        for i, (name, pruner, trial_batch, beside_busy) in enumerate(paths):
            config = StudyConfig(
                backend=backend,
                folds=folds,
                trials=trials,
                seed=seed,
                storage=f"sqlite:///{folder}/study{i}.db",
                train=settings,
                device="cpu",
                pruner=pruner,
                trial_batch=trial_batch,
            )
            with busy_machine(beside_busy), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                result = run_study(config, dataset=ds)
                seconds = time.perf_counter() - start
            states = [t.state for t in result.study.trials]
            timings.append(
                StudyTiming(
                    name,
                    seconds,
                    states.count(TrialState.COMPLETE),
                    states.count(TrialState.PRUNED),
                    float(result.chosen.cv_accuracy),
                    _penalty(result.chosen.penalty, result.chosen.l1, result.chosen.l2),
                    float(result.chosen.test_accuracy),
                    fold_work(result.study, ds, parts, settings.hidden),
                    fold_seconds(result.study, folds),
                )
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return timings


def _penalty(kind: str, l1: float, l2: float) -> str:
    parts = [f"{name}={value:.2e}" for name, value in (("l1", l1), ("l2", l2)) if value]
    return f"{kind} {' '.join(parts)}".strip()


def print_study_paths(timings: list[StudyTiming], peak_gflops: float) -> str:
    """The table, and a machine-readable line of each path's time over the first's and the
    fraction of the matmul peak its fold trainings reached."""
    lines = [
        f"{'path':<40} {'wall s':>7} {'folds s':>7} {'GFLOP':>7} {'% peak':>6} "
        f"{'complete':>8} {'pruned':>6} {'best CV':>8} {'test':>7}  chosen"
    ]
    for t in timings:
        rate = t.fold_gflop / t.fold_seconds if t.fold_seconds else 0.0
        lines.append(
            f"{t.path:<40} {t.seconds:7.1f} {t.fold_seconds:7.1f} {t.fold_gflop:7.0f} "
            f"{100 * rate / peak_gflops:6.0f} {t.complete:8d} {t.pruned:6d} {t.best_cv:8.4f} "
            f"{t.test_accuracy:7.4f}  {t.chosen}"
        )
    base = timings[0].seconds
    lines.append(
        "study_time_fractions="
        + ",".join(f"{t.seconds / base:.3f}" for t in timings)
        + " study_cv_deltas_pp="
        + ",".join(f"{100 * (t.best_cv - timings[0].best_cv):+.2f}" for t in timings)
        + " study_peak_fractions="
        + ",".join(
            f"{t.fold_gflop / t.fold_seconds / peak_gflops if t.fold_seconds else 0:.3f}"
            for t in timings
        )
    )
    return "\n".join(lines)
