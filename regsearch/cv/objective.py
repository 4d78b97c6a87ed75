"""Score one sampled configuration by k-fold cross-validation and record every fold.

What is stored, and under which keys, is :mod:`regsearch.records`' business; the folds' order
of training (one at a time, or all at once), reporting and pruning follow the study's
:class:`~regsearch.cv.pruning.PruningPolicy`.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import TYPE_CHECKING

import numpy as np
import optuna
from optuna.trial import TrialState

from regsearch import records
from regsearch.backends.base import Job
from regsearch.cv.sampling import suggest_configuration
from regsearch.errors import SurplusTrial
from regsearch.metrics import accuracy, cross_entropy
from regsearch.penalty import Penalty, weight_stats
from regsearch.seeds import fold_seed

if TYPE_CHECKING:
    from regsearch.backends import Fit, Trainer
    from regsearch.backends.base import EpochHook, EpochLogs
    from regsearch.config import StudyConfig
    from regsearch.cv.folds import Fold
    from regsearch.cv.population import Population
    from regsearch.cv.pruning import PruningPolicy
    from regsearch.data import Dataset
    from regsearch.observe import Observer


class CrossValidationObjective:
    """``trial -> penalty -> train each fold -> record -> mean validation accuracy``.

    A non-finite loss prunes the trial with the reason in ``state_reason``: pruned trials are
    ranked below finished ones by Optuna's TPE sampler, so it learns to avoid the region, while
    a failed trial would be ignored by it (and an exception would end ``study.optimize``).
    """

    def __init__(
        self,
        trainer: Trainer,
        dataset: Dataset,
        folds: list[Fold],
        config: StudyConfig,
        policy: PruningPolicy,
        observer: Observer | None = None,
        population: Population | None = None,
    ):
        self.population = population
        self.trainer = trainer
        self.dataset = dataset
        self.folds = folds
        self.config = config
        self.policy = policy
        self.observer = observer
        self.deadline: float | None = None
        """``time.monotonic()`` after which a running trial stops at its next epoch
        (``timeout_hard``), pruned with the reason; ``None``: trials run to their end."""

    def __call__(self, trial: optuna.Trial) -> float:
        if self.population is None:
            return self._scored(trial)
        with self.population.member():
            return self._scored(trial)

    def _scored(self, trial: optuna.Trial) -> float:
        self._where = "before its first fold"  # what was in progress, for a failure's reason
        try:
            return self._score(trial)
        except (optuna.TrialPruned, SurplusTrial):
            raise
        except KeyboardInterrupt:
            self._record_failure(trial, "interrupted (Ctrl-C or SIGTERM)")
            raise
        except Exception as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            self._record_failure(trial, f"failed with {type(exc).__name__}: {text}")
            raise

    def _score(self, trial: optuna.Trial) -> float:
        if records.is_baseline(trial):
            self._refuse_second_baseline(trial)
        space, train = self.config.space, self.config.train
        penalty, lr = suggest_configuration(trial, space, records.is_baseline(trial))
        trial.set_user_attr(records.PENALTY, penalty.kind)
        records.set_attr(trial, records.WORKER, records.worker_id())
        records.set_attr(trial, records.DEVICE, self.trainer.device)
        scores: list[float] = []
        fit_times: list[float] = []
        k = len(self.folds)
        reusable = self._folds_of_killed_trial(trial)
        batched = self._train_folds_at_once(
            trial, [i for i in range(k) if i not in reusable], penalty, lr
        )
        for i, (train_idx, val_idx) in enumerate(self.folds):
            self._where = f"in fold {i}"
            if i in reusable:
                # Finished by the killed trial this one retries: the same configuration, fold
                # and seed train the same model, so its stored record stands.
                done = records.attrs(trial)
                scores.append(float(records.fold_value(done, i, "test_accuracy")))
                fit_times.append(float(records.fold_value(done, i, "fit_time") or 0))
                if self.policy.judges_folds:
                    trial.report(self.policy.reported(scores), i)
                continue
            fit = batched.get(i) or self.trainer.fit(
                train_idx,
                val_idx,
                penalty,
                train.epochs,
                fold_seed(self.config.seed, i),
                on_epoch=self._epoch_hook(trial, i),
                on_epoch_end=self._epoch_logs(trial.number, [i], penalty),
                lr=lr,
            )
            if self.observer is not None:
                self.observer.on_fold(trial.number, i, penalty, fit)
            if fit.diverged is not None:
                self._prune(
                    trial,
                    f"diverged in fold {i}: {fit.diverged} with penalty {penalty.describe()} "
                    f"and lr {train.lr if lr is None else lr:g}",
                )
            score, fit_time = self._record_fold(trial, i, fit, val_idx)
            scores.append(score)
            fit_times.append(fit_time)
            if not self.policy.judges_folds:
                continue
            trial.report(self.policy.reported(scores), step=i)
            if i + 1 < k and trial.should_prune():
                self._prune(
                    trial,
                    f"pruned after fold {i} ({i + 1} of {k} folds) by the {self.policy.name} "
                    f"pruner; partial mean {np.mean(scores):.4f} over {i + 1} "
                    f"fold{'s' if i else ''}, not comparable with complete {k}-fold means",
                )
        summary = {
            records.MEAN_SCORE: float(np.mean(scores)),
            records.STD_SCORE: float(np.std(scores)),
            records.MEAN_FIT_TIME: float(np.mean(fit_times)),
            records.STD_FIT_TIME: float(np.std(fit_times)),
        }
        for key, value in summary.items():
            records.set_attr(trial, key, value)
        return summary[records.MEAN_SCORE]

    def _epoch_logs(
        self, trial_number: int, folds: list[int], penalty: Penalty
    ) -> EpochLogs | None:
        """The backend's epoch logs of job ``j`` as those of fold ``folds[j]``."""
        observer = self.observer
        if observer is None:
            return None
        return lambda job, epoch, logs: observer.on_epoch_end(
            trial_number, folds[job], epoch, penalty, logs
        )

    def _epoch_hook(self, trial: optuna.Trial, fold: int | None) -> EpochHook | None:
        """Called as each epoch starts: the time budget's check (``deadline``), then the
        observer's ``on_epoch``."""
        observer, epochs, deadline = self.observer, self.config.train.epochs, self.deadline
        if observer is None and deadline is None:
            return None

        def hook(epoch: int) -> None:
            if deadline is not None and time.monotonic() > deadline:
                trial.study.stop()  # and start no other trial in this optimize call
                self._prune(
                    trial,
                    f"stopped before epoch {epoch} {self._where}: the time budget of "
                    f"{self.config.timeout:g} s was spent (timeout_hard)",
                )
            if observer is not None:
                observer.on_epoch(trial.number, fold, epoch, epochs)

        return hook

    def _record_failure(self, trial: optuna.Trial, what: str) -> None:
        # The storage may be what failed: the reason is a courtesy, the error is what counts.
        with contextlib.suppress(Exception):
            records.set_reason(trial, f"{what} {self._where}")

    @staticmethod
    def _refuse_second_baseline(trial: optuna.Trial) -> None:
        """A baseline is queued again when the study has none alive (see
        :meth:`regsearch.run.session.StudySession.ensure_baseline`); workers doing that at the
        same moment queue two, and the later one is not run, so it is never counted twice."""
        alive = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
        earlier = [
            t.number
            for t in trial.study.get_trials(deepcopy=False, states=alive)
            if records.is_baseline(t) and t.number != trial.number
        ]
        if earlier:
            reason = f"not run: trial {earlier[0]} is the study's baseline already"
            records.set_reason(trial, reason)
            raise SurplusTrial(reason)

    def _record_fold(
        self, trial: optuna.Trial, i: int, fit: Fit, val_idx: np.ndarray
    ) -> tuple[float, float]:
        """Score fold ``i``'s model on its validation rows and store the fold's record;
        returns ``(accuracy, fit time)``."""
        logits = self.trainer.predict_logits(fit.model, self.dataset.x_train[val_idx])
        stats = weight_stats(self.trainer.kernels(fit.model))
        y_val = self.dataset.y_train[val_idx]
        score = accuracy(logits, y_val)
        records.write_fold(
            trial,
            i,
            {
                "test_accuracy": score,
                "test_loss": cross_entropy(logits, y_val),
                "best_epoch": fit.best_epoch,
                "fit_time": fit.fit_time,
                "history": fit.history,
                "weight_l1": stats.l1_norm,
                "weight_l2": stats.l2_norm,
                "weight_sparsity": stats.sparsity,
            },
        )
        return score, fit.fit_time

    @staticmethod
    def _prune(trial: optuna.Trial, reason: str) -> None:
        records.set_reason(trial, reason)
        raise optuna.TrialPruned(reason)

    def _train_folds_at_once(
        self, trial: optuna.Trial, folds: list[int], penalty: Penalty, lr: float | None
    ) -> dict[int, Fit]:
        """Train ``folds`` as one batched computation where the policy allows it (nothing is
        pruned between folds) and the trainer can, together with the other trials of its
        population if there is one; else nothing here (one by one later). With the
        ``epochs`` pruner, the trial is judged after each epoch and pruned here."""
        batched = self.trainer.fold_parallel
        if batched is None or not self.policy.folds_at_once or not folds:
            return {}
        if self.population is None and len(folds) < 2:
            return {}
        self._where = "while training its folds at once"
        jobs = [
            Job(*self.folds[i], penalty=penalty, seed=fold_seed(self.config.seed, i), lr=lr)
            for i in folds
        ]
        hook = self._epoch_hook(trial, None)
        judge = EpochJudge(trial, self.config.train.epochs) if self.policy.judges_epochs else None
        if self.population is not None:
            self._where = "while training its folds with other trials' at once"
            fits = self.population.fit(jobs, hook, judge)
        else:
            judges = None if judge is None else {0: judge}
            logs = self._epoch_logs(trial.number, folds, penalty)
            fits = batched.fit_many(jobs, self.config.train.epochs, hook, judges, logs)
        # A diverged fold is the better reason: the loop below prunes at it.
        diverged = any(fit.diverged is not None for fit in fits)
        if judge is not None and judge.stopped_at is not None and not diverged:
            self._prune(trial, judge.reason(len(folds)))
        return dict(zip(folds, fits, strict=True))

    def _folds_of_killed_trial(self, trial: optuna.Trial) -> list[int]:
        """The folds a killed trial had finished, when ``trial`` is its retry.

        Optuna's retry of a stale trial (``RetryFailedTrialCallback``) copies its user
        attributes (the fold scores) and names it in ``system_attrs``; the folds' details
        (system attributes, see :mod:`regsearch.records`) are copied here from the killed
        trial. Those folds need no training again, so a crash costs at most the fold in
        progress (with folds trained at once, all of the trial's folds are in progress
        together). They are recorded in ``reused_folds``.
        """
        trials = trial.study.get_trials(deepcopy=False)
        killed = records.retry_of(trials[trial.number])
        if killed is None:
            return []
        for key, value in records.attrs(trials[killed]).items():
            if records.is_detail(key) and key.startswith("split"):
                records.set_attr(trial, key, value)
        done = records.attrs(trial)
        folds = [i for i in range(len(self.folds)) if records.has_fold(done, i)]
        records.set_attr(trial, records.REUSED_FOLDS, folds)
        return folds


class EpochJudge:
    """The ``epochs`` pruner's view of one trial whose folds train at once: after each epoch
    it reports the mean of the folds' scores if training ended there (``step=epoch``) and
    asks Optuna's pruner whether to go on (never after the last epoch, which ends anyway)."""

    def __init__(self, trial: optuna.Trial, epochs: int):
        self.trial = trial
        self.epochs = epochs
        self.stopped_at: int | None = None
        self.mean = math.nan

    def __call__(self, epoch: int, scores: list[float]) -> bool:
        self.mean = float(np.mean(scores))
        if not math.isfinite(self.mean):
            return False  # a diverged fold prunes the trial by itself
        self.trial.report(self.mean, step=epoch)
        if epoch < self.epochs and self.trial.should_prune():
            self.stopped_at = epoch
            return True
        return False

    def reason(self, n_folds: int) -> str:
        return (
            f"pruned after epoch {self.stopped_at} of {self.epochs} by the epochs pruner: "
            f"the mean score of its {n_folds} folds, {self.mean:.4f}, is below the finished "
            "trials' median at that epoch"
        )
