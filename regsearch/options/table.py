"""The study command's options, defined once: the table below feeds argparse and the keys of a
``--config`` TOML file (:mod:`regsearch.cli.arguments`, :mod:`regsearch.cli.config_file`),
:class:`~regsearch.config.StudyConfig`, and the command line that reproduces a study
(:mod:`regsearch.options.command_line`).

An option is named by its parameter (``lambda_min``); its flag is ``--lambda-min`` and its TOML
key ``lambda-min`` or ``lambda_min``. Defaults come from the config classes themselves, so the
command line and the Python API cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from regsearch.config import (
    BACKENDS,
    DATA_DIR_ENV,
    DEVICES,
    PRUNERS,
    SCALINGS,
    SELECTION_RULES,
    SearchSpace,
    StudyConfig,
    TrainSettings,
    default_data_dir,
)
from regsearch.errors import ConfigError, param


def parse_penalties(text: str) -> tuple[str, ...]:
    """Parse ``"l1,l2"`` into ``("l1", "l2")``; validation happens in :class:`SearchSpace`."""
    return tuple(p.strip() for p in text.split(",") if p.strip())


def parse_hidden(text: str) -> tuple[int, ...]:
    """Parse ``"256,128"`` into ``(256, 128)``."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(re.fullmatch(r"\d+", p) for p in parts):
        raise ConfigError(
            f"{param('hidden')} must be comma-separated positive layer widths like 256,128, "
            f"got {text!r}."
        )
    return tuple(int(p) for p in parts)


