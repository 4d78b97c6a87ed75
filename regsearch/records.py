"""The stored study's schema: every key regsearch writes into Optuna's storage, and how to read
it back. Nothing else spells a key.

Trials, with scikit-learn ``cv_results_`` names as optuna-integration's ``OptunaSearchCV``
stores them (``test`` is a split's validation part, as in scikit-learn). Split ``i`` is fold
``i % k`` of repetition ``i // k``.

- User attributes, what optuna-dashboard and ``optuna trials`` show: the scores
  ``split{i}_test_accuracy``, ``mean_test_accuracy``, ``std_test_accuracy``, and ``penalty``,
  ``baseline``, ``state_reason``.
- System attributes (:func:`is_detail`), kept out of those views (each fold's per-epoch history
  made a dashboard trial page 5,000 pixels wide and an ``optuna trials`` line thousands of
  characters long): ``split{i}_test_loss``, ``split{i}_best_epoch``, ``split{i}_fit_time``,
  ``split{i}_history``, ``split{i}_weight_l1``, ``split{i}_weight_l2``,
  ``split{i}_weight_sparsity``, ``mean_fit_time``, ``std_fit_time``, ``worker``, ``device``,
  ``reused_folds``. :func:`attrs` reads both (and studies stored before the split, which kept
  everything in user attributes).

Studies (user attributes): ``answer``, ``config``, ``dataset_fingerprint``, ``folds_fingerprint``,
``dataset_summary``, ``classes``, ``versions``, ``metric``, ``selection``, ``refit``,
``baseline_refit``, ``nested``, ``splitter``.
"""

from __future__ import annotations

import math
import os
import socket
from typing import TYPE_CHECKING, Any

from regsearch.errors import RecordError
from regsearch.penalty import STRENGTHS, Penalty

if TYPE_CHECKING:
    from collections.abc import Sequence

    import optuna
    from optuna.trial import FrozenTrial

# Trial keys.
BASELINE = "baseline"
"""Marks the study's enqueued unregularized baseline trial."""
PENALTY = "penalty"
"""The penalty type the trial trained with: ``none``, ``l1``, ``l2`` or ``l1_l2``."""
REASON = "state_reason"
"""Why a trial was pruned or failed (divergence, the pruner, a surplus trial)."""
WORKER = "worker"
DEVICE = "device"
"""Where the trial's models trained, e.g. ``cpu`` or ``cuda:0 (NVIDIA H100 80GB HBM3)``."""
"""``host:pid`` of the process that ran the trial."""
REUSED_FOLDS = "reused_folds"
"""Folds a retry took over from the killed trial it repeats."""
MEAN_SCORE = "mean_test_accuracy"
STD_SCORE = "std_test_accuracy"
MEAN_FIT_TIME = "mean_fit_time"
STD_FIT_TIME = "std_fit_time"
RETRY_OF = "failed_trial"
"""System attribute Optuna's ``RetryFailedTrialCallback`` writes on a retry (its reader is
flagged experimental, so regsearch reads the key)."""

FOLD_FIELDS = (
    "test_accuracy",
    "test_loss",
    "best_epoch",
    "fit_time",
    "history",
    "weight_l1",
    "weight_l2",
    "weight_sparsity",
)
"""What is recorded of every fold, as ``split{i}_<field>``."""

