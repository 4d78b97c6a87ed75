"""The library's entry point: :func:`run_study`, everything the study command does."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import optuna
import sqlalchemy

from regsearch.backends import Backend
from regsearch.config import StudyConfig
from regsearch.cv.refit import RefitResult
from regsearch.data import Dataset
from regsearch.errors import StorageFailed
from regsearch.observe import Observer, Observers
from regsearch.run.refit_once import refit_once
from regsearch.run.session import StudySession
from regsearch.run.storage import describe_storage_failure
from regsearch.run.workers import run_workers


@dataclass(frozen=True)
class StudyResult:
    """What :func:`run_study` returns."""

    study: optuna.Study
    chosen: RefitResult
    baseline: RefitResult | None
    new_trials: int


def run_study(
    config: StudyConfig,
    *,
    backend: Backend | None = None,
    dataset: Dataset | None = None,
    observer: Observer | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> StudyResult:
    """Run (or resume) the study described by ``config`` up to ``config.trials`` finished trials,
    then retrain the chosen configuration and the baseline on the whole training set and test
    them once.

    With ``config.workers > 1`` the trials run in that many worker processes (each printing a
    line per trial); with ``config.refit_only`` none run. Everything that can be refused (data,
    folds, backend, a mismatching stored study) is checked before anything is written to the
    storage.

    Args:
        config: the study's settings.
        backend: a backend object; defaults to ``get_backend(config.backend)``.
        dataset: preloaded data; defaults to loading ``config.dataset``.
        observer: hears of every fold and finished trial run in this process
            (see :mod:`regsearch.observe`).
        log: receives progress sentences (downloads, resumes, refits); the CLI prints them.

    Raises:
        RegsearchError: its subclasses :class:`~regsearch.errors.InputError` (refused input,
            nothing stored), ``NothingToRefit``, ``RefitError``, ``RefitElsewhere`` (another
            worker refits), ``WorkerFailed`` and ``StorageFailed``.
    """
    session = open_session(config, backend=backend, dataset=dataset, log=log)
    new_trials = optimize(session, observer, backend=backend, dataset=dataset)
    chosen, baseline = refit(session)
    return StudyResult(session.study, chosen, baseline, new_trials)


def open_session(
    config: StudyConfig,
    *,
    backend: Backend | None = None,
    dataset: Dataset | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> StudySession:
    """:meth:`StudySession.open`, with storage failures as :class:`StorageFailed`."""
    with _storage_failures(config):
        return StudySession.open(config, backend=backend, dataset=dataset, log=log)


def optimize(
    session: StudySession,
    observer: Observer | None = None,
    *,
    backend: Backend | None = None,
    dataset: Dataset | None = None,
    lines: bool = True,
    render: Callable[[str], str] | None = None,
) -> int:
    """Run the missing trials here or in ``config.workers`` processes (none with
    ``refit_only``); returns how many trials finished meanwhile. Workers print a line per
    trial with ``lines`` and name settings in their errors with ``render``."""
    config = session.config
    if config.refit_only:
        return 0
    with _storage_failures(config):
        if config.workers == 1:
            return session.optimize(observer or Observers())
        before = session.finished_trials()
        run_workers(config, backend=backend, dataset=dataset, lines=lines, render=render)
        return session.finished_trials() - before


def refit(session: StudySession) -> tuple[RefitResult, RefitResult | None]:
    """:func:`refit_once`, taking over a dead worker's claim with ``refit_only``."""
    with _storage_failures(session.config):
        return refit_once(session, take_over=session.config.refit_only)


@contextlib.contextmanager
def _storage_failures(config: StudyConfig) -> Iterator[None]:
    """Turn the storage's own exceptions (Optuna's, SQLAlchemy's) into :class:`StorageFailed`
    with the database's words, the fix and what is kept."""
    try:
        yield
    except (optuna.exceptions.StorageInternalError, sqlalchemy.exc.SQLAlchemyError) as exc:
        raise StorageFailed(describe_storage_failure(exc, config.storage)) from exc
