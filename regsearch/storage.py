"""Where a study lives: the Optuna storage, its artifacts folder, and URLs safe to print."""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from regsearch.config import ConfigError

_SECRET_KEYS = {"password", "passwd", "pwd", "secret", "token"}


def redact_url(url: str) -> str:
    """``url`` with its password masked as ``***``, in the netloc and in query parameters
    (SQLAlchemy's own masking misses ``?password=``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable storage URL>"
    if "@" not in parts.netloc and not parts.query:
        return url  # nothing to hide; urlunsplit would also turn sqlite://// into sqlite://
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if k.lower() in _SECRET_KEYS else v) for k, v in pairs], safe="*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL, or ``None`` for other storages."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def open_storage(
    url: str, heartbeat_interval: int = 60, grace_period: int = 180
) -> optuna.storages.BaseStorage:
    """An Optuna RDB storage for ``url``, with heartbeats so a killed worker's trial is failed
    (and retried once, the retry's ``system_attrs["failed_trial"]`` naming it) by the next run
    instead of staying RUNNING forever: a RUNNING trial whose worker sent no heartbeat for
    ``grace_period`` seconds counts as dead; a live worker beats every ``heartbeat_interval``.

    A SQLite file's folder is created if missing.

    Raises:
        ConfigError: the URL is not one SQLAlchemy understands or the database is unreachable.
    """
    db_file = sqlite_path(url)
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            # Heartbeats are documented but still flagged experimental by Optuna.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                url,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
            )
    except Exception as exc:  # SQLAlchemy raises many types; the user needs one message
        raise ConfigError(
            f"cannot open the storage {redact_url(url)}: {type(exc).__name__}: "
            f"{_first_line(str(exc), url)}. --storage takes an Optuna RDB URL such as "
            "sqlite:///studies/regsearch.db or postgresql://user@host/db."
        ) from exc


def _first_line(text: str, url: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line.replace(url, redact_url(url))


def fail_stale_trials(study: optuna.Study) -> list[int]:
    """Mark trials whose worker stopped sending heartbeats as failed (and retry them once);
    returns their numbers.

    Optuna does this only when a live worker starts another trial, so regsearch also sweeps at
    the start and the end of every run.
    """
    states = (TrialState.RUNNING,)
    running = {t.number for t in study.get_trials(deepcopy=False, states=states)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    return sorted(t.number for t in failed if t.number in running)


def artifacts_dir(url: str) -> Path:
    """Where saved models go: beside a SQLite file, else ``./studies``."""
    db_file = sqlite_path(url)
    return db_file.parent if db_file is not None else Path("studies")


def safe_file_stem(name: str) -> str:
    """A file name for a study name that cannot leave its folder (``../``, slashes, odd
    characters); names changed by this get a short hash so two studies never collide."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-") or "study"
    if stem != name:
        stem += "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return stem[:120]
