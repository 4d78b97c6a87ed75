"""The steps of a run, each turning the storage's own failures into :class:`StorageFailed`:
open the study, run its missing trials (here or in worker processes), refit its choice once."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import optuna
import sqlalchemy

from regsearch.backends.base import Backend
from regsearch.config import StudyConfig
from regsearch.cv.folds import Splits
from regsearch.cv.refit import RefitResult
from regsearch.data import Dataset
from regsearch.errors import StorageFailed
from regsearch.observe.base import Observer, Observers
from regsearch.run.refit_once import refit_once
from regsearch.run.session import Log, StudySession, silent
from regsearch.run.storage import describe_storage_failure
from regsearch.run.workers import run_workers


@contextlib.contextmanager
def storage_failures(config: StudyConfig) -> Iterator[None]:
    """Turn the storage's own exceptions (Optuna's, SQLAlchemy's) into :class:`StorageFailed`
    with the database's words, the fix and what is kept."""
    try:
        yield
    except (optuna.exceptions.StorageInternalError, sqlalchemy.exc.SQLAlchemyError) as exc:
        raise StorageFailed(describe_storage_failure(exc, config.storage)) from exc


@contextlib.contextmanager
def optuna_quiet() -> Iterator[None]:
    """Optuna's INFO lines ("Trial 3 finished with value ...") held back: a library call
    should print nothing unless asked; regsearch reports trials itself. A quieter level set by
    the caller (the study command's ERROR) stays."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(before, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def open_session(
    config: StudyConfig,
    *,
    backend: Backend | None = None,
    dataset: Dataset | None = None,
    log: Log = silent,
    splits: Splits | None = None,
) -> StudySession:
    """:meth:`StudySession.open`, with storage failures as :class:`StorageFailed`."""
    with storage_failures(config):
        return StudySession.open(config, backend=backend, dataset=dataset, log=log, splits=splits)


def optimize(
    session: StudySession,
    observer: Observer | None = None,
    *,
    backend: Backend | None = None,
    dataset: Dataset | None = None,
    lines: bool = True,
    render: Callable[[str], str] | None = None,
    splits: Splits | None = None,
) -> int:
    """Run the missing trials here or in ``config.workers`` processes (none with
    ``refit_only``); returns how many trials finished meanwhile. Workers print a line per
    trial with ``lines`` and name settings in their errors with ``render``."""
    config = session.config
    if config.refit_only:
        return 0
    with storage_failures(config):
        if config.workers == 1:
            return session.optimize(observer or Observers())
        before = session.finished_trials()
        run_workers(
            config, backend=backend, dataset=dataset, lines=lines, render=render, splits=splits
        )
        return session.finished_trials() - before


def refit(
    session: StudySession, observer: Observer | None = None
) -> tuple[RefitResult, RefitResult | None]:
    """:func:`refit_once` (each refit told to ``observer``), taking over a dead worker's claim
    with ``refit_only``."""
    with storage_failures(session.config):
        return refit_once(session, take_over=session.config.refit_only, observer=observer)
