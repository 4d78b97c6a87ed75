"""Run a study end to end: create or resume it, optimize, refit the best, test it once."""

from __future__ import annotations

import platform
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from regsearch import interrupt
from regsearch.backends import Backend, Trainer, get_backend
from regsearch.config import StudyConfig
from regsearch.data import Dataset, load_dataset
from regsearch.folds import Fold, folds_fingerprint, make_folds
from regsearch.objective import (
    BASELINE_ATTR,
    REASON_ATTR,
    CrossValidationObjective,
    FoldCallback,
    derive_seed,
)
from regsearch.pruners import make_pruner, reports_each_fold
from regsearch.refit import RefitResult, refit_and_test
from regsearch.results import select
from regsearch.storage import (
    artifacts_dir,
    claim_refit,
    drop_refit_claim,
    fail_stale_trials,
    open_storage,
    redact_url,
    safe_file_stem,
)

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
"""Trial states that count towards ``--trials``; failed trials are retried instead."""

Log = Callable[[str], None]
TrialCallback = Callable[[optuna.Study, FrozenTrial], None]


class StudyMismatch(ValueError):
    """A stored study was created with other settings; the message lists the differences."""


class NothingToRefit(RuntimeError):
    """Every trial diverged or was pruned, so no configuration can be retrained."""


class SurplusTrial(RuntimeError):
    """A trial started by one worker too many; failed at once, never counted."""


class RefitElsewhere(RuntimeError):
    """Another worker has claimed the refit of the chosen configuration (not an error)."""


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
    on_trial: TrialCallback | None = None,
    log: Log = lambda message: None,
) -> StudyResult:
    """Run (or resume) the study described by ``config`` up to ``config.trials`` finished trials,
    then retrain the best configuration and the baseline on the whole training set and test them.

    Everything that can be refused (data, folds, backend, a mismatching stored study) is checked
    before anything is written to the storage.

    Args:
        config: the study's settings.
        backend: a backend object; defaults to ``get_backend(config.backend)``.
        dataset: preloaded data; defaults to loading ``config.dataset``.
        on_trial: called after each trial finishes (an Optuna callback).
        log: receives progress sentences (downloads, refits); the CLI prints them.

    Raises:
        ConfigError, DataError, BackendUnavailable, StudyMismatch, NothingToRefit.
    """
    session = StudySession.open(config, backend=backend, dataset=dataset, log=log)
    new_trials = session.optimize(on_trial)
    chosen, baseline = session.refit()
    return StudyResult(session.study, chosen, baseline, new_trials)


