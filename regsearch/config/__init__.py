"""Frozen settings of a study and all their validation.

Every check raises :class:`~regsearch.errors.ConfigError` with a message that says what must
hold, what was given and how to fix it, before anything is loaded, trained or stored. By
concern: :mod:`~regsearch.config.choices` (what each setting may be),
:mod:`~regsearch.config.space` (what the sampler chooses), :mod:`~regsearch.config.training`
(how a model trains), :mod:`~regsearch.config.data_settings` and
:mod:`~regsearch.config.study` (the whole study).
"""

from regsearch.config.choices import (
    BACKEND_MODULES,
    BACKENDS,
    BUILTIN_DATASETS,
    DATA_DIR_ENV,
    DATA_FILE_SUFFIXES,
    DEFAULT_PENALTIES,
    DEFAULT_PRUNER,
    DEFAULT_ROPE_PP,
    DEFAULT_STORAGE,
    DEVICES,
    NO_PENALTY,
    PENALTY_TYPES,
    PRUNERS,
    SCALINGS,
    SELECTION_RULES,
    BackendModule,
)
from regsearch.config.data_settings import dataset_label, default_data_dir, describe_splits
from regsearch.config.space import SearchSpace
from regsearch.config.study import StudyConfig
from regsearch.config.training import AUTO_MIN_STEPS, TrainSettings, study_train_settings

__all__ = [
    "AUTO_MIN_STEPS",
    "BACKENDS",
    "BACKEND_MODULES",
    "BUILTIN_DATASETS",
    "DATA_DIR_ENV",
    "DATA_FILE_SUFFIXES",
    "DEFAULT_PENALTIES",
    "DEFAULT_PRUNER",
    "DEFAULT_ROPE_PP",
    "DEFAULT_STORAGE",
    "DEVICES",
    "NO_PENALTY",
    "PENALTY_TYPES",
    "PRUNERS",
    "SCALINGS",
    "SELECTION_RULES",
    "BackendModule",
    "SearchSpace",
    "StudyConfig",
    "TrainSettings",
    "dataset_label",
    "default_data_dir",
    "describe_splits",
    "study_train_settings",
]
