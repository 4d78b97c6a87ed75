"""The study command that runs (or resumes) a given study: what its note says to reproduce it."""

from __future__ import annotations

import shlex
from dataclasses import fields

from regsearch.config import SearchSpace, StudyConfig, TrainSettings
from regsearch.locations import redact_url
from regsearch.models.spec import spec_text
from regsearch.options.table import OPTIONS, option_defaults

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
    "timeout",
    "timeout_hard",
)
"""Options that change how a study runs, never what it finds: left out of
:func:`command_line`."""


def command_line(config: StudyConfig) -> str:
    """The study command that runs (or resumes) ``config``'s study: every option that decides
    what it finds and differs from its default, then the storage and the study's name."""
    defaults = option_defaults()
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