@dataclass
class StudySession:
    """An opened (created or verified) study with its data and folds, ready to run trials.

    :func:`run_study` is ``open``, ``optimize``, ``refit``; ``--workers`` runs ``optimize`` in
    several processes and ``refit`` once, in the parent.
    """

    config: StudyConfig
    backend: Backend
    dataset: Dataset
    folds: list[Fold]
    study: optuna.Study
    log: Log
    storage: optuna.storages.RDBStorage

    @classmethod
    def open(
        cls,
        config: StudyConfig,
        *,
        backend: Backend | None = None,
        dataset: Dataset | None = None,
        log: Log = lambda message: None,
        worker: int = 0,
    ) -> StudySession:
        """Load the data, compute the folds, then create the study or verify the stored one.

        ``worker`` (0, 1, ...) numbers the processes sharing one study: each needs its own
        sampler seed, or they would all propose the same parameters.
        """
        if backend is None:
            backend = get_backend(config.backend)
        if dataset is None:
            download = _downloader(backend, log)
            dataset = load_dataset(config.dataset, config.data_dir, download=download)
        log(f"Data: {dataset.describe()}.")
        folds = make_folds(dataset.y_train, config.folds, config.seed)
        records: dict[str, Any] = {
            "config": config.identity(),
            "dataset_fingerprint": dataset.fingerprint(),
            "folds_fingerprint": folds_fingerprint(folds),
        }
        storage = open_storage(config.storage, config.heartbeat_interval, config.grace_period)
        sampler_seed = config.seed if worker == 0 else derive_seed(config.seed, 2, worker)
        study = _create_or_resume(config, storage, records, backend, dataset, sampler_seed)
        session = cls(config, backend, dataset, folds, study, log, storage)
        session._sweep_stale_trials()
        return session

    @cached_property
    def trainer(self) -> Trainer:
        data = self.dataset
        return self.backend.trainer(data.x_train, data.y_train, data.n_classes, self.config.train)

    def finished_trials(self) -> int:
        return len(self.study.get_trials(deepcopy=False, states=FINISHED))

    def optimize(
        self, on_trial: TrialCallback | None = None, on_fold: FoldCallback | None = None
    ) -> int:
        """Run trials until the study has ``config.trials`` finished ones; returns how many
        trials this call ran. Safe to call from several processes at once.

        ``on_trial`` is called after each trial (an Optuna callback), ``on_fold`` after each
        fold's training (TensorBoard curves, progress)."""
        config, study = self.config, self.study
        finished = self.finished_trials()
        missing = config.trials - finished
        if finished:
            self.log(f"Resuming: {finished} of {config.trials} trials are already finished.")
        if missing <= 0:
            return 0
        objective = CrossValidationObjective(
            self.trainer,
            self.dataset.x_train,
            self.dataset.y_train,
            self.folds,
            config.space,
            config.train,
            config.seed,
            report_each_fold=reports_each_fold(config.pruner),
            on_fold=on_fold,
            # All folds of a trial run anyway when nothing is pruned between them: train
            # them at once where the backend can (measured 2x faster per trial with torch).
            fold_parallel=config.pruner == "none",
        )
        # Running trials count too, so that several workers do not overshoot the target.
        callbacks: list[TrialCallback] = [
            optuna.study.MaxTrialsCallback(config.trials, states=(*FINISHED, TrialState.RUNNING))
        ]
        ran: list[int] = []
        callbacks.append(lambda _study, trial: ran.append(trial.number))
        if on_trial is not None:
            callbacks.append(on_trial)
        waiting_said = False
        while (missing := config.trials - self.finished_trials()) > 0:
            running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
            if running < missing:
                study.optimize(
                    self._unless_surplus(objective),
                    n_trials=missing - running,
                    callbacks=callbacks,
                    gc_after_trial=True,
                    catch=(SurplusTrial,),
                )
                self._sweep_stale_trials()
                continue
            # The rest is running in other workers. Wait for them: if one dies, its trial
            # turns stale after the grace period and its retry is run here.
            if not waiting_said:
                self.log(
                    f"Waiting for {running} trial(s) running in other workers "
                    f"({config.trials - missing} of {config.trials} finished)."
                )
                waiting_said = True
            self._wait(min(config.heartbeat_interval, 5))
            self._sweep_stale_trials()
        return len(ran)

    def _unless_surplus(
        self, objective: Callable[[optuna.Trial], float]
    ) -> Callable[[optuna.Trial], float]:
        """``objective``, but a trial that would go beyond ``config.trials`` fails at once.

        Workers that start a trial at the same moment each see room for one more (Optuna's
        ``MaxTrialsCallback`` has the same race). Trial numbers are handed out atomically by
        the storage, so the trial whose earlier trials (all but failed ones) already reach the
        target is the surplus one; it fails with its reason and is not counted.
        """

        def guarded(trial: optuna.Trial) -> float:
            earlier = [
                t
                for t in self.study.get_trials(deepcopy=False)
                if t.number < trial.number and t.state != TrialState.FAIL
            ]
            if len(earlier) >= self.config.trials:
                reason = (
                    f"not run: trials 0-{trial.number - 1} already fill the study's "
                    f"{self.config.trials} (another worker started one at the same moment)"
                )
                trial.set_user_attr(REASON_ATTR, reason)
                raise SurplusTrial(reason)
            return objective(trial)

        return guarded

    @staticmethod
    def _wait(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            interrupt.check()
            time.sleep(0.2)

    def _sweep_stale_trials(self) -> None:
        stale = fail_stale_trials(self.study)
        if stale:
            self.log(
                f"Trial(s) {', '.join(map(str, stale))} were left running by a worker that "
                f"stopped sending heartbeats {self.config.grace_period} s ago: marked failed, "
                "and each configuration is queued once more."
            )

    def refit(self, take_over: bool = False) -> tuple[RefitResult, RefitResult | None]:
        """Retrain the configuration chosen by ``config.select`` and the baseline on all
        training data, test each once, and store the results (and which trial each rule would
        choose) in the study's user attributes.

        It runs once per chosen trial, however many workers finish at the same moment: the
        first to claim it (see :func:`regsearch.storage.claim_refit`) refits; a stored result
        is returned as it is. ``take_over`` (``--refit-only``) drops a claim whose worker left
        no result, e.g. because it died.

        Raises:
            NothingToRefit: no trial completed.
            RefitElsewhere: another worker holds the claim and has not stored a result yet.
        """
        config, study, log = self.config, self.study, self.log
        completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not completed:
            raise NothingToRefit(
                f"none of the {len(study.trials)} trials of study {study.study_name!r} "
                "finished: every one diverged or was pruned, so there is nothing to refit. "
                "Lower --lr or --lambda-max and run again with a new --study-name."
            )
        chosen_trial = select(completed, config.select)
        stored = self._stored_refit(chosen_trial.number)
        if stored is not None:
            log(f"Trial {chosen_trial.number} was refit and tested before; its stored result:")
            return stored
        holder = claim_refit(self.storage, study.study_name, chosen_trial.number)
        if holder is not None and take_over:
            log(f"Taking over the refit of trial {chosen_trial.number} from worker {holder}.")
            drop_refit_claim(self.storage, study.study_name, chosen_trial.number)
            holder = claim_refit(self.storage, study.study_name, chosen_trial.number)
        if holder is not None:
            raise RefitElsewhere(
                f"worker {holder} is refitting trial {chosen_trial.number}; its test result "
                f"will be stored in the study (python -m regsearch.inspect --storage "
                f"{redact_url(config.storage)} --study {shlex.quote(study.study_name)}). If "
                "that worker has died, run this command with --refit-only."
            )
        try:
            return self._refit(completed, chosen_trial)
        except BaseException:
            drop_refit_claim(self.storage, study.study_name, chosen_trial.number)
            raise

    def _stored_refit(self, trial_number: int) -> tuple[RefitResult, RefitResult | None] | None:
        attrs = self.study.user_attrs
        stored = attrs.get("refit")
        if not stored or stored.get("trial_number") != trial_number:
            return None
        baseline = attrs.get("baseline_refit")
        return RefitResult(**stored), RefitResult(**baseline) if baseline else None

    def _refit(
        self, completed: list[FrozenTrial], chosen_trial: FrozenTrial
    ) -> tuple[RefitResult, RefitResult | None]:
        config, study, dataset, log = self.config, self.study, self.dataset, self.log
        study.set_user_attr(
            "selection",
            {
                "rule": config.select,
                "chosen_trial": chosen_trial.number,
                "best_trial": select(completed, "best").number,
                "one_se_trial": select(completed, "one-se").number,
            },
        )
        rule = "highest CV accuracy" if config.select == "best" else "one-standard-error rule"
        model_path = artifacts_dir(config.storage) / safe_file_stem(study.study_name)
        model_path.parent.mkdir(parents=True, exist_ok=True)  # ./studies for a server storage
        log(
            f"Refitting trial {chosen_trial.number} (chosen by the {rule}) on all "
            f"{len(dataset.y_train)} training examples for the median best epoch of its folds."
        )
        chosen = refit_and_test(
            self.trainer, dataset, chosen_trial, config.seed, save_to=model_path
        )
        baseline_trial = next((t for t in completed if t.user_attrs.get(BASELINE_ATTR)), None)
        baseline: RefitResult | None = None
        if baseline_trial is not None and baseline_trial.number == chosen_trial.number:
            baseline = chosen
        elif baseline_trial is not None:
            log(
                f"Refitting the unregularized baseline (trial {baseline_trial.number}) "
                "the same way."
            )
            baseline = refit_and_test(self.trainer, dataset, baseline_trial, config.seed)
        if baseline is not None:
            study.set_user_attr("baseline_refit", baseline.to_dict())
        study.set_user_attr("refit", chosen.to_dict())  # last: its presence means "done"
        return chosen, baseline


def _downloader(backend: Backend, log: Log) -> Callable[[Any], str]:
    def download(data_dir: Any) -> str:
        log(f"MNIST is not in {data_dir}; downloading it with the {backend.name} backend's loader.")
        where = backend.download_mnist(data_dir)
        log(where)
        return where

    return download


def _create_or_resume(
    config: StudyConfig,
    storage: optuna.storages.BaseStorage,
    records: dict[str, Any],
    backend: Backend,
    dataset: Dataset,
    sampler_seed: int,
) -> optuna.Study:
    sampler = optuna.samplers.TPESampler(seed=sampler_seed)
    pruner = make_pruner(config.pruner, config.folds)
    try:
        study = optuna.load_study(
            study_name=config.name, storage=storage, sampler=sampler, pruner=pruner
        )
    except KeyError:
        study = None
    if study is None:
        try:
            study = optuna.create_study(
                study_name=config.name,
                storage=storage,
                sampler=sampler,
                pruner=pruner,
                direction="maximize",
            )
        except optuna.exceptions.DuplicatedStudyError:  # another worker created it just now
            study = optuna.load_study(
                study_name=config.name, storage=storage, sampler=sampler, pruner=pruner
            )
        else:
            _record_new_study(study, records, backend, dataset)
            return study
    _check_same_study(study, records, config)
    return study


RECORDS_WAIT_S = 30.0
"""How long a worker waits for the records of a study another worker has just created."""


def _record_new_study(
    study: optuna.Study, records: dict[str, Any], backend: Backend, dataset: Dataset
) -> None:
    for key, value in records.items():
        study.set_user_attr(key, value)
    study.set_user_attr("dataset_summary", dataset.describe())
    study.set_user_attr("versions", _versions(backend))
    study.set_user_attr("metric", "mean_test_accuracy (mean validation accuracy over the folds)")
    # The unregularized baseline answers "did regularization help at all?". It samples no
    # parameters, so the penalty categorical keeps the same choices in every trial and the
    # sampler never proposes "none" again.
    study.enqueue_trial({}, user_attrs={BASELINE_ATTR: True})


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _check_same_study(study: optuna.Study, records: dict[str, Any], config: StudyConfig) -> None:
    # The creator writes the records right after creating the study: wait for them.
    deadline = time.monotonic() + RECORDS_WAIT_S
    while any(key not in study.user_attrs for key in records) and time.monotonic() < deadline:
        time.sleep(0.2)
    stored = _flatten({k: study.user_attrs.get(k) for k in records})
    wanted = _flatten(records)
    differences = [
        f"{key}: stored {stored.get(key)!r}, now {value!r}"
        for key, value in wanted.items()
        if stored.get(key) != value
    ]
    if differences:
        raise StudyMismatch(
            f"study {study.study_name!r} in {redact_url(config.storage)} was created with other "
            f"settings, so its trials are not comparable with this run's: "
            f"{'; '.join(differences)}. Rerun with the original settings to resume it, or start "
            f"a new study with --study-name {study.study_name}-2."
        )


def _versions(backend: Backend) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("regsearch", "optuna", "scikit-learn", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    versions.update(backend.versions())
    return versions
