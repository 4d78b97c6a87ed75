"""The option table (:mod:`regsearch.options`) rendered as the study command's argparse parser,
over the values of a ``--config`` file, and read back into a
:class:`~regsearch.config.StudyConfig`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from regsearch.cli.config_file import read_config_file
from regsearch.config import SearchSpace, StudyConfig, TrainSettings
from regsearch.errors import EXIT_USAGE, ConfigError, param
from regsearch.options import OPTIONS, TARGETS, flag, option_defaults


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
    defaults = option_defaults()
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
            default=",".join(map(str, default)) if option.listed and default else default,
            choices=option.choices,
            required=option.required,
            metavar=option.metavar,
            help=option.help,
        )
    return parser


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """Parse the command line over the values of ``--config``'s file, if given."""
    parser = build_parser()
    peek = argparse.ArgumentParser(add_help=False)
    peek.add_argument("--config")
    path = peek.parse_known_args(argv)[0].config
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = read_config_file(path)
        except ConfigError as exc:
            parser.exit(EXIT_USAGE, f"{parser.prog}: error: {exc.render(flag)}\n")
        parser.set_defaults(**values)
        for action in parser._actions:
            if action.dest in values:
                action.required = False  # given by the file
    args = parser.parse_args(argv)
    # Whether --lr was given, not defaulted: refused beside --lr-range (config_from_args).
    args.lr_given = _given("lr", argv, values)
    # An epoch count given is the cap: the step floor then applies only where asked for too.
    if _given("epochs", argv, values) and not _given("min_steps", argv, values):
        args.min_steps = 0
    return parser, args


def _given(name: str, argv: Sequence[str] | None, values: dict[str, Any]) -> bool:
    """Whether option ``name`` was given on the command line or in the ``--config`` file."""
    words = sys.argv[1:] if argv is None else list(argv)
    option = flag(name)
    return name in values or any(w == option or w.startswith(option + "=") for w in words)


def config_from_args(args: argparse.Namespace) -> StudyConfig:
    """The :class:`StudyConfig` of parsed options (the ``command`` ones stay behind).

    Raises:
        ConfigError: an invalid option, or ``--lr`` given beside ``--lr-range``.
    """
    if args.lr_range is not None and getattr(args, "lr_given", False):
        raise ConfigError(
            f"{param('lr')} and {param('lr_range')} both set the learning rate: "
            f"{param('lr')} fixes it, {param('lr_range')} searches it. Give one of them."
        )
    groups: dict[str, dict[str, Any]] = {target: {} for target in TARGETS}
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
