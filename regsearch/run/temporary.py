"""A study in a temporary SQLite file, for the estimators' in-memory studies: the workers,
the claims and the refit model need a database and a folder while the study runs; the study
is then copied into an in-memory Optuna storage and the file removed."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from regsearch import records


@contextlib.contextmanager
def study_storage(storage: str | None) -> Iterator[str]:
    """``storage``, or a temporary SQLite file (removed afterwards) for ``None``: the study's
    workers and claims need a database, and the refit model its folder."""
    if storage is not None:
        yield storage
        return
    folder = tempfile.mkdtemp(prefix="regsearch-")
    try:
        yield f"sqlite:///{Path(folder) / 'study.db'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def kept_study(study: Any, storage: Any, temporary: bool) -> Any:
    """The study, copied into an in-memory Optuna storage when its file is temporary (and
    the file's connections closed, as it is removed next)."""
    import optuna

    if not temporary:
        return study
    memory = optuna.storages.InMemoryStorage()
    optuna.copy_study(from_study_name=study.study_name, from_storage=storage, to_storage=memory)
    storage.engine.dispose()
    kept = optuna.load_study(study_name=study.study_name, storage=memory)
    refit = kept.user_attrs.get(records.REFIT)
    if refit:  # the model file goes with the folder; the model is the estimator's best_model_
        kept.set_user_attr(records.REFIT, {**refit, "model_path": None})
    return kept
