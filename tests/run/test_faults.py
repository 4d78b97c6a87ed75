"""Fault injection with real processes: Ctrl-C in the middle of a fold."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from regsearch import records
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


def slow_digits_study(backend: str, storage: str, *extra: str) -> list[str]:
    """A study command whose folds run long enough (30 epochs, no early stop) to be hit."""
    return [
        *(sys.executable, "-m", "regsearch.study", "--backend", backend, "--dataset", "digits"),
        *("--folds", "3", "--trials", "4", "--epochs", "30", "--patience", "30"),
        *("--pruner", "none", "--storage", storage, *extra),
    ]


def wait_for_heartbeat(db_file: Path, timeout: float = 60) -> None:
    """Poll the SQLite file until every RUNNING trial has a heartbeat row."""
    query = (
        "SELECT COUNT(*) FROM trials t LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id "
        "WHERE t.state = 'RUNNING' AND h.trial_id IS NULL"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(db_file, timeout=10)) as db:
            if db.execute(query).fetchone()[0] == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"the running trial wrote no heartbeat within {timeout} s")


def wait_for_running_trial(storage: str, name: str, after: int, timeout: float = 120) -> None:
    """Poll the storage until trial number ``after`` or later is RUNNING and training: its
    penalty is sampled (a kill before that leaves nothing to retry but an empty trial)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            study = optuna.load_study(study_name=name, storage=storage)
            if any(
                t.state == TrialState.RUNNING and t.number >= after and "penalty" in t.user_attrs
                for t in study.trials
            ):
                return
        except KeyError:  # not created yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"no trial >= {after} started within {timeout} s")


@pytest.mark.parametrize(
    ("backend", "signum"),
    [("tf", signal.SIGINT), ("torch", signal.SIGINT), ("torch", signal.SIGTERM)],
)
def test_ctrl_c_during_a_fold_loses_nothing_and_the_rerun_completes(backend, signum, tmp_path):
    """SIGINT (Ctrl-C) and SIGTERM (a scheduler's stop) end the run the same clean way."""
    storage = f"sqlite:///{tmp_path}/int.db"
    name = f"digits-{backend}"
    command = slow_digits_study(backend, storage)
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
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 15  # prompt
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert f"Interrupted: {len(finished_before)} of 4 trials of {name!r} are finished" in err
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


@pytest.mark.parametrize("backend", ["tf", "torch"])
def test_sigkill_orphan_is_failed_and_its_configuration_retried(backend, tmp_path):
    storage = f"sqlite:///{tmp_path}/kill.db"
    name = f"digits-{backend}"
    command = slow_digits_study(
        backend, storage, "--heartbeat-interval", "1", "--grace-period", "3"
    )
    proc = subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for_running_trial(storage, name, after=1)
    # Optuna treats a RUNNING trial as stale only once it has a heartbeat row, so kill it
    # mid-fold, after its heartbeat thread has written one (not in the instant of creation).
    wait_for_heartbeat(tmp_path / "kill.db")
    proc.kill()  # SIGKILL: no chance to clean up
    proc.wait()
    before = optuna.load_study(study_name=name, storage=storage).trials
    killed = next(t for t in before if t.state == TrialState.RUNNING)
    finished_before = {t.number: t.value for t in before if t.state == TrialState.COMPLETE}

    time.sleep(4)  # past the grace period
    rerun = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"Trial(s) {killed.number} were left running" in rerun.stdout

    study = optuna.load_study(study_name=name, storage=storage)
    assert study.trials[killed.number].state == TrialState.FAIL
    retry = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
    assert retry[0].params == killed.params
    finished_folds = [i for i in range(3) if f"split{i}_test_accuracy" in killed.user_attrs]
    assert records.attrs(retry[0])["reused_folds"] == finished_folds
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 4
    assert all(study.trials[n].value == v for n, v in finished_before.items())
    assert not study.get_trials(states=(TrialState.RUNNING,))


