"""Whole studies, the same settings run three ways in one process: trials one at a time with
their folds pruned (the default), trials one at a time with their folds at once, and trials in
populations of several at once. Wall time includes sampling, storage and the refits."""

from __future__ import annotations

import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass

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


def compare_study_paths(
    ds: Dataset, trials: int, folds: int, settings: TrainSettings, batch: int, seed: int
) -> list[StudyTiming]:
    """Run the study on each path (in a throwaway SQLite file) and time it."""
    from optuna.trial import TrialState

    from regsearch.run import run_study

    paths = [
        ("sequential, median pruner", "median", 1),
        ("folds at once, no pruner", "none", 1),
        (f"{batch} trials at once, no pruner", "none", batch),
    ]
    folder = tempfile.mkdtemp(prefix="regsearch-bench-studies-")
    timings = []
    try:
        for i, (name, pruner, trial_batch) in enumerate(paths):
            config = StudyConfig(
                backend="torch",
                folds=folds,
                trials=trials,
                seed=seed,
                storage=f"sqlite:///{folder}/study{i}.db",
                train=settings,
                device="cpu",
                pruner=pruner,
                trial_batch=trial_batch,
            )
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
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
                )
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return timings


def _penalty(kind: str, l1: float, l2: float) -> str:
    parts = [f"{name}={value:.2e}" for name, value in (("l1", l1), ("l2", l2)) if value]
    return f"{kind} {' '.join(parts)}".strip()


def print_study_paths(timings: list[StudyTiming]) -> str:
    """The table, and a machine-readable line of each path's time over the first's."""
    lines = [
        f"{'path':<32} {'wall s':>7} {'complete':>8} {'pruned':>6} {'best CV':>8} "
        f"{'test':>7}  chosen"
    ]
    for t in timings:
        lines.append(
            f"{t.path:<32} {t.seconds:7.1f} {t.complete:8d} {t.pruned:6d} {t.best_cv:8.4f} "
            f"{t.test_accuracy:7.4f}  {t.chosen}"
        )
    base = timings[0].seconds
    lines.append(
        "study_time_fractions="
        + ",".join(f"{t.seconds / base:.3f}" for t in timings)
        + " study_cv_deltas_pp="
        + ",".join(f"{100 * (t.best_cv - timings[0].best_cv):+.2f}" for t in timings)
    )
    return "\n".join(lines)
