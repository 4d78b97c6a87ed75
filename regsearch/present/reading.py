"""Opening a stored study for reading only: nothing is created, swept or written."""

from __future__ import annotations

from typing import Any

import optuna

from regsearch.config import DEFAULT_STORAGE
from regsearch.errors import ConfigError
from regsearch.locations import first_line_redacted, redact_url, sqlite_path
from regsearch.present.tables import printable


def open_for_reading(url: str) -> Any:
    """An Optuna storage for ``url`` that never creates anything: a missing SQLite file is an
    error, not a new empty database."""
    db_file = sqlite_path(url)
    if db_file is not None and not db_file.is_file():
        raise ConfigError(
            f"no study database at {db_file}: --storage must name an existing file "
            f"(the study command's default is {DEFAULT_STORAGE})."
        )
    try:
        return optuna.storages.RDBStorage(url, skip_compatibility_check=False)
    except Exception as exc:  # SQLAlchemy raises many types; one message is enough
        raise ConfigError(
            f"cannot open the storage {redact_url(url)}: {type(exc).__name__}: "
            f"{first_line_redacted(str(exc), url)}"
        ) from exc


def load_study_for_reading(url: str, name: str) -> optuna.Study:
    """The study ``name`` of the storage at ``url``, read-only (see :func:`open_for_reading`).

    Raises:
        ConfigError: no such storage or study; the message lists the studies there are.
    """
    storage = open_for_reading(url)
    names = optuna.get_all_study_names(storage)
    if name not in names:
        raise ConfigError(
            f"no study named {printable(name)!r} in {redact_url(url)}; it holds: "
            f"{', '.join(repr(printable(n)) for n in names) or 'none'}. List them with "
            f"python -m regsearch.inspect --storage {redact_url(url)}"
        )
    return optuna.load_study(study_name=name, storage=storage)
