"""Fault injection with real processes: Ctrl-C in the middle of a fold."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


def wait_for_running_trial(storage: str, name: str, after: int, timeout: float = 120) -> None:
    """Poll the storage until trial number ``after`` or later is RUNNING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            study = optuna.load_study(study_name=name, storage=storage)
            if any(t.state == TrialState.RUNNING and t.number >= after for t in study.trials):
                return
        except KeyError:  # not created yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"no trial >= {after} started within {timeout} s")


@pytest.mark.parametrize("backend", ["tf", "torch"])
def test_ctrl_c_during_a_fold_loses_nothing_and_the_rerun_completes(backend, tmp_path):
    storage = f"sqlite:///{tmp_path}/int.db"
    name = f"digits-{backend}"
    command = [
        sys.executable,
        "-m",
        "regsearch.study",
        "--backend",
        backend,
        "--dataset",
        "digits",
        "--folds",
        "3",
        "--trials",
        "4",
        "--epochs",
        "30",
        "--patience",
        "30",
        "--pruner",
        "none",
        "--storage",
        storage,
    ]
    proc = subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_for_running_trial(storage, name, after=1)
    finished_before = {
        t.number: (t.value, t.user_attrs)
        for t in optuna.load_study(study_name=name, storage=storage).trials
        if t.state == TrialState.COMPLETE
    }
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 15  # prompt
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert f"Interrupted: {len(finished_before)} of 4 trials are finished" in err
    assert "rerun the same command to resume" in err

    study = optuna.load_study(study_name=name, storage=storage)
    states = [t.state for t in study.trials]
    assert TrialState.RUNNING not in states and states.count(TrialState.FAIL) == 1
    for number, (value, attrs) in finished_before.items():
        assert study.trials[number].value == value and study.trials[number].user_attrs == attrs

    rerun = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    study = optuna.load_study(study_name=name, storage=storage)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 4 and "refit" in study.user_attrs
