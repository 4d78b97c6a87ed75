"""The study's answer where optuna-dashboard users look: its study page.

After the refit, :func:`publish` writes the study's note (optuna-dashboard's ``save_note``:
the answer first, how to read the page, the commands to reproduce it; the text is
:mod:`regsearch.present.note`'s) and uploads the report's figures as study artifacts (Optuna's
``FileSystemArtifactStore``), so that

    optuna-dashboard sqlite:///studies/regsearch.db --artifact-dir studies/artifacts

shows both on the study page. A rerun replaces them: the figures regsearch uploaded before are
removed from the store and the study, and the note gets a new version.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import optuna

from regsearch import records
from regsearch.config import DEFAULT_ROPE_PP, StudyConfig
from regsearch.locations import default_artifact_dir
from regsearch.options import command_line
from regsearch.present.figures import write_report
from regsearch.present.note import FIGURE_FILES, answer, note
from regsearch.present.text import next_commands

ARTIFACT_PREFIX = "artifacts:"
"""Optuna's system-attribute prefix of a study artifact's metadata."""


def show_on_dashboard(
    study: optuna.Study,
    config: StudyConfig,
    log: Callable[[str], None],
    reproduce: Sequence[str] | None = None,
) -> None:
    """:func:`publish` ``study``'s note and figures in ``config.artifact_dir`` or beside the
    study, saying what was done; ``reproduce``: the commands the note gives (default: the
    study command, inspect, report and the dashboard)."""
    folder = config.artifact_dir or default_artifact_dir(config.storage)
    if reproduce is None:
        reproduce = [command_line(config), *next_commands(config, study.study_name)]
    for line in publish(study, Path(folder), reproduce, config.rope):
        log(line)


def publish(
    study: optuna.Study,
    artifact_dir: Path,
    reproduce: Sequence[str],
    rope_pp: float = DEFAULT_ROPE_PP,
) -> list[str]:
    """Write the study's one-line answer (:data:`records.ANSWER`) and note, and upload its
    figures to ``artifact_dir``; returns sentences saying what was done or skipped
    (optuna-dashboard or matplotlib not installed). ``rope_pp``: the comparison's region of
    practical equivalence."""
    said = []
    study.set_user_attr(records.ANSWER, answer(study, rope_pp))
    try:
        uploaded = _upload_figures(study, artifact_dir)
    except OSError as exc:  # a full or read-only disk: the study itself is complete
        uploaded = {}
        said.append(
            f"No figures for optuna-dashboard: they could not be written to {artifact_dir} "
            f"({exc.strerror or exc}); the study is complete. Free space there, or name "
            "another folder with --artifact-dir, and rerun to add them."
        )
    if uploaded is None:
        said.append("No figures for optuna-dashboard: pip install 'regsearch[report]'.")
    elif uploaded:
        said.append(
            f"optuna-dashboard: {len(uploaded)} figures stored as the study's artifacts in "
            f"{artifact_dir}."
        )
    try:
        from optuna_dashboard import save_note
    except ModuleNotFoundError:
        said.append("No optuna-dashboard note: pip install 'regsearch[dashboard]'.")
        return said
    save_note(study, note(study, uploaded or {}, reproduce, rope_pp))
    return said


def _upload_figures(study: optuna.Study, artifact_dir: Path) -> dict[str, str] | None:
    """Draw the report's figures and upload them, replacing those uploaded before; the
    file names uploaded with their artifact ids, or ``None`` without matplotlib."""
    try:
        import matplotlib  # noqa: F401
    except ModuleNotFoundError:
        return None
    from optuna.artifacts import FileSystemArtifactStore, upload_artifact

    artifact_dir.mkdir(parents=True, exist_ok=True)
    store = FileSystemArtifactStore(str(artifact_dir))
    _remove_figures(study, store)
    uploaded = {}
    with tempfile.TemporaryDirectory(prefix="regsearch-figures-") as folder:
        write_report(study, Path(folder))
        for name in FIGURE_FILES:
            path = Path(folder) / name
            if path.is_file():
                with _experimental_quiet():
                    uploaded[name] = upload_artifact(
                        artifact_store=store,
                        file_path=str(path),
                        study_or_trial=study,
                        mimetype="image/png",
                    )
    return uploaded


def _remove_figures(study: optuna.Study, store: Any) -> None:
    """Remove the figures uploaded by an earlier run, as optuna-dashboard's own delete
    does: the file from the store, the metadata from the study (set to ``null``)."""
    from optuna.artifacts.exceptions import ArtifactNotFound

    storage = study._storage
    for key, value in storage.get_study_system_attrs(study._study_id).items():
        if not key.startswith(ARTIFACT_PREFIX) or value is None:
            continue
        meta = json.loads(value) if isinstance(value, str) else value
        if not isinstance(meta, dict) or meta.get("filename") not in FIGURE_FILES:
            continue
        with contextlib.suppress(ArtifactNotFound):  # removed by hand, or stored elsewhere
            store.remove(meta["artifact_id"])
        storage.set_study_system_attr(study._study_id, key, json.dumps(None))


@contextlib.contextmanager
def _experimental_quiet() -> Iterator[None]:
    """Optuna's ExperimentalWarning for artifacts held back: they are documented, and a user
    cannot act on the warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield
