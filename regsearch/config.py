"""Frozen settings of a study and all their validation.

Every check raises :class:`ConfigError` with a message that says what must hold, what was given
and how to fix it, before anything is loaded, trained or stored.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from regsearch.errors import ConfigError, param
from regsearch.models.loading import ModelSpec, check_spec, importable, model_label, spec_text
from regsearch.scaling import SCALINGS

PENALTY_TYPES: tuple[str, ...] = ("l1", "l2", "l1_l2")
"""Penalty types the sampler may choose: ``l1 * sum|W|``, ``l2 * sum W^2``, or both."""

BACKENDS: tuple[str, ...] = ("tf", "torch")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
"""Where models train: ``auto`` (a CUDA GPU when the framework sees one, else the CPU)."""
PRUNERS: tuple[str, ...] = ("auto", "epochs", "median", "hyperband", "wilcoxon", "none")
"""Optuna pruners that may stop a trial between its folds, or (``epochs``) between the epochs
of its folds trained at once (see :mod:`regsearch.cv.pruning`); ``auto`` is ``epochs`` where
the model's folds train at once, else ``median`` (the faster of the two where both apply)."""
SELECTION_RULES: tuple[str, ...] = ("best", "one-se")
"""How the refit configuration is chosen; see :mod:`regsearch.cv.selection`."""
DEFAULT_PRUNER = "auto"
DEFAULT_ROPE_PP = 0.1
"""The comparison with the baseline's region of practical equivalence, in percentage points
of accuracy (see :mod:`regsearch.cv.comparison`)."""
BUILTIN_DATASETS: tuple[str, ...] = ("mnist", "digits")
DATA_FILE_SUFFIXES: tuple[str, ...] = (".npz", ".csv")
DEFAULT_STORAGE = "sqlite:///studies/regsearch.db"
DATA_DIR_ENV = "REGSEARCH_DATA_DIR"


def _check_int(name: str, value: Any, minimum: int, what: str | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{what or param(name)} must be an integer >= {minimum}, got {value!r}.")


def _check_positive_finite(name: str, value: Any) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"{param(name)} must be a finite number > 0, got {value!r}.")


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
                f"{param('penalties')} must name at least one of {', '.join(PENALTY_TYPES)}, "
                "got none."
            )
        unknown = [p for p in self.penalties if p not in PENALTY_TYPES]
        if unknown:
            raise ConfigError(
                f"{param('penalties')} must be among {', '.join(PENALTY_TYPES)}, got unknown "
                f"{', '.join(map(repr, unknown))}. Example: {param('penalties')} l1,l2"
            )
        if len(set(self.penalties)) != len(self.penalties):
            raise ConfigError(
                f"{param('penalties')} must not repeat a type, got {','.join(self.penalties)}."
            )
        _check_positive_finite("lambda_min", self.lambda_min)
        _check_positive_finite("lambda_max", self.lambda_max)
        low, high = param("lambda_min"), param("lambda_max")
        if not self.lambda_min < self.lambda_max:
            raise ConfigError(
                f"`{low} < {high}` must hold for a log-uniform range, but got "
                f"({low}={self.lambda_min:g}, {high}={self.lambda_max:g})."
            )


@dataclass(frozen=True)
class TrainSettings:
    """How every model is trained.

    The defaults let each fold train until its own early stopping ends it: on full MNIST the
    MLP's validation loss is lowest at epoch 12-13 unregularized and 17-20 with a useful L2
    penalty, so a cap of 20 with a patience of 3 compares configurations at their best (a
    5-epoch cap scored every configuration before it could over-fit). README, "Choosing the
    budget", has the measurements.

    Attributes:
        epochs: maximum epochs per fold (the cap); early stopping may end a fold sooner.
        batch_size: mini-batch size; the penalty is added once per batch to the batch's mean loss.
        lr: Adam's learning rate.
        hidden: units of each hidden ReLU layer of the built-in MLP, e.g. ``(256, 128)``.
        patience: epochs without a lower validation loss before a fold stops; the weights of
            the best epoch are restored (Keras ``EarlyStopping(restore_best_weights=True)``).
    """

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    hidden: tuple[int, ...] = (128,)
    patience: int = 3

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_positive_finite("lr", self.lr)
        if not self.hidden:
            raise ConfigError(
                f"{param('hidden')} must list at least one layer width, e.g. {param('hidden')} 128."
            )
        for units in self.hidden:
            _check_int("hidden", units, 1, what=f"each {param('hidden')} layer width")
        _check_int("patience", self.patience, 0)


