"""Create a study with its records, or verify that a stored one was made with the same
settings, data and folds (Optuna's ``load_if_exists`` compares nothing)."""

from __future__ import annotations

import platform
import time
from importlib import metadata
from typing import TYPE_CHECKING, Any

import optuna

from regsearch import records
from regsearch.config import NO_PENALTY
from regsearch.errors import StudyMismatch, param
from regsearch.locations import redact_url

if TYPE_CHECKING:
    from regsearch.backends import Backend
    from regsearch.config import StudyConfig
    from regsearch.data import Dataset
    from regsearch.models.summary import ModelSummary

RECORDS_WAIT_S = 30.0
"""How long a worker waits for the records of a study another worker has just created."""


def create_or_resume(
    config: StudyConfig,
    storage: optuna.storages.BaseStorage,
    identity: dict[str, Any],
    backend: Backend,
    dataset: Dataset,
    model: ModelSummary,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study:
    """Load the study ``config.name`` and check its ``identity`` records, or create it with
    them (and its baseline trial). A study another worker creates at the same moment is
    loaded and checked.

    Raises:
        StudyMismatch: the stored study's records differ from ``identity``.
    """
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
            _record_new_study(study, identity, backend, dataset, model)
            records.name_metric(study)
            return study
    _check_same_study(study, identity, config, model)
    records.name_metric(study)  # studies stored before it was named, too
    return study


def _record_new_study(
    study: optuna.Study,
    identity: dict[str, Any],
    backend: Backend,
    dataset: Dataset,
    model: ModelSummary,
) -> None:
    # The answer first, so that optuna-dashboard lists it first (it is filled in after the
    # refit); then the summary: a resuming worker waits for the identity keys, then reads it.
    study.set_user_attr(records.ANSWER, records.NO_ANSWER)
    study.set_user_attr(records.MODEL_SUMMARY, model.record())
    for key, value in identity.items():
        study.set_user_attr(key, value)
    scaling = identity[records.CONFIG].get("scale", "none")
    scaled = "" if scaling == "none" else f"; features scaled: {scaling}, fitted per fold"
    study.set_user_attr(records.DATASET_SUMMARY, dataset.describe() + scaled)
    study.set_user_attr(records.VERSIONS, versions(backend))
    study.set_user_attr(records.METRIC, records.METRIC_TEXT)
    study.set_user_attr(records.CLASSES, list(dataset.classes or range(dataset.n_classes)))
    queue_baseline(study)
    if identity[records.CONFIG]["space"].get("lr_range"):
        # With the learning rate searched, the unregularized family is a choice of the
        # penalty categorical like the others, and gets at least two learning rates: the
        # baseline's and this trial's, both sampled as every trial samples its own.
        study.enqueue_trial({"penalty": NO_PENALTY})


def queue_baseline(study: optuna.Study) -> None:
    """Queue the unregularized baseline trial. It answers "did regularization help at all?".
    It samples no parameters, so the penalty categorical keeps the same choices in every
    trial and the sampler never proposes "none" again."""
    study.enqueue_trial({}, user_attrs={records.BASELINE: True})


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


LEGACY_IDENTITY = {
    f"{records.CONFIG}.scale": "none",
    f"{records.CONFIG}.repeats": 1,
    f"{records.CONFIG}.train_size": None,
}
"""Identity keys newer than some stored studies, with the value those studies had: before
``--scale`` no study scaled its features, before ``--repeats`` each drew one partition, before
``--train-size`` each trained on all its training examples."""


def _check_same_study(
    study: optuna.Study, identity: dict[str, Any], config: StudyConfig, model: ModelSummary
) -> None:
    # The creator writes the records right after creating the study: wait for them.
    deadline = time.monotonic() + RECORDS_WAIT_S
    while any(key not in study.user_attrs for key in identity) and time.monotonic() < deadline:
        time.sleep(0.2)
    stored = LEGACY_IDENTITY | _flatten({k: study.user_attrs.get(k) for k in identity})
    wanted = _flatten(identity)
    changed = [key for key, value in wanted.items() if stored.get(key) != value]
    differences = [f"{key}: stored {stored.get(key)!r}, now {wanted[key]!r}" for key in changed]
    if any(key.startswith(f"{records.MODEL}.") for key in changed):
        was = (study.user_attrs.get(records.MODEL_SUMMARY) or {}).get("spec", "another model")
        differences.insert(0, f"model: stored {was}, now {model.spec} (another architecture)")
    if differences:
        raise StudyMismatch(
            f"study {study.study_name!r} in {redact_url(config.storage)} was created with other "
            f"settings, so its trials are not comparable with this run's: "
            f"{'; '.join(differences)}. Rerun with the original settings to resume it, or start "
            f"a new study with {param('study_name')} {study.study_name}-2."
        )


def versions(backend: Backend) -> dict[str, str]:
    """The package versions a study was created with, for its records."""
    found = {"python": platform.python_version()}
    for package in ("regsearch", "optuna", "scikit-learn", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    found.update(backend.versions())
    return found
