"""The library's entry point: :func:`run_study`, everything the study command does."""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import optuna
import sqlalchemy

from regsearch.backends import Backend
from regsearch.config import StudyConfig
from regsearch.cv.doubts import doubts
from regsearch.cv.folds import Splits
from regsearch.cv.refit import RefitResult
from regsearch.data import Dataset
from regsearch.errors import RegsearchWarning, StorageFailed, render
from regsearch.observe import Observer, Observers, TrialLines
from regsearch.run.refit_once import refit_once
from regsearch.run.session import StudySession, silent
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
    log: Callable[[str], None] | None = None,
    verbose: bool = False,
) -> StudyResult:
    """Run (or resume) the study described by ``config`` up to ``config.trials`` finished trials,
    then retrain the chosen configuration and the baseline on the whole training set and test
    them once.

    It is quiet: Optuna's own log lines are held back during the call, and nothing is
    printed unless ``verbose`` (a line per trial, and the progress sentences) or ``log`` asks.
    With ``config.workers > 1`` the trials run in that many worker processes; with
    ``config.refit_only`` none run. With ``config.outer_folds``, nested cross-validation runs
    first (:mod:`regsearch.run.nested`) and the main study records its estimate. Everything
    that can be refused (data, folds, backend, a mismatching stored study) is checked before
    anything is written to the storage. A chosen
    model at chance level, or trials that all tie, raise a :class:`RegsearchWarning`.

    Args:
        config: the study's settings.
        backend: a backend object; defaults to ``get_backend(config.backend)``.
        dataset: preloaded data; defaults to loading ``config.dataset``.
        observer: hears of every fold and finished trial run in this process
            (see :mod:`regsearch.observe`).
        log: receives progress sentences (downloads, resumes, refits); ``print`` with
            ``verbose``.
        verbose: print a line per trial and the progress sentences.

    Raises:
        RegsearchError: its subclasses :class:`~regsearch.errors.InputError` (refused input,
            nothing stored), ``NothingToRefit``, ``RefitError``, ``RefitElsewhere`` (another
            worker refits), ``WorkerFailed`` and ``StorageFailed``.
    """
    if config.outer_folds is not None:
        return _run_nested(config, backend, dataset, observer, log, verbose)
    result = _run_one(config, backend, dataset, observer, log, verbose)
    if config.dashboard:
        show_on_dashboard(result.study, config, log or (print if verbose else silent))
    return result


def _run_one(
    config: StudyConfig,
    backend: Backend | None,
    dataset: Dataset | None,
    observer: Observer | None,
    log: Callable[[str], None] | None,
    verbose: bool,
) -> StudyResult:
    """:func:`run_study` of one study (no nested cross-validation), without the dashboard."""
    say = log or (print if verbose else silent)
    observers = Observers([*([observer] if observer else []), *([TrialLines()] if verbose else [])])
    with optuna_quiet():
        session = open_session(config, backend=backend, dataset=dataset, log=say)
        try:
            new_trials = optimize(
                session, observers, backend=backend, dataset=dataset, lines=verbose
            )
        finally:
            observers.close()
        chosen, baseline = refit(session)
    for doubt in doubts(session.complete_trials(), chosen):
        warnings.warn(render(doubt), RegsearchWarning, stacklevel=3)  # run_study's caller
    return StudyResult(session.study, chosen, baseline, new_trials)


def _run_nested(
    config: StudyConfig,
    backend: Backend | None,
    dataset: Dataset | None,
    observer: Observer | None,
    log: Callable[[str], None] | None,
    verbose: bool,
) -> StudyResult:
    """Nested cross-validation (:mod:`regsearch.run.nested`): each outer fold's inner study,
    then the study on all training data, whose result is returned with the comparison stored
    as ``study.user_attrs["nested"]``."""
    from regsearch.run.nested import outer_studies, summarize
    from regsearch.run.session import load_study_data

    if dataset is None:
        with _storage_failures(config):
            dataset = load_study_data(config, backend, log or silent)
    for _, inner, data in outer_studies(config, dataset):
        run_study(
            inner,
            backend=backend,
            dataset=data,
            observer=observer,
            log=log,
            verbose=verbose,
        )
    main = dataclasses.replace(config, outer_folds=None)
    result = _run_one(main, backend, dataset, observer, log, verbose)
    with _storage_failures(config):
        summarize(config, result.study, config.storage)
    if config.dashboard:
        show_on_dashboard(result.study, main, log or (print if verbose else silent))
    return result


def show_on_dashboard(
    study: optuna.Study,
    config: StudyConfig,
    log: Callable[[str], None],
    reproduce: list[str] | None = None,
) -> None:
    """The study's note and figures for optuna-dashboard (:mod:`regsearch.present.dashboard`),
    in ``config.artifact_dir`` or beside the study; ``reproduce``: the commands the note
    gives (default: the study command, inspect, report and the dashboard)."""
    from regsearch.locations import default_artifact_dir
    from regsearch.present.dashboard import publish
    from regsearch.present.text import next_commands

    folder = config.artifact_dir or default_artifact_dir(config.storage)
    if reproduce is None:
        from regsearch.options import command_line

        reproduce = [command_line(config), *next_commands(config, study.study_name)]
    with _storage_failures(config):
        for line in publish(study, Path(folder), reproduce, config.rope):
            log(line)


@contextlib.contextmanager
def optuna_quiet() -> Iterator[None]:
    """Optuna's INFO lines ("Trial 3 finished with value ...") held back: a library call
    should print nothing unless asked; regsearch reports trials itself."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def open_session(
    config: StudyConfig,
    *,
    backend: Backend | None = None,
    dataset: Dataset | None = None,
    log: Callable[[str], None] = silent,
    splits: Splits | None = None,
) -> StudySession:
    """:meth:`StudySession.open`, with storage failures as :class:`StorageFailed`."""
    with _storage_failures(config):
        return StudySession.open(config, backend=backend, dataset=dataset, log=log, splits=splits)


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