# Study keys.
ANSWER = "answer"
"""The study's answer in one line (the chosen configuration, its CV and test scores beside the
baseline's, the verdict), written first when the study is created so that optuna-dashboard
lists it first among the study's attributes, and filled in after the refit."""
NO_ANSWER = "not yet: the study has no refit (run the study command until it finishes)."
CONFIG = "config"
DATASET_FINGERPRINT = "dataset_fingerprint"
FOLDS_FINGERPRINT = "folds_fingerprint"
DATASET_SUMMARY = "dataset_summary"
CLASSES = "classes"
"""The data file's labels, ``classes[i]`` for class ``i`` (what a saved model's output ``i``
means)."""
MODEL = "model"
"""The model's identity, compared on resume: ``{fingerprint, trainable_parameters}``."""
MODEL_SUMMARY = "model_summary"
"""What the model is: ``{spec, framework, input_shape, outputs, penalized, not_penalized}``,
the weights as ``[name, shape]`` pairs."""
VERSIONS = "versions"
METRIC = "metric"
METRIC_TEXT = "mean_test_accuracy (mean validation accuracy over the folds)"
METRIC_NAME = "CV accuracy"
"""The objective's name (Optuna's ``set_metric_names``; optuna-dashboard labels it so, not
"Objective 0"): the mean validation accuracy over the study's splits."""
SELECTION = "selection"
"""``{rule, chosen_trial, best_trial, one_se_trial}``."""
REFIT = "refit"
"""The chosen configuration's refit and test; written last, so its presence means "done"."""
BASELINE_REFIT = "baseline_refit"
COMPARISON = "comparison"
"""The answer as data (:meth:`regsearch.cv.comparison.Comparison.record`): the verdict, the
difference, its interval and probabilities, which trials; ``None`` where there was nothing to
compare. Written after the refit."""
SPLITTER = "splitter"
"""A study scored on a scikit-learn splitter's splits instead of stratified k-fold:
``{splitter, test_to_train}`` (its ``repr``, and the mean ratio of validation to training rows
per split)."""
NESTED = "nested"
"""Nested cross-validation's outcome, written into the main study once its inner studies and
its own refit are done (see :mod:`regsearch.run.nested`)."""


def name_metric(study: optuna.Study) -> None:
    """Name the objective :data:`METRIC_NAME` (once; Optuna's ExperimentalWarning for
    ``set_metric_names``, a documented API, is held back: a user cannot act on it)."""
    import warnings

    import optuna

    if study.metric_names != [METRIC_NAME]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([METRIC_NAME])


def fold_key(fold: int, field: str) -> str:
    """``split{fold}_{field}``, scikit-learn's name of a per-split result."""
    return f"split{fold}_{field}"


SCORE_FIELD = "test_accuracy"
"""The one fold field stored as a user attribute; the others are details (:func:`is_detail`)."""


def is_detail(key: str) -> bool:
    """Whether ``key`` is stored as a system attribute (see the module)."""
    if key in (MEAN_FIT_TIME, STD_FIT_TIME, WORKER, DEVICE, REUSED_FOLDS):
        return True
    return key.startswith("split") and not key.endswith(f"_{SCORE_FIELD}")


def set_attr(trial: optuna.Trial, key: str, value: Any) -> None:
    """Store ``key`` where it belongs: a user attribute, or a system attribute for the
    details (through the storage; Optuna's ``Trial.set_system_attr`` is gone)."""
    if is_detail(key):
        trial.storage.set_trial_system_attr(trial._trial_id, key, value)
    else:
        trial.set_user_attr(key, value)


def attrs(trial: FrozenTrial | optuna.Trial) -> dict[str, Any]:
    """A trial's regsearch records, user and system attributes together."""
    from optuna.trial import FrozenTrial

    frozen = trial if isinstance(trial, FrozenTrial) else trial.storage.get_trial(trial._trial_id)
    details = {k: v for k, v in frozen.system_attrs.items() if is_detail(k)}
    return {**details, **frozen.user_attrs}


def write_fold(trial: optuna.Trial, fold: int, record: dict[str, Any]) -> None:
    """Store one fold's results (keys from :data:`FOLD_FIELDS`) in the trial."""
    for field, value in record.items():
        if field not in FOLD_FIELDS:
            raise RecordError(f"{field!r} is not a fold field; fold fields: {FOLD_FIELDS}")
        set_attr(trial, fold_key(fold, field), value)


def fold_value(attrs: dict[str, Any], fold: int, field: str) -> Any:
    """Fold ``fold``'s ``field`` from a trial's user attributes, or ``None``."""
    return attrs.get(fold_key(fold, field))


def fold_values(attrs: dict[str, Any], field: str, folds: int) -> list[Any]:
    """``field`` of folds ``0..folds-1`` (``None`` where a fold has none)."""
    return [attrs.get(fold_key(i, field)) for i in range(folds)]


def has_fold(attrs: dict[str, Any], fold: int) -> bool:
    """Whether fold ``fold`` was finished and recorded (score and fit time)."""
    return all(fold_key(fold, f) in attrs for f in ("test_accuracy", "fit_time"))


def fold_scores(trial: FrozenTrial) -> list[float]:
    """The validation accuracies of the folds the trial finished, in fold order."""
    scores = []
    for i in range(len(trial.user_attrs)):
        value = fold_value(trial.user_attrs, i, "test_accuracy")
        if value is None:
            break
        scores.append(float(value))
    return scores


