"""Every exception regsearch raises, under one base class.

Messages say what must hold, what was given and how to fix it. They name settings by their
parameter names (``lambda_min``), marked with :func:`param`; the command line shows the same
message with its flags instead (``--lambda-min``), through :meth:`RegsearchError.render`. So a
Python user is never told to pass a flag, and a command-line user never sees a Python name.
"""

from __future__ import annotations

import re
from collections.abc import Callable

EXIT_OK = 0
EXIT_FAILURE = 1
"""A run that failed (a storage, a worker, a refit); what is finished is kept."""
EXIT_USAGE = 2
"""Refused input: nothing was trained or stored (argparse's own status for a bad flag)."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C or SIGTERM: 128 + SIGINT, as shells report an interrupted program."""

_PARAM = re.compile(r"\x1d([a-z_]+)\x1d")  # ASCII group separator: never in a real message


def param(name: str) -> str:
    """Mark the setting ``name`` (a :class:`~regsearch.config.StudyConfig` field, or one of
    its ``space``/``train`` fields) in a message, to be shown as a parameter or as a flag."""
    return f"\x1d{name}\x1d"


def render(text: str, name_of: Callable[[str], str] = lambda name: name) -> str:
    """``text`` with each setting marked by :func:`param` written as ``name_of(parameter)``."""
    return _PARAM.sub(lambda match: name_of(match.group(1)), text)


class RegsearchWarning(UserWarning):
    """The study finished, but its answer looks meaningless (see :mod:`regsearch.cv.doubts`)."""


class RegsearchError(Exception):
    """Base of regsearch's errors; ``str(error)`` names settings as Python parameters."""

    exit_code = EXIT_FAILURE
    """The command line's exit status for this error: 2 for refused input, 1 for a failure."""

    def render(self, name_of: Callable[[str], str] = lambda name: name) -> str:
        """The message, each marked setting written as ``name_of(parameter)``."""
        return render(super().__str__(), name_of)

    def __str__(self) -> str:
        return self.render()


class InputError(RegsearchError):
    """Refused input: nothing was trained or stored."""

    exit_code = EXIT_USAGE


class ConfigError(InputError, ValueError):
    """A setting is invalid; the message says what must hold and how to fix it."""


class DataError(InputError, ValueError):
    """A data file is missing or malformed; the message names the file and what is wrong."""


class BackendUnavailable(InputError, ImportError):
    """The framework of the requested backend is not installed; the message has the fix."""


class ModelError(InputError, ValueError):
    """The model cannot be trained: it fails to load or build, builds the wrong kind of object,
    gives outputs of the wrong shape, or has no weight to penalize; the message names the model
    and what was wrong."""


class ArgumentError(InputError, ValueError):
    """A library function was given an argument it cannot take (the message says what must
    hold), e.g. a comparison of fewer than two paired splits."""


class StudyMismatch(InputError, ValueError):
    """A stored study was created with other settings; the message lists the differences."""


class RecordError(RegsearchError, ValueError):
    """A stored study lacks a record regsearch needs, or a record is not of regsearch's
    schema (:mod:`regsearch.records`): a study written by another tool, or by hand."""


class NothingToRefit(RegsearchError, RuntimeError):
    """Every trial diverged or was pruned, so no configuration can be retrained."""


class RefitError(RegsearchError, RuntimeError):
    """The refit diverged although the configuration's folds did not."""


class WorkerFailed(RegsearchError, RuntimeError):
    """A worker process exited with an error."""


class RefitElsewhere(RegsearchError, RuntimeError):
    """Another worker has claimed the refit of the chosen configuration (not an error: the
    command line exits 0)."""

    exit_code = EXIT_OK


class SurplusTrial(RegsearchError, RuntimeError):
    """A trial started by one worker too many; failed at once, never counted."""


class StorageFailed(RegsearchError, RuntimeError):
    """The storage stopped accepting reads or writes mid-run; the message has the database's
    own words, the fix, and what is kept."""