def parse_lr_range(text: str) -> tuple[float, ...]:
    """Parse ``"1e-4,1e-2"`` into ``(0.0001, 0.01)``; the range is checked by
    :class:`SearchSpace`."""
    try:
        return tuple(float(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise ConfigError(
            f"{param('lr_range')} must be two learning rates LOW,HIGH, got {text!r}. "
            f"Example: {param('lr_range')} 1e-4,1e-2"
        ) from None


@dataclass(frozen=True)
class Option:
    """One option of the study command.

    Attributes:
        name: the parameter, a field of the ``target`` object (or of the command itself).
        target: ``study`` (:class:`StudyConfig`), ``space`` (:class:`SearchSpace`), ``train``
            (:class:`TrainSettings`) or ``command`` (the command line's own, e.g. ``quiet``).
        parse: text -> value, for the flag and for a TOML string; ``None`` for a switch.
        listed: a tuple, given as comma-separated text on the command line (``parse`` splits
            it) or as a TOML list.
        in_files: may be a key of a ``--config`` file.
    """

    name: str
    help: str
    target: str = "study"
    parse: Callable[[str], Any] | None = str
    choices: tuple[str, ...] | None = None
    required: bool = False
    listed: bool = False
    in_files: bool = True
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return flag(self.name)


def flag(name: str) -> str:
    """The command-line flag of parameter ``name``: ``lambda_min`` -> ``--lambda-min``."""
    return "--" + name.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option(
        "config",
        "a TOML file of these options (keys as the long option names, e.g. lambda-min = 1e-6, "
        "hidden = [256, 128]); flags given here override it",
        target="command",
        in_files=False,
    ),
    Option("backend", "tf (Keras) or torch", choices=BACKENDS, required=True),
    Option("folds", "k of the stratified k-fold CV", parse=int),
    Option(
        "outer_folds",
        "nested cross-validation: run the whole search again inside each of K stratified outer "
        "folds (an inner study on its training part, stored as <study>-outer<i>of<K>) and score "
        "its refit on the held-out part, for an unbiased estimate of what the search achieves "
        "on unseen data; costs K more studies",
        parse=int,
        metavar="K",
    ),
    Option(
        "repeats",
        "repeat the k-fold partition R times, shuffled anew each time (RepeatedStratifiedKFold): "
        "every trial is scored on the same R x k splits, for a steadier score and a tighter "
        "comparison with the baseline, at R times the training",
        parse=int,
    ),
    Option(
        "trials",
        "finished trials the study should reach; a rerun adds only the missing ones",
        parse=int,
    ),
    Option(
        "timeout",
        "a time budget for this run's search, in seconds: no trial starts after it, the "
        "running ones finish, then the refit and the test run (with --trials: whichever "
        "ends first)",
        parse=float,
        metavar="SECONDS",
    ),
    Option(
        "timeout_hard",
        "with --timeout: also stop the running trials at their next epoch when the budget "
        "is spent (recorded as pruned, with the reason)",
        parse=None,
    ),
    Option(
        "penalties",
        "comma-separated penalty types the sampler may choose: l1, l2, l1_l2 (in the loss), "
        "weight_decay (decoupled, in the optimizer, as AdamW)",
        target="space",
        parse=parse_penalties,
        listed=True,
    ),
    Option(
        "lambda_min",
        "lower end of each lambda's log-uniform range (> 0)",
        target="space",
        parse=float,
    ),
    Option(
        "lambda_max", "upper end of each lambda's log-uniform range", target="space", parse=float
    ),
    Option(
        "decay_min",
        "lower end of the weight_decay's log-uniform range (> 0); the decay shrinks each weight "
        "by lr * weight_decay per step, so its useful values lie far above an l2 lambda's",
        target="space",
        parse=float,
    ),
    Option(
        "decay_max",
        "upper end of the weight_decay's log-uniform range",
        target="space",
        parse=float,
    ),
    Option(
        "dataset",
        "mnist, digits (scikit-learn's 8x8 digits, offline), a path to an .npz with x_train, "
        "y_train (and x_test, y_test), or a path to a CSV file with a header row (see --target)",
    ),
    Option("target", "a CSV dataset's label column (integers or class names)", metavar="COLUMN"),
    Option(
        "test_data",
        "a CSV dataset's test set: a second CSV file with the same columns",
        parse=Path,
        metavar="CSV",
    ),
    Option(
        "train_size",
        "train on a stratified sample of N of the training examples, drawn with --seed (the "
        "test set stays whole): a small-data study, where over-fitting, and so regularization, "
        "matters",
        parse=int,
        metavar="N",
    ),
    Option(
        "test_size",
        "for an .npz or CSV file without a test set: the stratified fraction of its examples "
        "held out as the test set, drawn with --seed (default 0.2)",
        parse=float,
        metavar="FRACTION",
    ),
    Option(
        "scale",
        "feature scaling fitted on each fold's training rows only (and on the whole training "
        "set for the refit), and built into the saved model: standard ((x - mean) / std), "
        "minmax ((x - min) / (max - min)) or none; auto: standard for tabular features, none "
        "for pixels",
        choices=SCALINGS,
    ),
    Option(
        "data_dir",
        f"folder with MNIST's IDX .gz files (flat or MNIST/raw); env {DATA_DIR_ENV}",
        parse=Path,
    ),
    Option(
        "model",
        "the network: mlp (Flatten, Dense ReLU layers of --hidden, Dense logits), cnn (two "
        "conv+pool blocks, Dense 128) or your own build(input_shape, n_classes) function as "
        "package.module:function or path/to/file.py:function",
        metavar="MODEL",
    ),
    Option(
        "epochs",
        "maximum epochs per fold (the cap); without it, 20 raised by --min-steps",
        target="train",
        parse=int,
    ),
    Option(
        "min_steps",
        "a floor on each fold's Adam steps: the epoch cap is raised to reach it on small data "
        "(0: the cap is --epochs exactly; the default is 0 where --epochs is given)",
        target="train",
        parse=int,
    ),
    Option("batch_size", "mini-batch size", target="train", parse=int),
    Option(
        "lr", "Adam learning rate (fixed; see --lr-range to search it)", target="train", parse=float
    ),
    Option(
        "lr_range",
        "search Adam's learning rate too, log-uniformly in LOW,HIGH (e.g. 1e-4,1e-2), the "
        "unregularized configuration's alike (instead of --lr; trains one trial at a time)",
        target="space",
        parse=parse_lr_range,
        listed=True,
        metavar="LOW,HIGH",
    ),
    Option(
        "hidden",
        "hidden layer widths of --model mlp, e.g. 256,128 for two layers",
        target="train",
        parse=parse_hidden,
        listed=True,
    ),
    Option(
        "patience",
        "epochs without a lower validation loss before a fold stops early",
        target="train",
        parse=int,
    ),
    Option(
        "device",
        "where models train: auto (a CUDA GPU when the framework sees one), cpu or cuda",
        choices=DEVICES,
    ),
    Option("seed", "one seed for folds, sampler and model initialisation", parse=int),
    Option(
        "pruner",
        "stop hopeless configurations: after a fold or two (median, hyperband, wilcoxon), or, "
        "where the folds train at once, after an epoch from 40%% of --epochs on (epochs: "
        "below the finished trials' median at that epoch); auto: epochs where the folds train "
        "at once, else median; none: score every fold fully",
        choices=PRUNERS,
    ),
    Option(
        "select",
        "which configuration to refit: best (highest mean CV accuracy) or one-se (the most "
        "strongly regularized within one standard error of the best)",
        choices=SELECTION_RULES,
    ),
    Option(
        "rope",
        "region of practical equivalence of the comparison with the baseline, in percentage "
        "points of CV accuracy: a gain whose corrected interval lies within +/-ROPE makes no "
        "practical difference",
        parse=float,
    ),
    Option(
        "threads",
        "threads of the framework's kernels per training process (default: the framework's "
        "own, the cores; with --workers, a share of them each)",
        parse=int,
    ),
    Option(
        "trial_batch",
        "trials sampled together (TPE with constant_liar) whose folds all train as one "
        "batched population, where the model's folds can train at once; needs --pruner epochs "
        "or none",
        parse=int,
    ),
    Option(
        "workers",
        "processes running trials at once on this machine, sharing the cores and the study "
        "(through --storage); the refit runs once, after all of them",
        parse=int,
    ),
    Option(
        "heartbeat_interval",
        "seconds between a running trial's heartbeats in the storage",
        parse=int,
    ),
    Option(
        "grace_period",
        "seconds without a heartbeat after which a running trial counts as dead: the next run "
        "marks it failed and retries its configuration once",
        parse=int,
    ),
    Option(
        "tensorboard",
        "write each fold's per-epoch losses, accuracies and penalty term for TensorBoard "
        "(tensorboard --logdir DIR)",
        parse=Path,
        metavar="DIR",
    ),
    Option(
        "dashboard",
        "after the refit, write the study's answer, note and figures for optuna-dashboard "
        "(--no-dashboard leaves them out)",
        parse=None,
    ),
    Option(
        "artifact_dir",
        "where the report's figures are stored as the study's artifacts for optuna-dashboard "
        "(optuna-dashboard STORAGE --artifact-dir DIR); default: an artifacts folder beside a "
        "SQLite storage, else ./studies/artifacts",
        parse=Path,
        metavar="DIR",
    ),
    Option(
        "quiet",
        "no progress bar and no line per trial; the set-up lines and the summary stay",
        target="command",
        parse=None,
    ),
    Option(
        "refit_only",
        "run no trials: refit and test the chosen configuration of the stored study now "
        "(taking over from a worker that claimed the refit and died)",
        parse=None,
        in_files=False,
    ),
    Option("storage", "Optuna storage URL"),
    Option(
        "study_name",
        "study name; by default <dataset>-<backend>, or <dataset>-<model>-<backend> for a "
        "model other than mlp",
    ),
)

TARGETS: dict[str, Any] = {"study": StudyConfig, "space": SearchSpace, "train": TrainSettings}
"""The objects options are fields of, by :attr:`Option.target`."""


def option_defaults() -> dict[str, Any]:
    """Every option's default, read from the config classes' own defaults."""
    study = StudyConfig(backend=BACKENDS[0])
    values: dict[str, Any] = {
        f.name: getattr(SearchSpace(), f.name) for f in fields(SearchSpace)
    } | {f.name: getattr(study.train, f.name) for f in fields(TrainSettings)}
    values |= {f.name: getattr(study, f.name) for f in fields(StudyConfig)}
    values["data_dir"] = default_data_dir()
    values |= {"backend": None, "config": None, "quiet": False}
    return values
