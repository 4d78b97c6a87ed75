"""optuna-dashboard shows what regsearch stores: read back through its HTTP API."""

from __future__ import annotations

import json
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
