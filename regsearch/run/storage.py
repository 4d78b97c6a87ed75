"""The Optuna storage a study lives in: heartbeats, stale trials, drivers, failures in words."""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Sequence
from datetime import datetime, timedelta

import optuna
import sqlalchemy
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages._rdb import models as rdb_models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import TrialState

from regsearch.errors import ConfigError, param
from regsearch.locations import first_line_redacted, redact_url, sqlite_path


class HeartbeatRDBStorage(RDBStorage):
    """Optuna's RDB storage, whose stale-trial check also catches a worker killed before its
    trial's first heartbeat.

    Optuna skips RUNNING trials that have no heartbeat row, so a worker killed in the instant
    between creating a trial and its first heartbeat leaves that trial RUNNING forever (and
    regsearch, which counts RUNNING trials towards ``--trials`` so that workers do not
    overshoot, would stop one trial short). Such a trial counts as stale once it started more
    than the grace period ago.
    """

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        stale = super()._get_stale_trial_ids(study_id)
        grace = self.grace_period or 2 * (self.heartbeat_interval or 0)
        # datetime_start is the creating worker's local time (Optuna's convention).
        cutoff = datetime.now() - timedelta(seconds=grace)
        running = self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        for trial in running:
            started = trial.datetime_start
            if trial._trial_id in stale or started is None or started > cutoff:
                continue
            if not self._has_heartbeat(trial._trial_id):
                stale.append(trial._trial_id)
        return stale

    def _has_heartbeat(self, trial_id: int) -> bool:
        with _create_scoped_session(self.scoped_session) as session:
            return rdb_models.TrialHeartbeatModel.where_trial_id(trial_id, session) is not None

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        """Optuna's, except that a waiting (enqueued) trial is taken in one conditional
        ``UPDATE ... WHERE state = WAITING``. Optuna reads that the trial waits and then marks
        it running; SQLite does not lock the row in between, so two workers (processes) or two
        of Optuna's threads (``n_jobs``, as ``--trial-batch`` uses) could both take the
        baseline and run it twice, and the second to finish fails with "Cannot tell a COMPLETE
        trial". The database applies one such UPDATE at a time: exactly one taker changes the
        row."""
        if state != TrialState.RUNNING:
            return super().set_trial_state_values(trial_id, state, values)
        trial = rdb_models.TrialModel
        claim = (
            sqlalchemy.update(trial)
            .where(trial.trial_id == trial_id, trial.state == TrialState.WAITING)
            .values(state=TrialState.RUNNING, datetime_start=datetime.now())
            .execution_options(synchronize_session=False)
        )
        with _create_scoped_session(self.scoped_session) as session:
            taken = session.execute(claim).rowcount == 1  # type: ignore[attr-defined]
        # Not waiting: Optuna's own answer (False when running, an error when finished).
        return taken or super().set_trial_state_values(trial_id, state, values)


_DRIVER_PACKAGES = {
    "MySQLdb": "mysqlclient (or use a mysql+pymysql:// URL with: pip install PyMySQL)",
    "pymysql": "PyMySQL",
    "psycopg": "'regsearch[postgres]'",
    "psycopg2": "psycopg2-binary (or use a postgresql+psycopg:// URL with: "
    "pip install 'regsearch[postgres]')",
    "pg8000": "pg8000",
    "oracledb": "oracledb",
    "pyodbc": "pyodbc",
}


def check_storage_url(url: str) -> None:
    """Refuse a URL SQLAlchemy cannot read, or whose database driver is not installed, before
    anything else runs (Optuna would only say "install appropriate one").

    Raises:
        ConfigError: with the install command for a missing driver.
    """
    try:
        dialect = sqlalchemy.engine.make_url(url).get_dialect()
    except Exception as exc:  # ArgumentError, NoSuchModuleError: not a database URL
        raise ConfigError(
            f"cannot open the storage {redact_url(url)}: {first_line_redacted(str(exc), url)}. "
            f"{param('storage')} takes an Optuna RDB URL such as sqlite:///studies/regsearch.db "
            "or postgresql+psycopg://user@host/db."
        ) from exc
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        module = (exc.name or "").split(".")[0] or str(exc)
        package = _DRIVER_PACKAGES.get(module, module)
        raise ConfigError(
            f"the storage {redact_url(url)} needs the database driver {module!r}, which is not "
            f"installed. Install it with: pip install {package}"
        ) from exc


def open_storage(
    url: str, heartbeat_interval: int = 60, grace_period: int = 180
) -> HeartbeatRDBStorage:
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
    for _attempt in range(SCHEMA_RACE_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                # Heartbeats are documented but still flagged experimental by Optuna.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return HeartbeatRDBStorage(
                    url,
                    engine_kwargs=_engine_kwargs(url),
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
                )
        except Exception as exc:  # SQLAlchemy raises many types; the user needs one message
            error = exc
            if not _lost_schema_race(exc):
                break
            # Workers starting together on an empty database all create Optuna's tables;
            # all but one fail with "already exists": the tables are there, so try again.
            time.sleep(0.2 + random.random())
    raise ConfigError(
        f"cannot open the storage {redact_url(url)}: {type(error).__name__}: "
        f"{first_line_redacted(str(error), url)}. {param('storage')} takes an Optuna RDB URL "
        "such as sqlite:///studies/regsearch.db or postgresql://user@host/db."
    ) from error


def _lost_schema_race(exc: Exception) -> bool:
    """Whether ``exc`` is another worker having created Optuna's schema first (SQLite says
    "table ... already exists" or "UNIQUE constraint failed: alembic_version...", PostgreSQL
    "duplicate key value ... pg_type_typname_nsp_index")."""
    if not isinstance(exc, sqlalchemy.exc.DBAPIError):
        return False
    text = str(exc).lower()
    return any(s in text for s in ("already exists", "duplicate key", "unique constraint"))


SCHEMA_RACE_ATTEMPTS = 5
"""Tries to open a storage whose tables other workers are creating at the same moment."""


CONNECT_TIMEOUT_S = 10
"""How long a database server may take to accept a connection before the run gives up."""


def _engine_kwargs(url: str) -> dict[str, object]:
    """A connect timeout for server databases: an unreachable host otherwise hangs for the
    operating system's TCP timeout (minutes) before anything is said."""
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme in ("postgresql", "mysql"):
        return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}}
    return {}


_STORAGE_HINTS = (
    ("disk is full", "free space on the disk that holds it"),
    ("disk i/o error", "check the disk that holds it (full, removed or failing)"),
    ("readonly database", "make the database file and its folder writable"),
    ("read-only", "make the database file and its folder writable"),
    (
        "database is locked",
        f"fewer processes should write to one SQLite file at once: use fewer {param('workers')}, "
        "or a PostgreSQL storage for many workers",
    ),
)


def describe_storage_failure(exc: BaseException, url: str) -> str:
    """One paragraph for a storage that stopped accepting reads or writes mid-run: the
    database's own words (Optuna wraps them in a generic message), what to do, what is safe."""
    cause: BaseException | None = exc
    words = ""
    while cause is not None:  # the innermost error has the database's own message
        words = first_line_redacted(str(cause), url) or words
        cause = cause.__cause__ or cause.__context__
    hint = next(
        (fix for key, fix in _STORAGE_HINTS if key in words.lower()), "check that it is reachable"
    )
    return (
        f"the storage {redact_url(url)} failed during the run: {words}. Fix: {hint}, then rerun "
        "the same command to resume. The finished trials are stored and unchanged; the trial "
        "that was running is recorded as failed (if the storage could not take even that, by "
        f"the first run after its heartbeat is older than {param('grace_period')}) and retried."
    )


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
