"""The study command's options, defined once: the table below feeds argparse, the keys of a
``--config`` TOML file, and :class:`~regsearch.config.StudyConfig`.

An option is named by its parameter (``lambda_min``); its flag is ``--lambda-min`` and its TOML
key ``lambda-min`` or ``lambda_min``. Defaults come from the config classes themselves, so the
command line and the Python API cannot drift apart.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
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
from regsearch.errors import EXIT_USAGE, ConfigError, param


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
        "penalties",
        "comma-separated penalty types the sampler may choose",
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
    Option("epochs", "maximum epochs per fold", target="train", parse=int),
    Option("batch_size", "mini-batch size", target="train", parse=int),
    Option("lr", "Adam learning rate", target="train", parse=float),
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
        "no progress bar and no line per trial; the summary only",
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

_TARGETS: dict[str, Any] = {"study": StudyConfig, "space": SearchSpace, "train": TrainSettings}


def _defaults() -> dict[str, Any]:
    """Every option's default, read from the config classes' own defaults."""
    values: dict[str, Any] = {
        f.name: getattr(SearchSpace(), f.name) for f in fields(SearchSpace)
    } | {f.name: getattr(TrainSettings(), f.name) for f in fields(TrainSettings)}
    study = StudyConfig(backend=BACKENDS[0])
    values |= {f.name: getattr(study, f.name) for f in fields(StudyConfig)}
    values["data_dir"] = default_data_dir()
    values |= {"backend": None, "config": None, "quiet": False}
    return values


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.required:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m regsearch.study",
        description=(
            "Search the penalty type (L1, L2, L1+L2) and strength of a network's weight "
            "regularization with Optuna, scoring each configuration by stratified k-fold "
            "cross-validation; then retrain the best on the whole training set and test it once."
        ),
        formatter_class=_HelpFormatter,
    )
    defaults = _defaults()
    for option in OPTIONS:
        if option.parse is None:  # a switch: --name, or --name/--no-name where on by default
            on = defaults[option.name] is True
            action = argparse.BooleanOptionalAction if on else "store_true"
            parser.add_argument(option.flag, action=action, default=on, help=option.help)
            continue
        default = defaults[option.name]
        parser.add_argument(
            option.flag,
            # A list is parsed with the config (its error then reads like every other).
            type=str if option.listed else option.parse,
            default=",".join(map(str, default)) if option.listed else default,
            choices=option.choices,
            required=option.required,
            metavar=option.metavar,
            help=option.help,
        )
    return parser


def read_config_file(path: str) -> dict[str, Any]:
    """The options of a TOML file as ``{parameter: value}``, converted as their flags are.

    Raises:
        ConfigError: unreadable file, invalid TOML, unknown keys (all named), a bad choice or
            a value of the wrong kind.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc.strerror}).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {path} is not valid TOML: {exc}.") from exc
    known = {o.name: o for o in OPTIONS if o.in_files}
    unknown = [key for key in data if key.replace("-", "_") not in known]
    if unknown:
        names = ", ".join(sorted(n.replace("_", "-") for n in known))
        raise ConfigError(
            f"--config {path} has unknown key(s): {', '.join(map(repr, unknown))}. "
            f"Known keys: {names}."
        )
    values: dict[str, Any] = {}
    for key, value in data.items():
        option = known[key.replace("-", "_")]
        if option.choices is not None and value not in option.choices:
            raise ConfigError(
                f"--config {path}: {key} must be one of {', '.join(option.choices)}, got {value!r}."
            )
        values[option.name] = _from_file(option, value)
    return values


def _from_file(option: Option, value: Any) -> Any:
    if option.listed and isinstance(value, list):
        return tuple(value)  # each item is checked by the config, as a flag's would be
    if option.parse is Path or (isinstance(value, str) and option.parse is not None):
        return option.parse(str(value))
    return value


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """Parse the command line over the values of ``--config``'s file, if given."""
    parser = build_parser()
    peek = argparse.ArgumentParser(add_help=False)
    peek.add_argument("--config")
    path = peek.parse_known_args(argv)[0].config
    if path is not None:
        try:
            values = read_config_file(path)
        except ConfigError as exc:
            parser.exit(EXIT_USAGE, f"{parser.prog}: error: {exc.render(flag)}\n")
        parser.set_defaults(**values)
        for action in parser._actions:
            if action.dest in values:
                action.required = False  # given by the file
    return parser, parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> StudyConfig:
    """The :class:`StudyConfig` of parsed options (the ``command`` ones stay behind)."""
    groups: dict[str, dict[str, Any]] = {target: {} for target in _TARGETS}
    for option in OPTIONS:
        if option.target in groups:
            value = getattr(args, option.name)
            if option.listed and isinstance(value, str) and option.parse is not None:
                value = option.parse(value)
            groups[option.target][option.name] = value
    return StudyConfig(
        **groups["study"],
        space=SearchSpace(**groups["space"]),
        train=TrainSettings(**groups["train"]),
    )


HOW_IT_RUNS: tuple[str, ...] = (
    "workers",
    "threads",
    "device",
    "trial_batch",
    "heartbeat_interval",
    "grace_period",
    "tensorboard",
    "refit_only",
    "artifact_dir",
    "dashboard",
)
"""Options that change how a study runs, never what it finds: left out of
:func:`command_line`."""


def command_line(config: StudyConfig) -> str:
    """The study command that runs (or resumes) ``config``'s study: every option that decides
    what it finds and differs from its default, then the storage and the study's name."""
    import shlex

    from regsearch.locations import redact_url
    from regsearch.models.spec import spec_text

    defaults = _defaults()
    values = {
        **{f.name: getattr(config.space, f.name) for f in fields(SearchSpace)},
        **{f.name: getattr(config.train, f.name) for f in fields(TrainSettings)},
        **{f.name: getattr(config, f.name) for f in fields(StudyConfig)},
    }
    words = ["python", "-m", "regsearch.study"]
    for option in OPTIONS:
        name = option.name
        if option.target == "command" or name in HOW_IT_RUNS or name in ("storage", "study_name"):
            continue
        value = values.get(name)
        if value is None or (value == defaults.get(name) and name != "backend"):
            continue
        if isinstance(value, tuple):
            value = ",".join(map(str, value))
        elif callable(value):
            value = spec_text(value)
        words += [option.flag, str(value)]
    words += ["--storage", redact_url(config.storage), "--study-name", config.name]
    return shlex.join(words)
