from __future__ import annotations

from pathlib import Path

import pytest

from regsearch.errors import ConfigError
from regsearch.locations import artifacts_dir, redact_url, safe_file_stem
from regsearch.run.storage import open_storage


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:////tmp/a.db", "sqlite:////tmp/a.db"),
        ("sqlite:///studies/regsearch.db", "sqlite:///studies/regsearch.db"),
        ("postgresql://bob:s3cret@db:5432/opt", "postgresql://bob:***@db:5432/opt"),
        (
            "postgresql://bob@db/opt?password=s3cret&sslmode=require",
            "postgresql://bob@db/opt?password=***&sslmode=require",
        ),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown
    assert "s3cret" not in redact_url(url)


def test_safe_file_stem_stays_in_folder():
    assert safe_file_stem("mnist-tf") == "mnist-tf"
    for hostile in ("../../etc/passwd", "a/b", "<script>", "名前 with space", "..", "'\""):
        stem = safe_file_stem(hostile)
        assert "/" not in stem and not stem.startswith(".")
        assert (Path("studies") / stem).resolve().parent == Path("studies").resolve()
    assert safe_file_stem("a/b") != safe_file_stem("a_b")


def test_artifacts_dir_and_bad_url(tmp_path):
    assert artifacts_dir(f"sqlite:///{tmp_path}/x/y.db") == tmp_path / "x"
    assert artifacts_dir("postgresql://u@h/db") == Path("studies")
    with pytest.raises(ConfigError, match="cannot open the storage"):
        open_storage("notadialect://whatever")


def test_a_trial_killed_before_its_first_heartbeat_is_failed_after_the_grace_period(tmp_path):
    """Optuna alone leaves such a trial RUNNING forever (it only looks at heartbeat rows)."""
    import time

    import optuna
    from optuna.trial import TrialState

    from regsearch.run.storage import fail_stale_trials

    storage = open_storage(f"sqlite:///{tmp_path}/s.db", heartbeat_interval=1, grace_period=2)
    study = optuna.create_study(storage=storage)
    orphan = study.ask()  # RUNNING, no heartbeat row: its worker "died" at once
    beating = study.ask()
    time.sleep(2.5)
    recent = study.ask()  # no heartbeat yet, but within the grace period
    storage.record_heartbeat(beating._trial_id)
    assert fail_stale_trials(study) == [orphan.number]
    states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
    assert states[orphan.number] == TrialState.FAIL
    assert states[beating.number] == states[recent.number] == TrialState.RUNNING


def test_only_one_of_several_threads_takes_a_waiting_trial(tmp_path):
    """Optuna's threads (n_jobs, as --trial-batch uses) take an enqueued trial by reading that
    it waits, then marking it running; the storage makes that one step per process, so the
    baseline is never run twice."""
    import threading

    import optuna
    from optuna.trial import TrialState

    storage = open_storage(f"sqlite:///{tmp_path}/race.db")
    study = optuna.create_study(storage=storage, study_name="race")
    for attempt in range(5):
        study.enqueue_trial({})
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))[0]
        barrier, taken = threading.Barrier(8), []

        def take(
            trial_id: int = waiting._trial_id,
            barrier: threading.Barrier = barrier,
            taken: list[bool] = taken,
        ) -> None:
            barrier.wait()
            taken.append(storage.set_trial_state_values(trial_id, TrialState.RUNNING))

        threads = [threading.Thread(target=take) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert taken.count(True) == 1, (attempt, taken)


def _take_when_all_are_ready(url: str, trial_id: int, barrier, taken) -> None:  # type: ignore[no-untyped-def]
    from optuna.trial import TrialState

    storage = open_storage(url)  # each worker process opens its own, as workers do
    barrier.wait()
    taken.put(storage.set_trial_state_values(trial_id, TrialState.RUNNING))


def test_only_one_of_several_worker_processes_takes_a_waiting_trial(tmp_path):
    """Worker processes share no lock: the claim must be one statement in the database, or
    two workers run the baseline and the second fails with "Cannot tell a COMPLETE trial"."""
    import multiprocessing

    import optuna
    from optuna.trial import TrialState

    url = f"sqlite:///{tmp_path}/race.db"
    study = optuna.create_study(storage=open_storage(url), study_name="race")
    context = multiprocessing.get_context("fork")
    for attempt in range(4):
        study.enqueue_trial({})
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))[0]
        barrier, taken = context.Barrier(6), context.Queue()
        takers = [
            context.Process(
                target=_take_when_all_are_ready, args=(url, waiting._trial_id, barrier, taken)
            )
            for _ in range(6)
        ]
        for taker in takers:
            taker.start()
        for taker in takers:
            taker.join(timeout=60)
        answers = [taken.get(timeout=5) for _ in takers]
        assert answers.count(True) == 1, (attempt, answers)
