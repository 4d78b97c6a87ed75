"""The study's last step, run once however many workers finish: retrain the chosen
configuration and the baseline on all training data, test each once, store the results."""

from __future__ import annotations

import shlex

import numpy as np
from optuna.trial import FrozenTrial

from regsearch import records
from regsearch.cv.refit import RefitResult, refit_and_test
from regsearch.cv.selection import select
from regsearch.errors import NothingToRefit, RefitElsewhere, param
from regsearch.locations import artifacts_dir, redact_url, safe_file_stem
from regsearch.observe.base import Observer
from regsearch.run.claims import claim_refit, drop_refit_claim
from regsearch.run.session import StudySession

RULE_NAMES = {"best": "highest CV accuracy", "one-se": "one-standard-error rule"}


def refit_once(
    session: StudySession, take_over: bool = False, observer: Observer | None = None
) -> tuple[RefitResult, RefitResult | None]:
    """Refit the configuration chosen by ``config.select`` and the baseline (each told to
    ``observer``), and store the results (and which trial each rule would choose) in the
    study's user attributes; returns ``(chosen, baseline)``.

    It runs once per chosen trial, however many workers finish at the same moment: the first
    to claim it (see :func:`regsearch.run.claims.claim_refit`) refits; a stored result is
    returned as it is. ``take_over`` (``refit_only``) drops a claim whose worker left no
    result, e.g. because it died.

    Raises:
        NothingToRefit: no trial completed.
        RefitElsewhere: another worker holds the claim and has not stored a result yet.
    """
    config, study, log = session.config, session.study, session.log
    completed = session.complete_trials()
    if not completed:
        raise NothingToRefit(
            f"none of the {len(study.trials)} trials of study {study.study_name!r} "
            f"finished: every one diverged or was pruned, so there is nothing to refit. "
            f"Lower {param('lr')} or {param('lambda_max')} and run again with a new "
            f"{param('study_name')}."
        )
    chosen_trial = select(completed, config.select)
    stored = _stored_refit(session, chosen_trial.number)
    if stored is not None:
        log(f"Trial {chosen_trial.number} was refit and tested before; its stored result:")
        return stored
    holder = claim_refit(session.storage, study.study_name, chosen_trial.number)
    if holder is not None and take_over:
        log(f"Taking over the refit of trial {chosen_trial.number} from worker {holder}.")
        drop_refit_claim(session.storage, study.study_name, chosen_trial.number)
        holder = claim_refit(session.storage, study.study_name, chosen_trial.number)
    if holder is not None:
        raise RefitElsewhere(
            f"worker {holder} is refitting trial {chosen_trial.number}; its test result "
            f"will be stored in the study (python -m regsearch.inspect --storage "
            f"{redact_url(config.storage)} --study {shlex.quote(study.study_name)}). If "
            f"that worker has died, run this command with {param('refit_only')}."
        )
    try:
        return _refit(session, completed, chosen_trial, observer)
    except BaseException:
        drop_refit_claim(session.storage, study.study_name, chosen_trial.number)
        raise


def _stored_refit(
    session: StudySession, trial_number: int
) -> tuple[RefitResult, RefitResult | None] | None:
    stored = records.refit_record(session.study)
    if not stored or stored.get("trial_number") != trial_number:
        return None
    baseline = records.baseline_refit_record(session.study)
    return RefitResult(**stored), RefitResult(**baseline) if baseline else None


def _refit(
    session: StudySession,
    completed: list[FrozenTrial],
    chosen_trial: FrozenTrial,
    observer: Observer | None,
) -> tuple[RefitResult, RefitResult | None]:
    config, study, dataset, log = session.config, session.study, session.dataset, session.log
    study.set_user_attr(
        records.SELECTION,
        {
            "rule": config.select,
            "chosen_trial": chosen_trial.number,
            "best_trial": select(completed, "best").number,
            "one_se_trial": select(completed, "one-se").number,
        },
    )
    model_path = artifacts_dir(config.storage) / safe_file_stem(study.study_name)
    model_path.parent.mkdir(parents=True, exist_ok=True)  # ./studies for a server storage
    log(
        f"Refitting trial {chosen_trial.number} (chosen by the {RULE_NAMES[config.select]}) on "
        f"all {len(dataset.y_train)} training examples for the median best epoch of its folds"
        + (
            ", its weight decay kept at the folds' timescale (weight_decay x fold rows / all rows)."
            if "weight_decay" in chosen_trial.params
            else "."
        )
    )
    trainer = session.trainer
    fold_rows = float(np.mean([len(train) for train, _ in session.folds]))
    chosen = refit_and_test(
        trainer, dataset, chosen_trial, config.seed, model_path, observer, fold_rows
    )
    baseline_trial = records.best_unregularized(completed)
    baseline: RefitResult | None = None
    if baseline_trial is not None and baseline_trial.number == chosen_trial.number:
        baseline = chosen
    elif baseline_trial is not None and not dataset.has_test_set:
        log("No test set: the baseline is not refit (its refit would be scored on nothing).")
    elif baseline_trial is not None:
        log(f"Refitting the unregularized baseline (trial {baseline_trial.number}) the same way.")
        baseline = refit_and_test(
            trainer, dataset, baseline_trial, config.seed, observer=observer, fold_rows=fold_rows
        )
    if baseline is not None:
        study.set_user_attr(records.BASELINE_REFIT, baseline.to_dict())
    study.set_user_attr(records.REFIT, chosen.to_dict())  # last: its presence means "done"
    return chosen, baseline
