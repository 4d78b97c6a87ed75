"""One study's settings: data, cross-validation, search space, training, storage and how it runs,
checked when made, before anything is loaded, trained or stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regsearch.config.checks import check_int, check_positive_finite
from regsearch.config.choices import (
    BACKENDS,
    DEFAULT_PRUNER,
    DEFAULT_ROPE_PP,
    DEFAULT_STORAGE,
    DEVICES,
    PRUNERS,
    SELECTION_RULES,
)
from regsearch.config.data_settings import (
    check_data_settings,
    dataset_label,
    default_data_dir,
    describe_splits,
)
from regsearch.config.space import SearchSpace
from regsearch.config.training import TrainSettings, study_train_settings
from regsearch.errors import ConfigError, param
from regsearch.models.spec import ModelSpec, check_spec, importable, model_label, spec_text


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
            framework (see :data:`regsearch.models.ModelFactory`). A callable is recorded by
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
        timeout: a time budget in seconds for this run's search (Optuna's
            ``study.optimize(timeout=...)``): no trial starts after it, the running ones
            finish, then the refit and the test run as usual; ``None``: ``trials`` alone ends
            the search (with both, whichever comes first). Counted from this run's start, so a
            resume gets the budget anew; not part of the identity.
        timeout_hard: with ``timeout``, also stop the running trials at their next epoch
            once the budget is spent, each recorded as pruned with the reason.
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
    timeout: float | None = None
    timeout_hard: bool = False
    space: SearchSpace = field(default_factory=SearchSpace)
    train: TrainSettings = field(default_factory=study_train_settings)

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
        check_data_settings(self.dataset, self.scale, self.target, self.test_data, self.test_size)
        if isinstance(self.folds, int) and not isinstance(self.folds, bool) and self.folds < 2:
            raise ConfigError(
                "k-fold cross-validation requires at least one train/validation split by "
                f"setting {param('folds')} 2 or more, got {param('folds')} {self.folds}."
            )
        check_int("folds", self.folds, 2)
        check_int("repeats", self.repeats, 1)
        check_int("trials", self.trials, 1)
        if self.timeout is not None:
            check_positive_finite("timeout", self.timeout)
        if self.timeout_hard and self.timeout is None:
            raise ConfigError(
                f"{param('timeout_hard')} stops the running trials when the time budget is "
                f"spent, but no budget is set. Give {param('timeout')} SECONDS too."
            )
        if self.timeout_hard and self.trial_batch > 1:
            raise ConfigError(
                f"{param('timeout_hard')} stops a trial between its epochs, which a population "
                f"of {param('trial_batch')} {self.trial_batch} trials training together cannot "
                f"do one trial at a time. Use {param('timeout')} alone (no new batch starts "
                f"after it), or {param('trial_batch')} 1."
            )
        check_int("seed", self.seed, 0)
        check_int("workers", self.workers, 1)
        check_int("trial_batch", self.trial_batch, 1)
        if self.threads is not None:
            check_int("threads", self.threads, 1)
        if self.train_size is not None:
            check_int("train_size", self.train_size, 2)
        if self.outer_folds is not None:
            check_int(
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
        if self.trial_batch > 1 and self.space.lr_range is not None:
            raise ConfigError(
                f"{param('trial_batch')} {self.trial_batch} trains several trials' folds as one "
                f"computation with one optimizer, so at one learning rate, but "
                f"{param('lr_range')} gives each trial its own. Leave {param('trial_batch')} "
                f"out, or fix the learning rate with {param('lr')} instead of "
                f"{param('lr_range')}."
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
        check_int("heartbeat_interval", self.heartbeat_interval, 1)
        check_int("grace_period", self.grace_period, 1)
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
            "space": self.space.identity(),
            "train": self.train.identity(),
        }
