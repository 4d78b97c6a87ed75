"""optuna-dashboard shows what regsearch stores: read back through its HTTP API."""

from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("optuna-dashboard") is None,
    reason="optuna-dashboard is not installed: pip install 'regsearch[dashboard]'",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def attrs(serialized: list[dict]) -> dict[str, str]:
    return {a["key"]: a["value"] for a in serialized}


def test_dashboard_serves_the_study_its_config_and_per_fold_scores(finished_fake_study):
    storage, name = finished_fake_study
    port = free_port()
    server = subprocess.Popen(
        ["optuna-dashboard", storage, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/api"
        studies = get_json(f"{base}/studies")["study_summaries"]
        study = next(s for s in studies if s["study_name"] == name)
        detail = get_json(f"{base}/studies/{study['study_id']}")
        study_attrs = attrs(detail["user_attrs"])
        assert '"folds": 4' in study_attrs["config"] and "refit" in study_attrs
        trials = detail["trials"]
        assert len(trials) == 10
        baseline, second = trials[0], trials[1]
        assert attrs(baseline["user_attrs"])["baseline"] == "True"
        assert {p["name"] for p in second["params"]} in (
            {"penalty", "l1"},
            {"penalty", "l2"},
            {"penalty", "l1", "l2"},
        )
        fold_keys = {k for k in attrs(second["user_attrs"]) if k.endswith("_test_accuracy")}
        assert {f"split{i}_test_accuracy" for i in range(4)} <= fold_keys
        assert 0 < float(attrs(second["user_attrs"])["split0_test_accuracy"]) <= 1
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_optuna_trials_prints_lines_a_terminal_can_show(finished_fake_study):
    """The per-fold histories and details are system attributes: ``optuna trials`` (which
    prints user attributes) shows the scores only."""
    storage, name = finished_fake_study
    out = subprocess.run(
        ["optuna", "trials", "--storage", storage, "--study-name", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    widths = [len(line) for line in out.splitlines()]
    assert len(widths) > 10 and max(widths) < 600, max(widths)
    assert "split3_test_accuracy" in out and "history" not in out


def test_the_study_is_published_for_the_dashboard_and_a_rerun_replaces_it(tmp_path):
    import optuna
    from optuna_dashboard._note import get_note_from_system_attrs

    from regsearch import StudyConfig, TrainSettings, run_study
    from regsearch.testing import FakeBackend, synthetic_dataset

    config = StudyConfig(
        backend="torch",
        folds=3,
        trials=4,
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        study_name="shown",
        train=TrainSettings(epochs=3),
    )
    said: list[str] = []
    run_study(config, backend=FakeBackend(), dataset=synthetic_dataset(), log=said.append)
    assert any("figures stored as the study's artifacts" in line for line in said)
    study = optuna.load_study(study_name="shown", storage=config.storage)
    assert next(iter(study.user_attrs)) == "answer"  # listed first on the study page
    assert study.user_attrs["answer"].startswith("Chosen:")
    assert study.metric_names == ["CV accuracy"]
    system = study._storage.get_study_system_attrs(study._study_id)
    body = get_note_from_system_attrs(system, None)["body"]
    assert body.startswith("# Answer:") and "## Reproduce" in body
    assert "python -m regsearch.study --backend torch --folds 3 --trials 4" in body
    for line in body.split("```")[-2].splitlines():  # wrapped, but an option keeps its value
        assert len(line) <= 80 or len(shlex.split(line.rstrip(" \\"))) <= 2, line
    figures = tmp_path / "artifacts"
    first = sorted(p.name for p in figures.iterdir())
    assert len(first) >= 5 and body.count("](/artifacts/") == len(first)

    # A resumed run publishes again: the old figures are gone from the store and the study.
    config = dataclasses.replace(config, trials=5)
    run_study(config, backend=FakeBackend(), dataset=synthetic_dataset())
    second = sorted(p.name for p in figures.iterdir())
    assert len(second) == len(first) and not set(first) & set(second)
    system = study._storage.get_study_system_attrs(study._study_id)
    live = [k for k, v in system.items() if k.startswith("artifacts:") and v != "null"]
    assert len(live) == len(second)


def test_figures_that_cannot_be_written_are_said_and_the_note_is_kept(tmp_path):
    from regsearch import StudyConfig, TrainSettings, run_study
    from regsearch.testing import FakeBackend, synthetic_dataset

    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    config = StudyConfig(
        backend="torch",
        folds=3,
        trials=3,
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        artifact_dir=blocked,
        train=TrainSettings(epochs=2),
    )
    said: list[str] = []
    result = run_study(config, backend=FakeBackend(), dataset=synthetic_dataset(), log=said.append)
    assert any("could not be written to" in line for line in said), said
    assert result.study.user_attrs["answer"].startswith("Chosen:")


def test_no_dashboard_leaves_the_note_and_figures_out(tmp_path):
    from regsearch import run_study
    from regsearch.testing import FakeBackend, synthetic_dataset
    from tests.conftest import fake_study_config

    config = fake_study_config(tmp_path, dashboard=False)
    result = run_study(config, backend=FakeBackend(), dataset=synthetic_dataset())
    assert result.study.user_attrs["answer"].startswith("not yet")
    assert not (tmp_path / "artifacts").exists()
