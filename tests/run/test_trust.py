"""Rough edges a new user hit (issue 11): a lost baseline, repeated configurations, partial
scores, silent nonsense, a frozen progress bar, a noisy library call."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
import warnings

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from regsearch import records, run_study
from regsearch.cv.doubts import doubts
from regsearch.cv.refit import RefitResult
from regsearch.observe import Observer
from regsearch.observe.progress import StudyProgress
from regsearch.testing import FakeBackend
from tests.conftest import PROJECT_ROOT, fake_study_config


@pytest.fixture
def config(tmp_path):
    return fake_study_config(tmp_path, trials=3)


def configurations(study: optuna.Study) -> list[tuple]:
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    return [tuple(sorted(t.params.items())) for t in finished if t.params]


def fake_command(storage: str, trials: int, *extra: str) -> list[str]:
    return [
        *(sys.executable, "-m", "tests.fake_cli", "--backend", "torch", "--dataset", "digits"),
        *("--folds", "3", "--trials", str(trials), "--epochs", "2", "--pruner", "none"),
        *("--storage", storage, *extra),
    ]


def test_resumes_add_new_configurations_and_one_run_repeats_itself(config, tiny_dataset, tmp_path):
    for trials in (3, 6, 9, 12):  # three resumes
        result = run_study(
            dataclasses.replace(config, trials=trials), backend=FakeBackend(), dataset=tiny_dataset
        )
    sampled = configurations(result.study)
    assert len(sampled) == 11 and len(set(sampled)) == 11  # + the baseline = 12
    # One uninterrupted run is reproducible by its seed: a fresh storage repeats the first 3.
    again = run_study(
        dataclasses.replace(config, storage=f"sqlite:///{tmp_path}/again.db"),
        backend=FakeBackend(),
        dataset=tiny_dataset,
    )
    assert configurations(again.study) == sampled[:2]


@pytest.mark.slow
def test_two_copies_of_one_command_evaluate_different_configurations(tmp_path):
    """The multi-machine recipe: every worker runs the same command, with the same --seed."""
    storage = f"sqlite:///{tmp_path}/two.db"
    command = fake_command(storage, 10, "--quiet")
    env = {**os.environ, "REGSEARCH_FAKE_FIT_SECONDS": "0.05"}
    procs = [
        subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL)
        for _ in range(2)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    study = optuna.load_study(study_name="digits-torch", storage=storage)
    sampled = configurations(study)
    assert len(sampled) == 9 and len(set(sampled)) == 9
    workers = {records.attrs(t)["worker"] for t in study.get_trials(states=(TrialState.COMPLETE,))}
    assert len(workers) == 2  # both ran trials


@pytest.mark.slow
def test_ctrl_c_in_the_baseline_queues_it_again_and_says_why_it_failed(tmp_path):
    storage = f"sqlite:///{tmp_path}/base.db"
    command = fake_command(storage, 4)
    env = {**os.environ, "REGSEARCH_FAKE_FIT_SECONDS": "0.5"}
    proc = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # trial 0, the baseline, is training
        with contextlib.suppress(KeyError):
            trials = optuna.load_study(study_name="digits-torch", storage=storage).trials
            if (
                trials
                and trials[0].state == TrialState.RUNNING
                and "penalty" in trials[0].user_attrs
            ):
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    first = optuna.load_study(study_name="digits-torch", storage=storage).trials[0]
    assert first.state == TrialState.FAIL and first.user_attrs["baseline"] is True
    assert first.user_attrs["state_reason"].startswith("interrupted (Ctrl-C or SIGTERM) in fold")

    rerun = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "The baseline (no penalty) has not finished: queued again." in rerun.stdout
    study = optuna.load_study(study_name="digits-torch", storage=storage)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 4
    assert sum(t.user_attrs.get("baseline", False) for t in finished) == 1  # not twice
    assert study.user_attrs["baseline_refit"]["penalty"] == "none"
    assert "Baseline (no penalty): trial" in rerun.stdout
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "regsearch.inspect",
            "--storage",
            storage,
            "--study",
            "digits-torch",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    ).stdout
    first_row = next(line for line in shown.splitlines() if line.startswith("0 "))
    assert "fail" in first_row and "interrupted (Ctrl-C or SIGTERM)" in first_row


def test_a_baseline_queued_twice_runs_once(config, tiny_dataset):
    """Two workers that both find the baseline lost queue it twice; the later one is not run
    and not counted."""
    backend = FakeBackend()
    first = run_study(config, backend=backend, dataset=tiny_dataset).study
    first.enqueue_trial({}, user_attrs={"baseline": True})
    again = run_study(
        dataclasses.replace(config, trials=4), backend=FakeBackend(), dataset=tiny_dataset
    ).study
    extra = again.trials[3]
    assert extra.state == TrialState.FAIL
    assert extra.user_attrs["state_reason"] == "not run: trial 0 is the study's baseline already"
    assert len(again.get_trials(states=(TrialState.COMPLETE,))) == 4


class Recorder(Observer):
    def __init__(self) -> None:
        self.epochs: list[tuple] = []

    def on_epoch(self, trial_number, fold, epoch, epochs):  # type: ignore[no-untyped-def]
        self.epochs.append((trial_number, fold, epoch, epochs))


@pytest.mark.parametrize(("pruner", "folds_seen"), [("none", [None]), ("median", [0, 1, 2])])
def test_every_epoch_is_reported_with_its_trial_and_fold(config, tiny_dataset, pruner, folds_seen):
    recorder = Recorder()
    run_study(
        dataclasses.replace(config, pruner=pruner, trials=2),
        backend=FakeBackend(),
        dataset=tiny_dataset,
        observer=recorder,
    )
    for trial in (0, 1):
        seen = [(fold, epoch) for t, fold, epoch, _ in recorder.epochs if t == trial]
        assert seen == [(fold, epoch) for fold in folds_seen for epoch in (1, 2, 3)]
    assert {total for *_, total in recorder.epochs} == {3}


def test_the_progress_bar_names_the_trial_fold_and_epoch_and_ignores_partial_scores():
    progress = StudyProgress(5, 4, enabled=True)
    progress.on_epoch(3, 1, 2, 10)
    assert "trial 3: fold 2/4, epoch 2/10" in progress.bar.postfix
    progress.on_epoch(4, None, 1, 10)
    assert "trial 4: folds 1-4 at once, epoch 1/10" in progress.bar.postfix
    study = optuna.create_study(direction="maximize")
    complete = create_trial(value=0.90, state=TrialState.COMPLETE)
    pruned = create_trial(state=TrialState.PRUNED, intermediate_values={0: 0.99})
    study.add_trials([complete, pruned])
    for trial in study.trials:
        progress.on_trial(study, trial)
    assert progress.best == 0.90  # the pruned trial's 0.99 is a partial mean
    progress.close()


def test_the_library_is_quiet_unless_asked(config, tiny_dataset, capsys, caplog):
    optuna.logging.enable_propagation()  # let caplog see Optuna's records
    try:
        run_study(config, backend=FakeBackend(), dataset=tiny_dataset)
        out = capsys.readouterr()
        assert out.out == "" and out.err == ""
        assert not [r for r in caplog.records if r.name.startswith("optuna")]
        run_study(
            dataclasses.replace(config, trials=4),
            backend=FakeBackend(),
            dataset=tiny_dataset,
            verbose=True,
        )
        printed = capsys.readouterr().out
        assert "Resuming: 3 of 4 trials are already finished." in printed
        assert "trial   3" in printed and "Refitting" not in printed  # the refit was stored
    finally:
        optuna.logging.disable_propagation()


def _trial(value: float) -> optuna.trial.FrozenTrial:
    return create_trial(
        value=value, params={"l2": 1e-3}, distributions={"l2": FloatDistribution(1e-5, 1e-1)}
    )


def _refit(test_accuracy: float, majority: float | None) -> RefitResult:
    return RefitResult(1, "l2", 0.0, 1e-3, 3, 0.5, test_accuracy, 2.3, 1.0, None, majority)


def test_doubts_name_a_chance_level_model_and_a_tie():
    trials = [_trial(0.5185), _trial(0.5185), _trial(0.5185)]
    found = doubts(trials, _refit(0.0978, 0.1135))
    assert len(found) == 2
    assert "test accuracy 0.0978 is at chance level" in found[0]
    assert "all 3 complete trials scored exactly 0.5185" in found[1]
    assert doubts([_trial(0.97), _trial(0.96)], _refit(0.97, 0.1135)) == []
    assert doubts([_trial(0.97)], _refit(0.5, None)) == []  # a study refit before the record


def test_a_chance_level_answer_warns_the_library_user(config, tiny_dataset):
    same = dataclasses.replace(tiny_dataset, y_test=tiny_dataset.y_test * 0 + 2)

    class Constant(FakeBackend):  # every model predicts class 0 alone
        def trainer(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            trainer = super().trainer(*args, **kwargs)
            trainer.predict_logits = lambda model, x: __import__("numpy").tile(  # type: ignore[method-assign]
                [1.0, 0.0, 0.0], (len(x), 1)
            )
            return trainer

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_study(config, backend=Constant(), dataset=same)
    messages = [str(w.message) for w in caught]
    assert any("at chance level" in m for m in messages), messages
    assert any("complete trials scored exactly" in m for m in messages), messages
