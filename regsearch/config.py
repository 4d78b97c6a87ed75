"""Frozen settings of a study and all their validation.

Every check raises :class:`ConfigError` with a message that says what must hold, what was given
and how to fix it, before anything is loaded, trained or stored.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PENALTY_TYPES: tuple[str, ...] = ("l1", "l2", "l1_l2")
"""Penalty types the sampler may choose: ``l1 * sum|W|``, ``l2 * sum W^2``, or both."""

BACKENDS: tuple[str, ...] = ("tf", "torch")
PRUNERS: tuple[str, ...] = ("none", "median", "hyperband", "wilcoxon")
SELECTION_RULES: tuple[str, ...] = ("best", "one-se")
"""How the refit configuration is chosen; see :mod:`regsearch.results`."""
"""Optuna pruners that may stop a trial between folds (see :mod:`regsearch.pruners`)."""
DEFAULT_PRUNER = "median"
BUILTIN_DATASETS: tuple[str, ...] = ("mnist", "digits")
DEFAULT_STORAGE = "sqlite:///studies/regsearch.db"
DATA_DIR_ENV = "REGSEARCH_DATA_DIR"


class ConfigError(ValueError):
    """A setting is invalid; the message says what must hold and how to fix it."""


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _check_positive_finite(name: str, value: Any) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}.")


@dataclass(frozen=True)
class SearchSpace:
    """What the sampler may choose.

    Attributes:
        penalties: penalty types, a non-empty subset of ``("l1", "l2", "l1_l2")``.
        lambda_min, lambda_max: bounds of every lambda, sampled log-uniformly; ``log=True``
            excludes 0, so "no regularization" is the study's separate baseline trial.
    """

    penalties: tuple[str, ...] = PENALTY_TYPES
    lambda_min: float = 1e-6
    lambda_max: float = 1e-1

    def __post_init__(self) -> None:
        if not self.penalties:
            raise ConfigError(
                f"penalties must name at least one of {', '.join(PENALTY_TYPES)}, got none."
            )
        unknown = [p for p in self.penalties if p not in PENALTY_TYPES]
        if unknown:
            raise ConfigError(
                f"penalties must be among {', '.join(PENALTY_TYPES)}, got unknown "
                f"{', '.join(map(repr, unknown))}. Example: --penalties l1,l2"
            )
        if len(set(self.penalties)) != len(self.penalties):
            raise ConfigError(f"penalties must not repeat a type, got {','.join(self.penalties)}.")
        _check_positive_finite("lambda-min", self.lambda_min)
        _check_positive_finite("lambda-max", self.lambda_max)
        if not self.lambda_min < self.lambda_max:
            raise ConfigError(
                "`lambda-min < lambda-max` must hold for a log-uniform range, but got "
                f"(lambda-min={self.lambda_min:g}, lambda-max={self.lambda_max:g})."
            )


@dataclass(frozen=True)
class TrainSettings:
    """How every model is trained.

    Attributes:
        epochs: maximum epochs per fold; early stopping may end a fold sooner.
        batch_size: mini-batch size; the penalty is added once per batch to the batch's mean loss.
        lr: Adam's learning rate.
        hidden: units of each hidden ReLU layer, e.g. ``(256, 128)``.
        patience: epochs without a lower validation loss before a fold stops; the weights of
            the best epoch are restored (Keras ``EarlyStopping(restore_best_weights=True)``).
    """

    epochs: int = 5
    batch_size: int = 128
    lr: float = 1e-3
    hidden: tuple[int, ...] = (128,)
    patience: int = 2

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1)
        _check_int("batch-size", self.batch_size, 1)
        _check_positive_finite("lr", self.lr)
        if not self.hidden:
            raise ConfigError("hidden must list at least one layer width, e.g. --hidden 128.")
        for units in self.hidden:
            _check_int("each hidden layer width", units, 1)
        _check_int("patience", self.patience, 0)


@dataclass(frozen=True)
class StudyConfig:
    """One study: data, cross-validation, search space, training and storage.

    ``study_name`` defaults to ``<dataset>-<backend>``, e.g. ``mnist-tf``. ``pruner`` (see
    :mod:`regsearch.pruners`) and ``select`` (the refit's selection rule, see
    :mod:`regsearch.results`) may change between runs of one study; everything in
    :meth:`identity` may not.
    """

    backend: str
    dataset: str = "mnist"
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get(DATA_DIR_ENV, "data")))
    folds: int = 5
    trials: int = 20
    seed: int = 0
    storage: str = DEFAULT_STORAGE
    study_name: str | None = None
    pruner: str = DEFAULT_PRUNER
    heartbeat_interval: int = 60
    grace_period: int = 180
    select: str = "best"
    space: SearchSpace = field(default_factory=SearchSpace)
    train: TrainSettings = field(default_factory=TrainSettings)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}. "
                "Example: --backend torch"
            )
        if self.dataset not in BUILTIN_DATASETS and not self.dataset.endswith(".npz"):
            raise ConfigError(
                f"dataset must be 'mnist', 'digits' or a path to an .npz file, "
                f"got {self.dataset!r}."
            )
        if isinstance(self.folds, int) and not isinstance(self.folds, bool) and self.folds < 2:
            raise ConfigError(
                "k-fold cross-validation requires at least one train/validation split by "
                f"setting --folds 2 or more, got --folds {self.folds}."
            )
        _check_int("folds", self.folds, 2)
        _check_int("trials", self.trials, 1)
        _check_int("seed", self.seed, 0)
        if not self.storage.strip():
            raise ConfigError(f"storage must be an Optuna storage URL, e.g. {DEFAULT_STORAGE}.")
        if self.pruner not in PRUNERS:
            raise ConfigError(f"pruner must be one of {', '.join(PRUNERS)}, got {self.pruner!r}.")
        if self.select not in SELECTION_RULES:
            raise ConfigError(
                f"select must be one of {', '.join(SELECTION_RULES)}, got {self.select!r}."
            )
        _check_int("heartbeat-interval", self.heartbeat_interval, 1)
        _check_int("grace-period", self.grace_period, 1)
        if self.grace_period <= self.heartbeat_interval:
            raise ConfigError(
                "`grace-period > heartbeat-interval` must hold, or live trials would be taken "
                f"for dead ones, but got (heartbeat-interval={self.heartbeat_interval}, "
                f"grace-period={self.grace_period})."
            )
        if self.study_name is not None and not self.study_name.strip():
            raise ConfigError("study-name must not be empty; leave it out for the default.")

    @property
    def name(self) -> str:
        """The study name: the given one, or ``<dataset>-<backend>``."""
        if self.study_name is not None:
            return self.study_name
        return f"{dataset_label(self.dataset)}-{self.backend}"

    def identity(self) -> dict[str, Any]:
        """The settings a resumed study must share with the stored one (JSON-ready)."""
        return {
            "backend": self.backend,
            "dataset": dataset_label(self.dataset),
            "folds": self.folds,
            "seed": self.seed,
            "space": {
                "penalties": list(self.space.penalties),
                "lambda_min": self.space.lambda_min,
                "lambda_max": self.space.lambda_max,
            },
            "train": {**asdict(self.train), "hidden": list(self.train.hidden)},
        }


def dataset_label(dataset: str) -> str:
    """``mnist``/``digits`` as they are; an ``.npz`` path by its file stem."""
    if dataset in BUILTIN_DATASETS:
        return dataset
    return Path(dataset).stem


def parse_penalties(text: str) -> tuple[str, ...]:
    """Parse ``"l1,l2"`` into ``("l1", "l2")``; validation happens in :class:`SearchSpace`."""
    return tuple(p.strip() for p in text.split(",") if p.strip())


def parse_hidden(text: str) -> tuple[int, ...]:
    """Parse ``"256,128"`` into ``(256, 128)``."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(re.fullmatch(r"\d+", p) for p in parts):
        raise ConfigError(
            f"hidden must be comma-separated positive layer widths like 256,128, got {text!r}."
        )
    return tuple(int(p) for p in parts)