def is_baseline(trial: FrozenTrial | optuna.Trial) -> bool:
    return bool(trial.user_attrs.get(BASELINE, False))


def reason(trial: FrozenTrial) -> str | None:
    return trial.user_attrs.get(REASON)


def set_reason(trial: optuna.Trial, text: str) -> None:
    trial.set_user_attr(REASON, text)


def baseline_trial(study: optuna.Study) -> FrozenTrial | None:
    """The study's baseline for the comparison (:func:`best_unregularized`), or ``None``."""
    return best_unregularized(study.get_trials(deepcopy=False))


def penalty_of(trial: FrozenTrial) -> Penalty:
    """The penalty a trial used (the baseline's is ``Penalty()``)."""
    return Penalty(**{name: float(trial.params.get(name, 0.0)) for name in STRENGTHS})


def lr_of(trial: FrozenTrial) -> float | None:
    """The learning rate a trial sampled, or ``None`` where the study fixed it."""
    value = trial.params.get("lr")
    return None if value is None else float(value)


def is_unregularized(trial: FrozenTrial) -> bool:
    """The baseline, or (with the learning rate searched) a trial that sampled no penalty."""
    return is_baseline(trial) or trial.params.get("penalty") == "none"


def best_unregularized(trials: Sequence[FrozenTrial]) -> FrozenTrial | None:
    """The baseline the answer compares with: the best complete unregularized trial (the
    highest mean CV score, the lowest number among equals), a maximum over its trials as for
    every family. With a fixed learning rate there is one such trial, the baseline."""
    from optuna.trial import TrialState

    candidates = [t for t in trials if t.state == TrialState.COMPLETE and is_unregularized(t)]
    if not candidates:
        return None
    return max(candidates, key=lambda t: (t.value if t.value is not None else -math.inf, -t.number))


def penalty_kind(trial: FrozenTrial) -> str:
    """The stored penalty type, else the sampled one, else ``?``."""
    return str(trial.user_attrs.get(PENALTY, trial.params.get("penalty", "?")))


def retry_of(trial: FrozenTrial) -> int | None:
    """The number of the killed trial that ``trial`` retries, or ``None``."""
    value = trial.system_attrs.get(RETRY_OF)
    return None if value is None else int(value)


def worker_id() -> str:
    """``host:pid`` of this process: the value of :data:`WORKER` (and of a refit claim)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def study_config(study: optuna.Study) -> dict[str, Any]:
    return dict(study.user_attrs.get(CONFIG, {}))


def study_folds(study: optuna.Study) -> int:
    """The stored k of the k-fold partition (0 for a study without regsearch's records)."""
    return int(study_config(study).get("folds", 0))


def study_repeats(study: optuna.Study) -> int:
    """How many k-fold partitions the study draws (1 before ``--repeats`` existed)."""
    return int(study_config(study).get("repeats", 1))


def study_splits(study: optuna.Study) -> int:
    """Splits every trial is scored on, ``split0_*`` to ``split{n-1}_*``: repeats x folds
    (0 for a study without regsearch's records)."""
    return study_repeats(study) * study_folds(study)


def model_line(study: optuna.Study) -> str:
    """``Model: cnn, 421,642 trainable values, outputs logits; penalized: 4 tensors
    (421,408 values).``, or ``""`` for a study without the record."""
    summary = study.user_attrs.get(MODEL_SUMMARY)
    identity = study.user_attrs.get(MODEL) or {}
    if not summary:
        return ""
    penalized = summary.get("penalized", [])
    values = sum(math.prod(shape) for _, shape in penalized)
    return (
        f"Model: {summary.get('spec')}, {identity.get('trainable_parameters', 0):,} trainable "
        f"values, outputs {summary.get('outputs')}; penalized: {len(penalized)} "
        f"tensor{'s' * (len(penalized) != 1)} "
        f"({values:,} values)."
    )


def refit_record(study: optuna.Study) -> dict[str, Any]:
    """The stored refit of the chosen configuration (empty until the study is finished)."""
    return dict(study.user_attrs.get(REFIT) or {})


def baseline_refit_record(study: optuna.Study) -> dict[str, Any]:
    return dict(study.user_attrs.get(BASELINE_REFIT) or {})


def selection_record(study: optuna.Study) -> dict[str, Any]:
    return dict(study.user_attrs.get(SELECTION) or {})