@dataclass(frozen=True)
class StudyConfig:
    """One study: data, cross-validation, search space, training, storage and how to run it.

    ``study_name`` defaults to ``<dataset>-<backend>`` for the MLP, e.g. ``mnist-tf``, and
    ``<dataset>-<model>-<backend>`` for another model, e.g. ``mnist-cnn-torch``; a
    ``train_size`` follows the dataset, e.g. ``mnist3000-torch``. Everything in
    :meth:`identity`, and the model's architecture, is fixed when the study is created; the
    rest (``trials``, ``pruner``, the refit's ``select`` rule, ``workers``, ...) may change
    between runs of one study.

    Attributes:
        model: ``mlp`` (the built-in MLP of ``train.hidden``), ``cnn`` (the built-in CNN),
            ``package.module:function``, ``path/to/file.py:function``, or a callable
            ``build(input_shape, n_classes)`` returning a fresh model of the backend's
            framework (see :data:`regsearch.backends.ModelFactory`). A callable is recorded by
            its ``module:qualified_name``; workers must be able to import it.
        workers: processes running trials at once on this machine, sharing the study through
            ``storage``; the refit runs once, after all of them.
        repeats: how many times the stratified ``folds``-fold partition is drawn, each time
            shuffled anew (scikit-learn's ``RepeatedStratifiedKFold``); every trial is scored
            on the same ``repeats * folds`` splits, recorded as ``split0_*`` ... in
            repetition order.
        tensorboard: a folder for each fold's per-epoch curves as TensorBoard runs, or ``None``.
        dashboard: after the refit, write the study's answer, note and figures for
            optuna-dashboard (see :mod:`regsearch.present.dashboard`; about a second of
            figure drawing); ``False`` leaves them out (``--no-dashboard``).
        artifact_dir: where the report's figures go as the study's artifacts for
            optuna-dashboard (see :mod:`regsearch.present.dashboard`); ``None``: an
            ``artifacts`` folder beside a SQLite storage, else ``./studies/artifacts``.
        refit_only: run no trials; refit and test the stored study's choice now (taking over
            from a worker that claimed the refit and died).
        device: ``auto``, ``cpu`` or ``cuda`` (see :data:`DEVICES`); not part of the
            identity: a study may go on on other hardware.
        target: a CSV dataset's label column (required for CSV, refused otherwise).
        test_data: a CSV dataset's test set, a CSV file of the same columns.
        train_size: train on a stratified sample of this many of the training examples,
            drawn with ``seed`` (the test set stays whole): a small-data study, e.g. 3,000
            MNIST images, where over-fitting and so regularization matter.
        test_size: for an ``.npz`` or CSV file without a test set, the stratified fraction of
            its examples held out as the test set with ``seed`` (default 0.2).
        threads: threads of the framework's kernels in each training process; ``None``: the
            framework's default, or a share of the cores per worker (see
            :mod:`regsearch.threads`). Not part of the identity.
        trial_batch: trials sampled together (TPE with ``constant_liar``) whose folds train
            as one population (see :mod:`regsearch.cv.population`); needs ``pruner`` ``none``
            or ``epochs``.
            Not part of the identity: each trial's numbers are those of training it alone.
        rope: the region of practical equivalence, in percentage points of CV accuracy, of
            the comparison with the baseline (see :mod:`regsearch.cv.comparison`). Not part
            of the identity.
        outer_folds: nested cross-validation's K (see :mod:`regsearch.run.nested`): the
            whole search runs again as an inner study on each outer fold's training part and
            is scored on its held-out part; ``None``: no nested estimate. Not part of the
            identity: the study on all training data is the same either way.
        scale: ``standard``, ``minmax`` or ``none``, fitted on each fold's training rows (see
            :mod:`regsearch.scaling`); ``auto``: ``standard`` for tabular features, ``none``
            for pixels.
    """

    backend: str
    dataset: str = "mnist"
    model: ModelSpec = "mlp"
    data_dir: Path = field(default_factory=lambda: default_data_dir())
    folds: int = 5
    repeats: int = 1
    trials: int = 20
    seed: int = 0
    storage: str = DEFAULT_STORAGE
    study_name: str | None = None
    pruner: str = DEFAULT_PRUNER
    heartbeat_interval: int = 60
    grace_period: int = 180
    select: str = "best"
    workers: int = 1
    tensorboard: Path | None = None
    dashboard: bool = True
    artifact_dir: Path | None = None
    refit_only: bool = False
    device: str = "auto"
    target: str | None = None
    test_data: Path | None = None
    test_size: float | None = None
    train_size: int | None = None
    scale: str = "auto"
    trial_batch: int = 1
    threads: int | None = None
    rope: float = DEFAULT_ROPE_PP
    outer_folds: int | None = None
    space: SearchSpace = field(default_factory=SearchSpace)
    train: TrainSettings = field(default_factory=TrainSettings)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"{param('backend')} must be one of {', '.join(BACKENDS)}, got "
                f"{self.backend!r}. Example: {param('backend')} torch"
            )
        check_spec(self.model)
        if self.model != "mlp" and self.train.hidden != TrainSettings().hidden:
            raise ConfigError(
                f"{param('hidden')} sets the widths of the built-in mlp, but "
                f"{param('model')} is {spec_text(self.model)}. Leave {param('hidden')} out, or "
                f"use {param('model')} mlp."
            )
        if self.device not in DEVICES:
            raise ConfigError(
                f"{param('device')} must be one of {', '.join(DEVICES)}, got {self.device!r}."
            )
        self._check_data()
        if isinstance(self.folds, int) and not isinstance(self.folds, bool) and self.folds < 2:
            raise ConfigError(
                "k-fold cross-validation requires at least one train/validation split by "
                f"setting {param('folds')} 2 or more, got {param('folds')} {self.folds}."
            )
        _check_int("folds", self.folds, 2)
        _check_int("repeats", self.repeats, 1)
        _check_int("trials", self.trials, 1)
        _check_int("seed", self.seed, 0)
        _check_int("workers", self.workers, 1)
        _check_int("trial_batch", self.trial_batch, 1)
        if self.threads is not None:
            _check_int("threads", self.threads, 1)
        if self.train_size is not None:
            _check_int("train_size", self.train_size, 2)
        if self.outer_folds is not None:
            _check_int(
                "outer_folds",
                self.outer_folds,
                2,
                what=f"{param('outer_folds')} (the K of nested cross-validation)",
            )
        if (
            isinstance(self.rope, bool)
            or not isinstance(self.rope, (int, float))
            or not 0 <= self.rope < 100
        ):
            raise ConfigError(
                f"{param('rope')} is the region of practical equivalence in percentage points "
                f"of accuracy, a number from 0 up to 100, got {self.rope!r}. Example: "
                f"{param('rope')} 0.1"
            )
        if self.trial_batch > 1 and self.pruner not in ("auto", "epochs", "none"):
            raise ConfigError(
                f"{param('trial_batch')} {self.trial_batch} trains the folds of several trials "
                f"together, so no trial can be stopped between its folds, but {param('pruner')} "
                f"is {self.pruner}. Add {param('pruner')} epochs (judged between epochs) or "
                f"none, or leave {param('trial_batch')} out."
            )
        if self.workers > 1 and not importable(self.model):
            raise ConfigError(
                f"{param('workers')} {self.workers} runs trials in other processes, which find "
                f"the model by name, but {spec_text(self.model)} cannot be imported by name "
                "(a lambda or a function defined inside another). Define it at the top level "
                f"of a module, or use {param('workers')} 1."
            )
        if not self.storage.strip():
            raise ConfigError(
                f"{param('storage')} must be an Optuna storage URL, e.g. {DEFAULT_STORAGE}."
            )
        if self.pruner not in PRUNERS:
            raise ConfigError(
                f"{param('pruner')} must be one of {', '.join(PRUNERS)}, got {self.pruner!r}."
            )
        if self.select not in SELECTION_RULES:
            raise ConfigError(
                f"{param('select')} must be one of {', '.join(SELECTION_RULES)}, got "
                f"{self.select!r}."
            )
        _check_int("heartbeat_interval", self.heartbeat_interval, 1)
        _check_int("grace_period", self.grace_period, 1)
        beat, grace = param("heartbeat_interval"), param("grace_period")
        if self.grace_period <= self.heartbeat_interval:
            raise ConfigError(
                f"`{grace} > {beat}` must hold, or live trials would be taken "
                f"for dead ones, but got ({beat}={self.heartbeat_interval}, "
                f"{grace}={self.grace_period})."
            )
        if self.study_name is not None and not self.study_name.strip():
            raise ConfigError(
                f"{param('study_name')} must not be empty; leave it out for the default."
            )

    def _check_data(self) -> None:
        dataset = str(self.dataset)
        suffix = Path(dataset).suffix.lower()
        if dataset not in BUILTIN_DATASETS and suffix not in DATA_FILE_SUFFIXES:
            raise ConfigError(
                f"{param('dataset')} must be 'mnist', 'digits' or a path to an .npz or .csv "
                f"file, got {dataset!r}."
            )
        if self.scale not in SCALINGS:
            raise ConfigError(
                f"{param('scale')} must be one of {', '.join(SCALINGS)}, got {self.scale!r}."
            )
        csv = suffix == ".csv"
        if csv and not (isinstance(self.target, str) and self.target.strip()):
            raise ConfigError(
                f"{param('dataset')} {dataset} is a CSV file: name its label column with "
                f"{param('target')} COLUMN."
            )
        if self.target is not None and not csv:
            raise ConfigError(
                f"{param('target')} names a CSV file's label column, but {param('dataset')} is "
                f"{dataset}. Leave {param('target')} out."
            )
        if self.test_data is not None:
            if not csv or Path(self.test_data).suffix.lower() != ".csv":
                raise ConfigError(
                    f"{param('test_data')} must be a .csv file beside a CSV {param('dataset')} "
                    f"(an .npz holds its test set as x_test, y_test), got {param('dataset')} "
                    f"{dataset} and {param('test_data')} {self.test_data}."
                )
            if self.test_size is not None:
                raise ConfigError(
                    f"{param('test_data')} is the test set, so there is nothing to hold out: "
                    f"leave {param('test_size')} out."
                )
        if self.test_size is not None:
            size = self.test_size
            if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0.0 < size < 1.0:
                raise ConfigError(
                    f"{param('test_size')} must be the fraction of the examples held out as the "
                    f"test set, between 0 and 1 (exclusive), got {size!r}; e.g. "
                    f"{param('test_size')} 0.2."
                )
            if dataset in BUILTIN_DATASETS:
                raise ConfigError(
                    f"{param('test_size')} holds out a test set from a file without one, but "
                    f"{dataset} comes with its own. Leave {param('test_size')} out."
                )

    @property
    def n_splits(self) -> int:
        """Train/validation splits every trial is scored on: ``repeats * folds``."""
        return self.repeats * self.folds

    def describe_splits(self) -> str:
        """``5 folds`` or ``3 x 5 folds (15 splits)``."""
        return describe_splits(self.folds, self.repeats)

    @property
    def name(self) -> str:
        """The study name: the given one, or ``<dataset>[<train_size>][-<model>]-<backend>``."""
        if self.study_name is not None:
            return self.study_name
        model = "" if self.model == "mlp" else f"-{model_label(self.model)}"
        sample = "" if self.train_size is None else str(self.train_size)
        return f"{dataset_label(self.dataset)}{sample}{model}-{self.backend}"

    def identity(self) -> dict[str, Any]:
        """The settings a resumed study must share with the stored one (JSON-ready)."""
        return {
            "backend": self.backend,
            "dataset": dataset_label(self.dataset),
            "train_size": self.train_size,
            "scale": self.scale,
            "folds": self.folds,
            "repeats": self.repeats,
            "seed": self.seed,
            "space": {
                "penalties": list(self.space.penalties),
                "lambda_min": self.space.lambda_min,
                "lambda_max": self.space.lambda_max,
            },
            "train": {**asdict(self.train), "hidden": list(self.train.hidden)},
        }


def describe_splits(folds: int, repeats: int) -> str:
    """``5 folds`` for one k-fold partition, ``3 x 5 folds (15 splits)`` for repeated ones."""
    if repeats == 1:
        return f"{folds} folds"
    return f"{repeats} x {folds} folds ({repeats * folds} splits)"


def default_data_dir() -> Path:
    """``$REGSEARCH_DATA_DIR``, else ``./data``: where MNIST is looked for, and downloaded."""
    return Path(os.environ.get(DATA_DIR_ENV, "data"))


def dataset_label(dataset: str) -> str:
    """``mnist``/``digits`` as they are; an ``.npz`` or ``.csv`` path by its file stem."""
    if dataset in BUILTIN_DATASETS:
        return dataset
    return Path(dataset).stem
