"""Score one sampled configuration by k-fold cross-validation and record every fold.

Records use scikit-learn's ``cv_results_`` key names as trial user attributes (as
optuna-integration's ``OptunaSearchCV`` does), so optuna-dashboard and pandas read them directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna

from regsearch.metrics import accuracy, cross_entropy
from regsearch.penalty import Penalty, suggest_penalty, weight_stats
from regsearch.storage import worker_id

if TYPE_CHECKING:
    from regsearch.backends import Fit, Trainer
    from regsearch.config import SearchSpace, TrainSettings
    from regsearch.folds import Fold

BASELINE_ATTR = "baseline"
"""User attribute marking the study's enqueued unregularized baseline trial."""
REASON_ATTR = "state_reason"
"""User attribute holding why a trial was pruned (divergence or the pruner)."""

FoldCallback = Callable[[int, int, Penalty, "Fit"], None]
"""``(trial number, fold index, penalty, fit)``, called after each fold's training."""


def derive_seed(*keys: int) -> int:
    """A 31-bit seed from ``keys`` (e.g. study seed and fold index) via NumPy's SeedSequence."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0] >> 1)


def fold_seed(study_seed: int, fold: int) -> int:
    """Seed of fold ``fold``'s initial weights and batch order.

    It depends on the study seed and the fold only, not on the trial: every trial's fold ``i``
    starts from the same weights and sees batches in the same order (common random numbers), so
    differences between configurations are not initialisation noise, and a rerun of the same
    configuration reproduces the same fold scores.
    """
    return derive_seed(study_seed, 0, fold)


def penalty_of(trial: optuna.trial.FrozenTrial) -> Penalty:
    """The penalty a finished trial used (the baseline's is ``Penalty()``)."""
    return Penalty(l1=float(trial.params.get("l1", 0.0)), l2=float(trial.params.get("l2", 0.0)))


class CrossValidationObjective:
    """``trial -> penalty -> train each fold -> record -> mean validation accuracy``.

    A non-finite loss prunes the trial with the reason in ``state_reason``: pruned trials are
    ranked below finished ones by Optuna's TPE sampler, so it learns to avoid the region, while
    a failed trial would be ignored by it (and an exception would end ``study.optimize``).
    """

    def __init__(
        self,
        trainer: Trainer,
        x: np.ndarray,
        y: np.ndarray,
        folds: list[Fold],
        space: SearchSpace,
        settings: TrainSettings,
        seed: int,
        report_each_fold: bool = False,
        on_fold: FoldCallback | None = None,
        fold_parallel: bool = False,
    ):
        self.report_each_fold = report_each_fold
        self.fold_parallel = fold_parallel
        self.on_fold = on_fold
        self.trainer = trainer
        self.x = x
        self.y = y
        self.folds = folds
        self.space = space
        self.settings = settings
        self.seed = seed

    def _train_folds_at_once(self, folds: list[int], penalty: Penalty) -> dict[int, Fit]:
        """With ``fold_parallel`` (no pruning between folds, a trainer with ``fit_folds``),
        train ``folds`` as one batched computation; else nothing here (one by one later)."""
        fit_folds = getattr(self.trainer, "fit_folds", None)
        if not self.fold_parallel or fit_folds is None or len(folds) < 2:
            return {}
        seeds = [fold_seed(self.seed, i) for i in folds]
        fits = fit_folds([self.folds[i] for i in folds], penalty, self.settings.epochs, seeds)
        return dict(zip(folds, fits, strict=True))

    def _folds_of_killed_trial(self, trial: optuna.Trial) -> list[int]:
        """The folds a killed trial had finished, when ``trial`` is its retry.

        Optuna's retry of a stale trial (``RetryFailedTrialCallback``) copies its user
        attributes, the fold records included, and names it in ``system_attrs``; those folds
        need no training again, so a crash costs at most the fold in progress (with folds
        trained at once, all of the trial's folds are in progress together). They are recorded
        in ``reused_folds``.
        """
        frozen = trial.study.get_trials(deepcopy=False)[trial.number]
        # The key RetryFailedTrialCallback writes (its reader is flagged experimental).
        if frozen.system_attrs.get("failed_trial") is None:
            return []
        folds = [
            i
            for i in range(len(self.folds))
            if all(f"split{i}_{key}" in frozen.user_attrs for key in ("test_accuracy", "fit_time"))
        ]
        trial.set_user_attr("reused_folds", folds)
        return folds

    def __call__(self, trial: optuna.Trial) -> float:
        is_baseline = bool(trial.user_attrs.get(BASELINE_ATTR))
        penalty = Penalty() if is_baseline else suggest_penalty(trial, self.space)
        trial.set_user_attr("penalty", penalty.kind)
        trial.set_user_attr("worker", worker_id())  # host:pid, to tell workers apart
        scores: list[float] = []
        fit_times: list[float] = []
        reusable = self._folds_of_killed_trial(trial)
        batched = self._train_folds_at_once(
            [i for i in range(len(self.folds)) if i not in reusable], penalty
        )
        for i, (train_idx, val_idx) in enumerate(self.folds):
            if i in reusable:
                # Finished by the killed trial this one retries: the same configuration, fold
                # and seed train the same model, so its stored record stands.
                scores.append(float(trial.user_attrs[f"split{i}_test_accuracy"]))
                fit_times.append(float(trial.user_attrs.get(f"split{i}_fit_time", 0.0)))
                trial.report(scores[-1] if self.report_each_fold else float(np.mean(scores)), i)
                continue
            fit = batched.get(i) or self.trainer.fit(
                train_idx, val_idx, penalty, self.settings.epochs, fold_seed(self.seed, i)
            )
            if self.on_fold is not None:
                self.on_fold(trial.number, i, penalty, fit)
            if fit.diverged is not None:
                self.trainer.release()
                reason = (
                    f"diverged in fold {i}: {fit.diverged} with penalty {penalty.describe()} "
                    f"and lr {self.settings.lr:g}"
                )
                trial.set_user_attr(REASON_ATTR, reason)
                raise optuna.TrialPruned(reason)
            logits = self.trainer.predict_logits(fit.model, self.x[val_idx])
            stats = weight_stats(self.trainer.kernels(fit.model))
            self.trainer.release()
            y_val = self.y[val_idx]
            score = accuracy(logits, y_val)
            record: dict[str, Any] = {
                f"split{i}_test_accuracy": score,
                f"split{i}_test_loss": cross_entropy(logits, y_val),
                f"split{i}_best_epoch": fit.best_epoch,
                f"split{i}_fit_time": fit.fit_time,
                f"split{i}_history": fit.history,
                f"split{i}_weight_l1": stats.l1_norm,
                f"split{i}_weight_l2": stats.l2_norm,
                f"split{i}_weight_sparsity": stats.sparsity,
            }
            for key, value in record.items():
                trial.set_user_attr(key, value)
            scores.append(score)
            fit_times.append(fit.fit_time)
            trial.report(score if self.report_each_fold else float(np.mean(scores)), step=i)
            if i + 1 < len(self.folds) and trial.should_prune():
                reason = (
                    f"pruned after fold {i}: acc {np.mean(scores):.4f} on "
                    f"{i + 1} of {len(self.folds)} folds, worse than the other trials there"
                )
                trial.set_user_attr(REASON_ATTR, reason)
                raise optuna.TrialPruned(reason)
        summary = {
            "mean_test_accuracy": float(np.mean(scores)),
            "std_test_accuracy": float(np.std(scores)),
            "mean_fit_time": float(np.mean(fit_times)),
            "std_fit_time": float(np.std(fit_times)),
        }
        for key, value in summary.items():
            trial.set_user_attr(key, value)
        return summary["mean_test_accuracy"]
