"""Several worker processes on one study through a real PostgreSQL server.

``.ci/run`` starts a throwaway server and sets ``REGSEARCH_TEST_POSTGRES``; without it these
tests are skipped. The workers are real processes running the study command with the fake
backend (``tests.fake_cli``), each fold made slow enough to be caught in the middle.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import optuna
import pytest
from optuna.trial import TrialState

from regsearch import records
from tests.conftest import PROJECT_ROOT

URL = os.environ.get("REGSEARCH_TEST_POSTGRES")
pytestmark = pytest.mark.skipif(
    not URL,
    reason="no PostgreSQL server configured: set REGSEARCH_TEST_POSTGRES to a "
    "postgresql:// URL (.ci/run starts one)",
)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
WORK_DIR = tempfile.mkdtemp(prefix="regsearch-workers-")


@pytest.fixture
def empty_database():
    """A new, empty database on the test server (workers then race to create Optuna's
    tables); dropped afterwards. Yields its URL."""
    import sqlalchemy

    name = f"regsearch_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    yield URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def worker(
    name: str, *extra: str, fit_seconds: float = 0.05, url: str | None = None
) -> subprocess.Popen:
    command = [
        *(sys.executable, "-m", "tests.fake_cli", "--backend", "torch", "--dataset", "digits"),
        *("--folds", "3", "--trials", "12", "--epochs", "3", "--pruner", "none"),
        *("--storage", url or URL, "--study-name", name, "--heartbeat-interval", "1"),
        *("--grace-period", "3", "--quiet", *extra),
    ]
    env = {
        **os.environ,
        "REGSEARCH_FAKE_FIT_SECONDS": str(fit_seconds),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    # A server storage saves the refit model under ./studies: keep it out of the project.
    return subprocess.Popen(
        command, cwd=WORK_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def finish(procs: list[subprocess.Popen], timeout: float = 240) -> list[tuple[int, str, str]]:
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        results.append((proc.returncode, out.decode(), err.decode()))
    return results


def load(name: str, url: str | None = None) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=url or URL)


def assert_complete_study(study: optuna.Study) -> None:
    """12 finished trials, unique numbers, nothing RUNNING, every fold recorded."""
    trials = study.get_trials(deepcopy=False)
    assert len({t.number for t in trials}) == len(trials)
    assert len([t for t in trials if t.state in FINISHED]) == 12
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    for trial in trials:
        if trial.state == TrialState.COMPLETE:
            assert all(f"split{i}_test_accuracy" in trial.user_attrs for i in range(3))
            assert trial.user_attrs["mean_test_accuracy"] == pytest.approx(trial.value)


def test_three_workers_share_one_study_and_refit_once(empty_database):
    name = "three-workers"
    results = finish([worker(name, url=empty_database) for _ in range(3)])
    assert [code for code, _, _ in results] == [0, 0, 0], results
    study = load(name, empty_database)
    assert_complete_study(study)
    # The work was shared (a surplus trial, failed before training, names no worker).
    assert len({records.attrs(t)["worker"] for t in study.trials if t.state in FINISHED}) >= 2
    outputs = [out for _, out, _ in results]
    assert sum("Refitting trial" in out for out in outputs) == 1  # exactly one refit
    assert "refit" in study.user_attrs
    others = [out for out in outputs if "Refitting trial" not in out]
    assert all(
        "The refit is not this worker's" in out or "was refit and tested before" in out
        for out in others
    )


def test_a_killed_worker_costs_one_retried_trial_and_nothing_else():
    name = f"kill-{uuid.uuid4().hex[:8]}"
    procs = [worker(name, fit_seconds=0.4) for _ in range(3)]
    victim = procs[0]
    deadline = time.monotonic() + 120
    killed = None
    while killed is None and time.monotonic() < deadline:  # a trial of the victim, running
        time.sleep(0.2)
        try:
            trials = load(name).get_trials(deepcopy=False)
        except KeyError:
            continue
        mine = [
            t
            for t in trials
            if t.state == TrialState.RUNNING
            and records.attrs(t).get("worker", "").endswith(f":{victim.pid}")
            and "split0_test_accuracy" in t.user_attrs  # in the middle: one fold done
        ]
        if mine and len([t for t in trials if t.state in FINISHED]) >= 2:
            before = {
                t.number: (t.state, t.value, t.user_attrs) for t in trials if t.state in FINISHED
            }
            victim.send_signal(signal.SIGKILL)
            killed = mine[0].number
    assert killed is not None, "the victim never ran a trial"
    results = finish(procs[1:])
    assert [code for code, _, _ in results] == [0, 0], results
    study = load(name)
    assert_complete_study(study)
    assert study.trials[killed].state == TrialState.FAIL
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == study.trials[killed].params
    for number, (state, value, attrs) in before.items():  # nothing finished was changed
        trial = study.trials[number]
        assert (trial.state, trial.value, trial.user_attrs) == (state, value, attrs)
    # The table for the closing note: state of every trial, the retry linked to the killed one.
    for trial in study.trials:
        link = trial.system_attrs.get("failed_trial")
        print(trial.number, trial.state.name, "" if link is None else f"retry of {link}")


def test_refit_claim_is_won_by_exactly_one_of_many_at_once():
    from regsearch.run.claims import claim_refit
    from regsearch.run.storage import open_storage

    storage = open_storage(URL)
    name = f"claim-{uuid.uuid4().hex[:8]}"
    barrier = threading.Barrier(8)
    holders: list[str | None] = []

    def claim() -> None:
        barrier.wait()
        holders.append(claim_refit(storage, name, 3))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert holders.count(None) == 1 and len(holders) == 8


def test_a_worker_with_other_settings_is_refused_before_writing():
    name = f"mismatch-{uuid.uuid4().hex[:8]}"
    assert finish([worker(name)])[0][0] == 0
    before = [(t.number, t.state, t.user_attrs) for t in load(name).trials]
    attrs_before = load(name).user_attrs
    code, _, err = finish([worker(name, "--lambda-max", "1e-2")])[0]
    assert code == 2 and "was created with other settings" in err
    assert "space.lambda_max: stored 0.1, now 0.01" in err
    assert [(t.number, t.state, t.user_attrs) for t in load(name).trials] == before
    assert load(name).user_attrs == attrs_before
