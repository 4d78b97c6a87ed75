"""One run of a study, the same for every front door: the study command, :func:`run_study` and
the scikit-learn estimators are thin clients of :class:`StudyRun`, as scikit-learn's searches
share ``_fit_and_score``. A :class:`FrontDoor` says only how the caller wants the run told and
finished.

A run opens the study (refusing bad input before anything is stored), runs its missing trials,
retrains the chosen configuration and the baseline once, and publishes the answer for
optuna-dashboard. With ``outer_folds`` (nested cross-validation, :mod:`regsearch.run.nested`),
each outer fold's inner study runs first, then the study on all training data, whose result
carries the nested estimate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import optuna

from regsearch import records
from regsearch.backends.base import Backend
from regsearch.config import StudyConfig
from regsearch.cv.doubts import doubts
from regsearch.cv.folds import Splits
from regsearch.data import Dataset
from regsearch.errors import RefitElsewhere, RegsearchError
from regsearch.observe.base import Observer
from regsearch.present.families import answer_comparison
from regsearch.present.nested import outer_line
from regsearch.results import StudyResult
from regsearch.run.nested import outer_studies, summarize
from regsearch.run.session import Log, StudySession, load_study_data, silent
from regsearch.run.steps import open_session, optimize, optuna_quiet, refit, storage_failures

Publish = Callable[[optuna.Study, StudyConfig, Log], None]
"""Publishes a refit study (its answer, note and figures for optuna-dashboard)."""


def no_observer(session: StudySession) -> Observer:
    """A :attr:`FrontDoor.observers` that hears nothing."""
    return Observer()


@dataclass(frozen=True)
class FrontDoor:
    """How a front door wants a run told and finished.

    Attributes:
        log: receives the run's sentences (data, threads, model, resumes, refits).
        observers: the observer of each study opened, made once it is open (a progress bar
            needs to know how many trials are missing).
        lines: worker processes print a line per trial.
        render: how messages name settings (the command line's flags); ``None``: as
            parameters.
        refit: retrain the chosen configuration and the baseline (the estimators'
            ``refit=False`` leaves it out, and :meth:`StudyRun.execute` returns ``None``).
        publish: what is published after the refit of the study on all training data (an
            inner study of nested cross-validation is not published); ``None``: nothing.
    """

    log: Log = silent
    observers: Callable[[StudySession], Observer] = no_observer
    lines: bool = False
    render: Callable[[str], str] | None = None
    refit: bool = True
    publish: Publish | None = None


class StudyRun:
    """One run of ``config``'s study (see the module).

    Attributes:
        session: the study opened last (the main one once the run is done), for a caller that
            reads it afterwards or says how far an interrupted run got.
        doubts: sentences saying where a refit answer looks meaningless
            (:func:`regsearch.cv.doubts.doubts`), inner studies' included.
    """

    def __init__(
        self,
        config: StudyConfig,
        door: FrontDoor,
        *,
        backend: Backend | None = None,
        dataset: Dataset | None = None,
        splits: Splits | None = None,
    ):
        self.config = config
        self.door = door
        self.backend = backend
        self.dataset = dataset
        self.splits = splits
        self.session: StudySession | None = None
        self.doubts: list[str] = []

    def execute(self) -> StudyResult | None:
        """Run the study (nested cross-validation first, where asked) and return its result;
        ``None`` where the front door asked for no refit.

        Raises:
            RegsearchError: its subclasses, as :func:`regsearch.run_study` documents.
        """
        if self.config.outer_folds is not None:
            return self._nested()
        result = self._one(self.config, self.dataset, self.splits)
        self._publish(result, self.config)
        return result

    def _one(
        self, config: StudyConfig, dataset: Dataset | None, splits: Splits | None
    ) -> StudyResult | None:
        """One study: open it, run its missing trials, refit its choice."""
        door = self.door
        with optuna_quiet():
            session = self.session = open_session(
                config, backend=self.backend, dataset=dataset, log=door.log, splits=splits
            )
            observer = door.observers(session)
            try:
                try:
                    new_trials = optimize(
                        session,
                        observer,
                        backend=self.backend,
                        dataset=dataset,
                        lines=door.lines,
                        render=door.render,
                        splits=splits,
                    )
                finally:
                    observer.on_search_end()
                if not door.refit:
                    return None
                chosen, baseline = refit(session, observer)
            finally:
                observer.close()
        self.doubts += doubts(session.complete_trials(), chosen)
        comparison = answer_comparison(session.study, chosen.trial_number, config.rope)
        with storage_failures(config):
            session.study.set_user_attr(
                records.COMPARISON, None if comparison is None else comparison.record()
            )
        timed_out = config.timeout is not None and session.finished_trials() < config.trials
        return StudyResult(session.study, chosen, baseline, new_trials, comparison, timed_out)

    def _nested(self) -> StudyResult | None:
        """Each outer fold's inner study, then the study on all training data, which stores
        the nested estimate (:func:`regsearch.run.nested.summarize`)."""
        config, say = self.config, self.door.log
        dataset = self.dataset or load_study_data(config, self.backend, say)
        for fold, inner, data in outer_studies(config, dataset):
            say(
                f"\nOuter fold {fold + 1} of {config.outer_folds}: the whole search, as study "
                f"{inner.name!r}, on its training part ({len(data.y_train)} examples); its "
                f"refit is tested on the held-out {len(data.y_test)}."
            )
            try:
                outer = self._one(inner, data, None)
            except RefitElsewhere as exc:
                say(f"Trials done. The refit is not this worker's: {self._words(exc)}")
                continue
            if outer is not None:
                say(outer_line(outer))
        say(
            f"\nThe search on all {len(dataset.y_train)} training examples, as study "
            f"{config.name!r}."
        )
        main = dataclasses.replace(config, outer_folds=None)
        result = self._one(main, dataset, None)
        if result is not None and self.session is not None:
            with storage_failures(config):
                if summarize(config, result.study, self.session.storage) is None:
                    say(
                        "\nNested cross-validation: some inner studies are not refit yet "
                        "(another worker refits them); rerun this command when they are to see "
                        "the estimate."
                    )
        self._publish(result, main)
        return result

    def _publish(self, result: StudyResult | None, config: StudyConfig) -> None:
        if result is not None and self.door.publish is not None:
            with storage_failures(config):
                self.door.publish(result.study, config, self.door.log)

    def _words(self, error: RegsearchError) -> str:
        render = self.door.render
        return error.render(render) if render else str(error)
