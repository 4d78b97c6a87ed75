"""Several worker processes on this machine, sharing one study through its storage.

Each worker is a fresh Python process (``multiprocessing``'s ``spawn``: no framework state is
inherited) that opens the study with its own sampler seed and runs trials until the study has
enough; each gets its share of the cores. A script that calls ``run_study(..., workers=N)``
must guard its entry point with ``if __name__ == "__main__":``, as for any ``spawn`` use.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable, Iterator

from regsearch import interrupt
from regsearch.config import StudyConfig
from regsearch.cv.folds import Splits
from regsearch.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    ConfigError,
    RegsearchError,
    WorkerFailed,
)
from regsearch.interrupt import handle_stop_signals
from regsearch.locations import redact_url
from regsearch.observe.standard import standard_observers
from regsearch.run.session import StudySession
from regsearch.threads import PASSIVE, WAIT_POLICY, share_of_cores


def thread_settings(workers: int, threads: int | None = None) -> dict[str, str]:
    """``threads``, or one share of the cores per worker, as read by PyTorch (OpenMP) and
    TensorFlow at start-up, so N workers do not fight over the same cores; OpenMP threads
    sleep while they wait (see :mod:`regsearch.threads`)."""
    threads = threads or share_of_cores(workers)
    return {
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "TF_NUM_INTRAOP_THREADS": str(threads),
        "TF_NUM_INTEROP_THREADS": "1",
        WAIT_POLICY: os.environ.get(WAIT_POLICY, PASSIVE),
    }


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` while the workers start (they copy it then)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_workers(
    config: StudyConfig,
    *,
    backend: object = None,
    dataset: object = None,
    lines: bool = True,
    render: Callable[[str], str] | None = None,
    splits: Splits | None = None,
) -> None:
    """Run ``config.workers`` worker processes on the study and wait for all of them.

    Args:
        backend, dataset: passed to each worker (they must be picklable); ``None`` means
            each worker loads its own, as :meth:`StudySession.open` does.
        splits: a scikit-learn splitter's splits (an estimator's ``cv``), scored in every
            worker; ``None``: each worker computes the study's own stratified folds.
        lines: each worker prints a line per trial, prefixed ``[worker N]``.
        render: how a worker names settings in its error messages (``RegsearchError.render``).

    Raises:
        ConfigError: a model builder that worker processes cannot import by name.
        WorkerFailed: a worker exited with an error (finished trials are stored).
        KeyboardInterrupt: Ctrl-C or SIGTERM (the workers were stopped too, their running
            trials recorded as failed).
    """
    _check_importable(config.model)
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(
            target=_worker_main,
            args=(config, index, backend, dataset, lines, render, splits),
            name=f"regsearch-worker-{index}",
        )
        for index in range(1, config.workers + 1)
    ]
    with _environment(thread_settings(config.workers, config.threads)):
        for proc in procs:
            proc.start()
    try:
        for proc in procs:
            while proc.is_alive():
                proc.join(timeout=0.5)
                if interrupt.requested():
                    proc.terminate()  # SIGTERM: the worker fails its trial and stops
    except KeyboardInterrupt:
        for proc in procs:
            proc.terminate()
            proc.join()
        raise
    interrupt.check()
    codes = [proc.exitcode for proc in procs]
    failed = [code for code in codes if code != 0]
    if EXIT_INTERRUPTED in failed:
        raise KeyboardInterrupt
    if failed:
        raise WorkerFailed(
            f"{len(failed)} of {config.workers} workers failed (exit status {failed[0]}); "
            f"finished trials are stored in {redact_url(config.storage)}, rerun the same "
            "command to resume."
        )


def _worker_main(
    config: StudyConfig,
    index: int,
    backend: object,
    dataset: object,
    lines: bool,
    render: Callable[[str], str] | None,
    splits: Splits | None = None,
) -> None:
    """One worker: open the study and run trials (with a sampler stream of its own)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    prefix = f"[worker {index}] "
    try:
        with handle_stop_signals():
            session = StudySession.open(
                config,
                backend=backend,  # type: ignore[arg-type]
                dataset=dataset,  # type: ignore[arg-type]
                splits=splits,
            )
            observers = standard_observers(config, lines=lines, bar=False, total=0, prefix=prefix)
            try:
                session.optimize(observers)
            finally:
                observers.close()
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except RegsearchError as exc:
        print(f"{prefix}error: {exc.render(render) if render else exc}", file=sys.stderr)
        sys.exit(exc.exit_code or EXIT_FAILURE)
    sys.stdout.flush()


def _check_importable(model: object) -> None:
    """Worker processes are started fresh (``spawn``) and get the model builder by pickling,
    which names a function: a lambda or a function defined inside another cannot travel."""
    if not callable(model):
        return
    try:
        pickle.dumps(model)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise ConfigError(
            f"worker processes need the model builder by its importable name, but "
            f"{getattr(model, '__qualname__', model)!r} cannot be pickled ({exc}). Define "
            "build(input_shape, n_classes) at the top level of a module, or train in one "
            "process (workers 1, n_jobs=None)."
        ) from None
