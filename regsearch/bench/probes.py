"""Measurements of the machine and of a process: matmul peak, an epoch's arithmetic, memory."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from regsearch.config import TrainSettings
from regsearch.data import Dataset
from regsearch.observe import Observer


def matmul_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Best-of-``repeats`` float32 GFLOP/s of a ``size x size`` matmul (``2 n^3`` flops), with
    torch when installed (its BLAS is the one training uses), else NumPy."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    matmul: Callable[[], object]
    try:
        import torch

        ta, tb = torch.from_numpy(a), torch.from_numpy(b)

        def matmul() -> object:
            return torch.mm(ta, tb)

    except ImportError:

        def matmul() -> object:
            return a @ b

    matmul()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def epoch_gflop(n_rows: int, n_features: int, hidden: tuple[int, ...], n_classes: int) -> float:
    """Arithmetic of one training epoch: ``6 * rows * sum(fan_in * fan_out)`` flops (a
    multiply-add is 2 flops; the backward pass costs twice the forward)."""
    sizes = [n_features, *hidden, n_classes]
    macs = sum(a * b for a, b in itertools.pairwise(sizes))
    return 6 * n_rows * macs / 1e9


def resident_mib() -> float:
    """This process's resident memory now (Linux ``/proc``; peak RSS elsewhere), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_over_trials(backend: str, ds: Dataset, trials: int, seed: int) -> dict[int, float]:
    """Run a ``trials``-trial study (3 folds, 1 epoch, throwaway storage) and record the
    resident memory after trials 5 and ``trials``: framework state must be released between
    folds and trials, so the two should be close."""
    import optuna

    from regsearch.config import SearchSpace, StudyConfig
    from regsearch.run.session import StudySession

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    folder = tempfile.mkdtemp(prefix="regsearch-bench-")
    config = StudyConfig(
        backend=backend,
        folds=3,
        trials=trials,
        seed=seed,
        pruner="none",
        storage=f"sqlite:///{folder}/memory.db",
        train=TrainSettings(epochs=1),
        space=SearchSpace(),
    )
    session = StudySession.open(config, dataset=ds)
    marks: dict[int, float] = {}

    def record(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.number + 1 in (5, trials):
            marks[trial.number + 1] = resident_mib()

    session.optimize(_OnTrial(record))
    shutil.rmtree(folder, ignore_errors=True)
    return marks


class _OnTrial(Observer):
    """An observer that only hears of finished trials."""

    def __init__(self, record: Callable[[Any, Any], None]):
        self.record = record

    def on_trial(self, study: Any, trial: Any) -> None:
        self.record(study, trial)


BUSY_PROCESS = (
    "import torch\n"
    "a = torch.randn(256, 256)\n"
    "while True:\n"
    "    for _ in range(200):\n"
    "        a = torch.tanh(a @ a)\n"
)
"""Another CPU-heavy PyTorch process with PyTorch's default threads: what a user's machine,
or a second worker, runs beside a study."""


@contextlib.contextmanager
def busy_machine(active: bool) -> Iterator[None]:
    """With ``active``, one :data:`BUSY_PROCESS` runs while the block does."""
    if not active:
        yield
        return
    # With PyTorch's defaults, whatever this process was given (OMP_WAIT_POLICY, threads).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "MKL_", "GOMP_"))}
    process = subprocess.Popen([sys.executable, "-c", BUSY_PROCESS], env=env)
    time.sleep(3.0)  # past its imports: busy when the timing starts
    try:
        yield
    finally:
        process.kill()
        process.wait()


def thread_timings(
    ds: Dataset, settings: TrainSettings, folds: int, seed: int, thread_counts: list[int]
) -> list[tuple[str, int, float, float]]:
    """``(machine, threads, one fold s, all folds at once s)`` for each thread count, on a
    quiet machine and beside :data:`BUSY_PROCESS`: the measurement behind the default of
    :func:`regsearch.threads.default_threads`."""
    import torch

    from regsearch.backends import get_backend
    from regsearch.backends.torch_folds import VmappedFolds
    from regsearch.cv.folds import make_folds
    from regsearch.models import model_factory
    from regsearch.penalty import Penalty
    from regsearch.seeds import fold_seed

    trainer = get_backend("torch").trainer(
        ds.x_train, ds.y_train, ds.n_classes, settings, model_factory("mlp", "torch")
    )
    parts = make_folds(ds.y_train, folds, seed)
    seeds = [fold_seed(seed, i) for i in range(folds)]
    batched = VmappedFolds(trainer)  # type: ignore[arg-type]
    penalty = Penalty(l2=1e-4)

    def best_of_two(work: Callable[[], object]) -> float:
        times = []
        for _ in range(2):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        return min(times)

    found = []
    before = torch.get_num_threads()
    batched.fit_folds(parts, penalty, 1, seeds)  # warm-up: allocations, kernel selection
    try:
        for machine in ("quiet", "busy"):
            with busy_machine(machine == "busy"):
                for threads in thread_counts:
                    torch.set_num_threads(threads)
                    one = best_of_two(
                        lambda: trainer.fit(*parts[0], penalty, settings.epochs, seeds[0])
                    )
                    at_once = best_of_two(
                        lambda: batched.fit_folds(parts, penalty, settings.epochs, seeds)
                    )
                    found.append((machine, threads, one, at_once))
    finally:
        torch.set_num_threads(before)
    return found


def denormal_timings(
    ds: Dataset, settings: TrainSettings, folds: int, seed: int, l2: float
) -> dict[bool, tuple[list[float], list[int]]]:
    """A trial's ``folds`` MLP folds trained at once with penalty ``l2`` for
    ``settings.epochs`` epochs, with subnormal floats kept and flushed to zero (torch):
    ``{flushed: (seconds of each epoch, epochs each fold trained)}``. The measurement behind
    :func:`regsearch.backends.torch.flush_denormals`."""
    import torch

    from regsearch.backends import get_backend
    from regsearch.cv.folds import make_folds
    from regsearch.models import model_factory
    from regsearch.penalty import Penalty
    from regsearch.seeds import fold_seed

    trainer = get_backend("torch").trainer(
        ds.x_train, ds.y_train, ds.n_classes, settings, model_factory("mlp", "torch")
    )
    parallel = trainer.fold_parallel
    assert parallel is not None
    parts = make_folds(ds.y_train, folds, seed)
    seeds = [fold_seed(seed, i) for i in range(folds)]
    found = {}
    try:
        for flushed in (False, True):
            torch.set_flush_denormal(flushed)
            marks: list[float] = []
            mark = marks.append
            fits = parallel.fit_folds(
                parts,
                Penalty(l2=l2),
                settings.epochs,
                seeds,
                on_epoch=lambda _, mark=mark: mark(time.perf_counter()),  # type: ignore[misc]
            )
            marks.append(time.perf_counter())
            seconds = [b - a for a, b in itertools.pairwise(marks)]
            found[flushed] = (seconds, [len(f.history["loss"]) for f in fits])
    finally:
        torch.set_flush_denormal(True)
    return found
