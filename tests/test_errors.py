"""One exception hierarchy; messages name parameters, and the command line its flags."""

from __future__ import annotations

import inspect

import pytest

from regsearch import errors
from regsearch.config import StudyConfig
from regsearch.options import flag


def test_every_error_has_the_one_base_and_an_exit_code():
    members = inspect.getmembers(errors, inspect.isclass)
    ours = [c for _, c in members if c.__module__ == errors.__name__]
    classes = [c for c in ours if not issubclass(c, Warning)]
    assert errors.RegsearchWarning in ours and issubclass(errors.RegsearchWarning, UserWarning)
    assert len(classes) >= 10
    for cls in classes:
        assert issubclass(cls, errors.RegsearchError), cls
    assert errors.ConfigError.exit_code == errors.DataError.exit_code == 2
    assert errors.StudyMismatch.exit_code == errors.BackendUnavailable.exit_code == 2
    assert errors.NothingToRefit.exit_code == errors.WorkerFailed.exit_code == 1
    assert errors.RefitElsewhere.exit_code == 0
    # The standard bases a caller may already catch still apply.
    assert issubclass(errors.ConfigError, ValueError)
    assert issubclass(errors.BackendUnavailable, ImportError)


def test_a_message_names_the_parameter_in_python_and_the_flag_on_the_command_line():
    with pytest.raises(errors.ConfigError) as info:
        StudyConfig(backend="torch", grace_period=30, heartbeat_interval=60)
    python = str(info.value)
    assert "`grace_period > heartbeat_interval` must hold" in python
    assert "(heartbeat_interval=60, grace_period=30)" in python
    assert "--" not in python
    assert "`--grace-period > --heartbeat-interval` must hold" in info.value.render(flag)


def test_unmarked_text_is_left_alone():
    error = errors.DataError("file {x}.npz: 50% of it, see --help")
    assert str(error) == error.render(flag) == "file {x}.npz: 50% of it, see --help"
