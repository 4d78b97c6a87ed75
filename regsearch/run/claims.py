"""Who refits which trial of which study: an atomic claim row per study and trial, so that of
many workers finishing at the same moment exactly one refits."""

from __future__ import annotations

import contextlib
from datetime import datetime

import sqlalchemy
from optuna.storages import RDBStorage

from regsearch.records import worker_id

_REFIT_CLAIMS = sqlalchemy.Table(
    "regsearch_refit_claims",
    sqlalchemy.MetaData(),
    sqlalchemy.Column("study_name", sqlalchemy.String(512), primary_key=True),
    sqlalchemy.Column("trial_number", sqlalchemy.Integer, primary_key=True),
    sqlalchemy.Column("worker", sqlalchemy.String(256), nullable=False),
    sqlalchemy.Column("claimed_at", sqlalchemy.DateTime, nullable=False),
)
"""Who refits which trial of which study. Optuna has no compare-and-set for attributes, so the
database's primary key makes the claim atomic: of workers finishing at the same moment, exactly
one inserts the row (on SQLite, PostgreSQL and MySQL alike)."""


def claim_refit(storage: RDBStorage, study_name: str, trial_number: int) -> str | None:
    """Claim the refit of ``trial_number``; ``None`` when this process got it, else the
    ``worker`` that claimed it first."""
    engine = storage.engine
    # Another worker may create the table at the same moment: its error is harmless.
    with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError):
        _REFIT_CLAIMS.create(engine, checkfirst=True)
    row = {"study_name": study_name, "trial_number": trial_number}
    try:
        with engine.begin() as connection:
            connection.execute(
                _REFIT_CLAIMS.insert().values(**row, worker=worker_id(), claimed_at=datetime.now())
            )
        return None
    except sqlalchemy.exc.IntegrityError:
        with engine.connect() as connection:
            holder = connection.execute(
                sqlalchemy.select(_REFIT_CLAIMS.c.worker).where(
                    _REFIT_CLAIMS.c.study_name == study_name,
                    _REFIT_CLAIMS.c.trial_number == trial_number,
                )
            ).scalar()
        return str(holder)


def drop_refit_claim(storage: RDBStorage, study_name: str, trial_number: int) -> None:
    """Forget a claim (a refit that failed, or ``--refit-only`` taking over a dead worker's)."""
    engine = storage.engine
    if not sqlalchemy.inspect(engine).has_table(_REFIT_CLAIMS.name):
        return
    with engine.begin() as connection:
        connection.execute(
            _REFIT_CLAIMS.delete().where(
                _REFIT_CLAIMS.c.study_name == study_name,
                _REFIT_CLAIMS.c.trial_number == trial_number,
            )
        )


_SAMPLER_STREAMS = sqlalchemy.Table(
    "regsearch_sampler_streams",
    sqlalchemy.MetaData(),
    sqlalchemy.Column("study_name", sqlalchemy.String(512), primary_key=True),
    sqlalchemy.Column("stream", sqlalchemy.Integer, primary_key=True),
    sqlalchemy.Column("worker", sqlalchemy.String(256), nullable=False),
    sqlalchemy.Column("claimed_at", sqlalchemy.DateTime, nullable=False),
)
"""Which sampler stream each process that ran a study's trials took: 0 for the first, then
1, 2, ... Two processes never share one, whether started together or one after the other."""


def claim_sampler_stream(storage: RDBStorage, study_name: str) -> int:
    """The lowest sampler stream of ``study_name`` not taken yet, taken now for this process.

    The first process ever to run the study's trials gets 0 (its sampler seed is the study's
    seed, so one uninterrupted run is reproducible); a resumed run, or a worker beside it,
    gets the next, so no two processes propose the same sequence of configurations.
    """
    engine = storage.engine
    with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError):
        _SAMPLER_STREAMS.create(engine, checkfirst=True)
    column = _SAMPLER_STREAMS.c
    while True:
        with engine.connect() as connection:
            taken = connection.execute(
                sqlalchemy.select(sqlalchemy.func.max(column.stream)).where(
                    column.study_name == study_name
                )
            ).scalar()
        stream = 0 if taken is None else int(taken) + 1
        try:
            with engine.begin() as connection:
                connection.execute(
                    _SAMPLER_STREAMS.insert().values(
                        study_name=study_name,
                        stream=stream,
                        worker=worker_id(),
                        claimed_at=datetime.now(),
                    )
                )
            return stream
        except sqlalchemy.exc.IntegrityError:
            continue  # another process took it at the same moment: try the next