@pytest.fixture
def small_disk(tmp_path):
    """A 400 KiB tmpfs (needs the right to mount; skipped otherwise)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): " + mounted.stderr.decode())
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fake_study(storage: str, trials: int) -> list[str]:
    # The dashboard's figures go beside the small disk: it is for the database's faults.
    artifacts = str(Path(storage.removeprefix("sqlite:///")).parent.parent / "artifacts")
    return [
        *("--backend", "torch", "--dataset", "digits", "--trials", str(trials)),
        *("--epochs", "50", "--pruner", "none", "--storage", storage),
        *("--artifact-dir", artifacts),
    ]


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_full_or_read_only_disk_ends_with_a_message_and_keeps_finished_trials(
    fault, small_disk, capsys, monkeypatch
):
    from regsearch.study import main
    from regsearch.testing import FakeBackend

    monkeypatch.setattr("regsearch.run.session.get_backend", lambda name: FakeBackend())
    storage = f"sqlite:///{small_disk}/s.db"
    if fault == "read-only":
        # A finished study, written by another process (this one would keep the file open and
        # the disk busy), then the disk turns read-only.
        subprocess.run(
            [sys.executable, "-m", "tests.fake_cli", *fake_study(storage, 3)],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    before = {}
    if fault == "read-only":
        stored = optuna.load_study(study_name="digits-torch", storage=storage)
        before = {t.number: (t.state, t.user_attrs) for t in stored.trials}
    capsys.readouterr()
    code = main(fake_study(storage, 500))  # 500 trials do not fit in 400 KiB
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    words = "database or disk is full" if fault == "full" else "attempt to write a readonly"
    assert f"failed during the run: {words}" in err
    assert "rerun the same command to resume" in err
    study = optuna.load_study(study_name="digits-torch", storage=storage)  # still readable
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) >= 3
    for trial in complete:  # every finished trial has all its records
        assert all(f"split{i}_test_accuracy" in trial.user_attrs for i in range(5))
    for number, (state, attrs) in before.items():
        assert (study.trials[number].state, study.trials[number].user_attrs) == (state, attrs)


def test_a_killed_trials_finished_folds_are_reused_by_its_retry(tmp_path):
    """The stretch goal of the SIGKILL promise: a crash costs at most the fold in progress."""
    storage = f"sqlite:///{tmp_path}/reuse.db"
    command = [
        *(sys.executable, "-m", "tests.fake_cli", "--backend", "torch", "--dataset", "digits"),
        *("--folds", "4", "--trials", "3", "--epochs", "3", "--pruner", "none"),
        *("--storage", storage, "--heartbeat-interval", "1", "--grace-period", "2", "--quiet"),
    ]
    env = {**os.environ, "REGSEARCH_FAKE_FIT_SECONDS": "0.6"}
    proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    killed = None
    while killed is None and time.monotonic() < deadline:
        time.sleep(0.1)
        with contextlib.suppress(KeyError):
            for trial in optuna.load_study(study_name="digits-torch", storage=storage).trials:
                done = [k for k in trial.user_attrs if k.endswith("_test_accuracy")]
                if trial.state == TrialState.RUNNING and trial.number == 1 and len(done) == 2:
                    proc.kill()
                    killed = trial
    proc.wait()
    assert killed is not None, "trial 1 never reached its third fold"
    time.sleep(3)  # past the grace period
    rerun = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    study = optuna.load_study(study_name="digits-torch", storage=storage)
    killed = study.trials[killed.number]  # as stored at the kill (the process died)
    retry = next(t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number)
    assert retry.state == TrialState.COMPLETE and retry.params == killed.params
    assert records.attrs(retry)["reused_folds"] == [0, 1]
    for i in (0, 1):
        for key in ("test_accuracy", "fit_time", "history"):
            assert (
                records.attrs(retry)[f"split{i}_{key}"] == records.attrs(killed)[f"split{i}_{key}"]
            )
    assert all(f"split{i}_test_accuracy" in retry.user_attrs for i in (2, 3))
