"""The library's entry point: :func:`run_study`, everything the study command does."""

from __future__ import annotations

import warnings
from collections.abc import Callable

from regsearch.backends.base import Backend
from regsearch.config import StudyConfig
from regsearch.data import Dataset
from regsearch.errors import RegsearchWarning, render
from regsearch.observe.base import Observer, Observers
from regsearch.observe.standard import standard_observers
from regsearch.present.dashboard import show_on_dashboard
from regsearch.results import StudyResult
from regsearch.run.session import StudySession, silent
from regsearch.run.study_run import FrontDoor, StudyRun


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
    anything is written to the storage. With ``config.dashboard``, the study's answer, note and
    figures are written for optuna-dashboard. A chosen model at chance level, or trials that
    all tie, raise a :class:`RegsearchWarning`.

    Args:
        config: the study's settings.
        backend: a backend object; defaults to ``get_backend(config.backend)``.
        dataset: preloaded data; defaults to loading ``config.dataset``.
        observer: hears of every fold, finished trial and refit run in this process (see
            :class:`regsearch.observe.Observer`), beside the TensorBoard curves of
            ``config.tensorboard``.
        log: receives progress sentences (downloads, resumes, refits); ``print`` with
            ``verbose``.
        verbose: print a line per trial and the progress sentences.

    Raises:
        RegsearchError: its subclasses :class:`~regsearch.errors.InputError` (refused input,
            nothing stored), ``NothingToRefit``, ``RefitError``, ``RefitElsewhere`` (another
            worker refits), ``WorkerFailed`` and ``StorageFailed``.
    """

    def observers(session: StudySession) -> Observer:
        shown = standard_observers(session.config, lines=verbose, bar=False, total=0)
        return Observers([observer, shown]) if observer is not None else shown

    door = FrontDoor(
        log=log or (print if verbose else silent),
        observers=observers,
        lines=verbose,
        publish=show_on_dashboard if config.dashboard else None,
    )
    run = StudyRun(config, door, backend=backend, dataset=dataset)
    result = run.execute()
    assert result is not None  # the door asks for the refit
    for doubt in run.doubts:
        warnings.warn(render(doubt), RegsearchWarning, stacklevel=2)
    return result
