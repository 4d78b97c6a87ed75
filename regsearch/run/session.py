"""A study opened on its storage, ready to run trials: the data, the folds, the trainer, and the
loop that runs trials until the study has enough, safely beside other workers."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from regsearch import interrupt, records
from regsearch.backends import Backend, Trainer, get_backend
from regsearch.config import StudyConfig, default_data_dir
from regsearch.cv.folds import Fold, Splits, folds_fingerprint, make_folds
from regsearch.cv.objective import CrossValidationObjective
from regsearch.cv.population import Population
from regsearch.cv.pruning import PruningPolicy
from regsearch.data import Dataset, load_dataset
from regsearch.data.scaling import describe_scaling, resolve_scaling
from regsearch.errors import ConfigError, SurplusTrial, param
from regsearch.models import model_factory
from regsearch.observe import Observer, Observers
from regsearch.run.claims import claim_sampler_stream
from regsearch.run.provenance import create_or_resume, queue_baseline
from regsearch.run.storage import check_storage_url, fail_stale_trials, open_storage
from regsearch.run.training_plan import (
    auto_pruner,
    how_folds_train,
    how_trials_train,
    why_pruner,
    with_epoch_cap,
)
from regsearch.seeds import sampler_seed
from regsearch.threads import default_threads, describe_waiting

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
"""Trial states that count towards ``trials``; failed trials are retried instead."""

Log = Callable[[str], None]


def silent(message: str) -> None:
    """A :data:`Log` that says nothing."""


@dataclass
class StudySession:
    """An opened (created or verified) study with its data and folds, ready to run trials.

    :func:`regsearch.run_study` is ``open``, ``optimize`` (in this process or in worker
    processes), then :func:`regsearch.run.refit_once.refit_once`.
    """

    config: StudyConfig
    backend: Backend
    trainer: Trainer
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
        log: Log = silent,
        splits: Splits | None = None,
    ) -> StudySession:
        """Check the storage URL, load the data, compute the folds, import the backend, build
        and check the model (a trainer), then create the study or verify the stored one.

        ``splits`` replaces the stratified k-fold splits of ``config.folds`` by a
        scikit-learn splitter's (``config.folds`` must be their number, ``repeats`` 1); the
        splitter's description and validation-to-training ratio are stored with the study.

        Each process that runs trials takes its own sampler stream
        (:func:`regsearch.run.claims.claim_sampler_stream`) when it starts to run them.
        """
        # The storage URL, the data and the folds are checked first: importing a framework
        # takes seconds, and refusing them needs none.
        check_storage_url(config.storage)
        # Data passed in (arrays, an estimator's X) are named by the dataset, not by
        # config.dataset, whose default ("mnist") says nothing about them.
        label = dataset.name if dataset is not None else None
        if dataset is None:
            dataset = load_study_data(config, backend, log)
        log(f"Data: {dataset.describe()}.")
        scaling, why = resolve_scaling(config.scale, dataset)
        log(describe_scaling(scaling, why))
        if splits is None:
            folds = make_folds(dataset.y_train, config.folds, config.seed, config.repeats)
        else:
            folds = splits.folds
            log(f"Splits: {splits.description}.")
        config = with_epoch_cap(config, folds, log)
        if backend is None:
            backend = get_backend(config.backend)
        threads = config.threads or default_threads(config.workers)
        log(f"Threads: {backend.use_threads(threads)}{describe_waiting(backend.name)}.")
        model = model_factory(config.model, backend.name, config.train.hidden)
        trainer = backend.trainer(
            dataset.x_train,
            dataset.y_train,
            dataset.n_classes,
            config.train,
            model,
            config.device,
            scaling=scaling,
        )
        for line in trainer.model_summary.describe():
            log(line)
        if config.space.decays:
            log(
                "Decayed (weight_decay, before each Adam step, as AdamW): the penalized tensors "
                "above, and nothing else."
            )
        log(f"Device: {trainer.device}.")
        if config.pruner == "auto":
            config = dataclasses.replace(config, pruner=auto_pruner(trainer))
            log(why_pruner(config.pruner))
        if config.pruner == "epochs" and trainer.fold_parallel is None:
            raise ConfigError(
                f"{param('pruner')} epochs judges a trial between the epochs of its folds "
                f"trained at once, but here {trainer.fold_parallel_reason}. Use "
                f"{param('pruner')} median (judged between folds) or none."
            )
        how = how_folds_train(trainer, config)
        log(f"{how[0].upper()}{how[1:]}.")
        if config.trial_batch > 1:
            log(how_trials_train(trainer, config))
        identity: dict[str, Any] = {
            records.CONFIG: {**config.identity(), "scale": scaling, **_named(label)},
            records.DATASET_FINGERPRINT: dataset.fingerprint(),
            records.FOLDS_FINGERPRINT: folds_fingerprint(folds),
            records.MODEL: trainer.model_summary.identity(),
        }
        if splits is not None:
            identity[records.SPLITTER] = splits.record()
        storage = open_storage(config.storage, config.heartbeat_interval, config.grace_period)
        # The sampler's seed is set when this process first runs trials (see optimize).
        sampler = optuna.samplers.TPESampler(seed=config.seed)
        pruner = PruningPolicy(config.pruner, config.n_splits, config.train.epochs).pruner()
        study = create_or_resume(
            config, storage, identity, backend, dataset, trainer.model_summary, sampler, pruner
        )
        session = cls(config, backend, trainer, dataset, folds, study, log, storage)
        session.sweep_stale_trials()
        return session

    def finished_trials(self) -> int:
        return len(self.study.get_trials(deepcopy=False, states=FINISHED))

    def optimize(self, observer: Observer | None = None) -> int:
        """Run trials until the study has ``config.trials`` finished ones; returns how many
        trials this call ran. Safe to call from several processes at once.

        ``observer`` hears of every fold and every finished trial."""
        config, study = self.config, self.study
        observer = observer or Observers()
        finished = self.finished_trials()
        if finished:
            self.log(f"Resuming: {finished} of {config.trials} trials are already finished.")
        if config.trials - finished <= 0:
            return 0
        stream = claim_sampler_stream(self.storage, study.study_name)
        population = self.population()
        # With trials sampled together, each is sampled as if the running ones had scored
        # their worst (Optuna's constant liar), so a batch spreads out instead of repeating.
        study.sampler = optuna.samplers.TPESampler(
            seed=sampler_seed(config.seed, stream), constant_liar=population is not None
        )
        objective = CrossValidationObjective(
            self.trainer,
            self.dataset,
            self.folds,
            config,
            PruningPolicy(config.pruner, config.n_splits, config.train.epochs),
            observer,
            population,
        )
        ran: list[int] = []
        callbacks: list[Callable[[optuna.Study, FrozenTrial], None]] = [
            # Running trials count too, so that several workers do not overshoot the target.
            optuna.study.MaxTrialsCallback(config.trials, states=(*FINISHED, TrialState.RUNNING)),
            lambda _study, trial: ran.append(trial.number),
            observer.on_trial,
        ]
        waiting_said = False
        # The time budget counts from here: a resume gets it anew.
        deadline = None if config.timeout is None else time.monotonic() + config.timeout
        if config.timeout_hard:
            objective.deadline = deadline
        while (missing := config.trials - self.finished_trials()) > 0:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self.log(
                    f"The time budget of {config.timeout:g} s is spent: no new trial starts "
                    f"({config.trials - missing} of {config.trials} trials finished)."
                )
                break
            self.ensure_baseline()
            running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
            if running < missing:
                batch = missing - running
                if population is not None:
                    # A population waits for the trials it expects, so under a budget it runs
                    # one batch per call (the budget then checked above) and no timeout that
                    # would stop Optuna starting a member it waits for.
                    if remaining is not None:
                        batch, remaining = min(batch, population.capacity), None
                    population.expect(batch)
                study.optimize(
                    self._unless_surplus(objective),
                    n_trials=batch,
                    # Optuna starts no trial once it has run this long; running ones finish.
                    timeout=remaining,
                    n_jobs=1 if population is None else population.capacity,
                    callbacks=callbacks,
                    gc_after_trial=True,
                    catch=(SurplusTrial,),
                )
                self.sweep_stale_trials()
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
            self.sweep_stale_trials()
        return len(ran)

    def population(self) -> Population | None:
        """Where ``trial_batch`` trials can train as one population: its gatherer."""
        parallel = self.trainer.fold_parallel
        if self.config.trial_batch == 1 or parallel is None:
            return None
        return Population(parallel, self.config.trial_batch, self.config.train.epochs)

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
                records.set_reason(trial, reason)
                raise SurplusTrial(reason)
            return objective(trial)

        return guarded

    @staticmethod
    def _wait(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            interrupt.check()
            time.sleep(0.2)

    def sweep_stale_trials(self) -> None:
        stale = fail_stale_trials(self.study)
        if stale:
            self.log(
                f"Trial(s) {', '.join(map(str, stale))} were left running by a worker that "
                f"stopped sending heartbeats {self.config.grace_period} s ago: marked failed, "
                "and each configuration is queued once more."
            )

    def ensure_baseline(self) -> None:
        """Queue the unregularized baseline again when the study has none finished, running
        or waiting: a Ctrl-C during it (its trial failed) must not lose it for good. (A
        killed worker's baseline is already queued again by Optuna's retry of stale trials.)
        Workers that queue one at the same moment run only the first; see
        :class:`~regsearch.cv.objective.CrossValidationObjective`."""
        alive = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
        trials = self.study.get_trials(deepcopy=False, states=alive)
        if not any(records.is_baseline(t) for t in trials):
            self.log("The baseline (no penalty) has not finished: queued again.")
            queue_baseline(self.study)

    def complete_trials(self) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def _named(label: str | None) -> dict[str, str]:
    return {} if label is None else {"dataset": label}


def load_study_data(config: StudyConfig, backend: Backend | None, log: Log = silent) -> Dataset:
    """``config``'s dataset (a stratified sample of ``config.train_size`` of its training
    examples, where set); MNIST is downloaded with the backend's loader where missing."""
    dataset = load_dataset(
        config.dataset,
        config.data_dir,
        download=_downloader(lambda: backend or get_backend(config.backend), log),
        create=config.data_dir == default_data_dir(),
        target=config.target,
        test_data=config.test_data,
        test_size=config.test_size,
        seed=config.seed,
    )
    if config.train_size is not None:
        dataset = dataset.training_sample(config.train_size, config.seed)
    return dataset


def _downloader(backend_of: Callable[[], Backend], log: Log) -> Callable[[Any], str]:
    """A downloader that imports the backend only when MNIST is missing."""

    def download(data_dir: Any) -> str:
        backend = backend_of()
        log(f"MNIST is not there; downloading it with the {backend.name} backend's loader.")
        where = backend.download_mnist(data_dir)
        log(where)
        return where

    return download
