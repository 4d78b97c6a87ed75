"""The study command's options, defined once (:mod:`regsearch.options.table`), and the command
line that reproduces a study (:mod:`regsearch.options.command_line`); rendered into argparse
and TOML keys by :mod:`regsearch.cli`."""

from regsearch.options.command_line import HOW_IT_RUNS, command_line
from regsearch.options.table import (
    OPTIONS,
    TARGETS,
    Option,
    flag,
    option_defaults,
    parse_hidden,
    parse_penalties,
)

__all__ = [
    "HOW_IT_RUNS",
    "OPTIONS",
    "TARGETS",
    "Option",
    "command_line",
    "flag",
    "option_defaults",
    "parse_hidden",
    "parse_penalties",
]
