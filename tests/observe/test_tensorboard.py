"""``--tensorboard DIR``: event files with the expected runs, tags and values, read back."""

from __future__ import annotations

import pytest

from regsearch.backends import Fit
from regsearch.observe.tensorboard import TAGS, TensorBoardLogger, run_name
from regsearch.penalty import Penalty

pytest.importorskip("tensorboard", reason="pip install 'regsearch[tensorboard]'")


def read_scalars(run_dir):
    """``{tag: [(step, value), ...]}`` from a run folder, via TensorBoard's own reader; no
    tensor events may be there (both backends write plain scalars)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    assert events.Tags()["tensors"] == []
    return {
        tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]
    }


def test_run_names_say_trial_penalty_lambda_and_fold():
    assert run_name(7, Penalty(l2=1.234e-3), 2) == "trial007-l2-l2=1.2e-03/fold2"
    assert (
        run_name(12, Penalty(l1=3e-5, l2=1e-3), 0) == "trial012-l1_l2-l1=3.0e-05-l2=1.0e-03/fold0"
    )
    assert run_name(0, Penalty(), 4) == "trial000-none/fold4"


HISTORY = {
    "loss": [0.9, 0.5, 0.4],
    "val_loss": [0.8, 0.6, 0.55],
    "accuracy": [0.7, 0.8, 0.85],
    "val_accuracy": [0.72, 0.79, 0.8],
    "penalty": [0.05, 0.04, 0.03],
}


def test_each_epoch_is_on_disk_as_it_ends_and_the_fold_completes_the_run(tmp_path):
    logger = TensorBoardLogger(tmp_path)
    penalty = Penalty(l2=1e-3)
    for epoch in (1, 2):
        logger.on_epoch_end(3, 1, epoch, penalty, {k: v[epoch - 1] for k, v in HISTORY.items()})
    run = tmp_path / "trial003-l2-l2=1.0e-03" / "fold1"
    assert [step for step, _ in read_scalars(run)["loss/train"]] == [1, 2]  # while it trains
    logger.on_fold(3, 1, penalty, Fit(model=None, history=HISTORY, best_epoch=3))
    scalars = read_scalars(run)
    assert set(scalars) == set(TAGS.values())
    for key, tag in TAGS.items():
        assert [step for step, _ in scalars[tag]] == [1, 2, 3]  # none twice
        assert [v for _, v in scalars[tag]] == pytest.approx(HISTORY[key], rel=1e-6)
    logger.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "tf"])
def test_study_command_writes_the_same_runs_from_both_backends(backend, tmp_path, capsys):
    pytest.importorskip("torch" if backend == "torch" else "tensorflow")
    from regsearch.study import main

    logdir = tmp_path / "tb"
    args = ["--backend", backend, "--dataset", "digits", "--trials", "3", "--folds", "2"]
    args += ["--epochs", "2", "--pruner", "none", "--storage", f"sqlite:///{tmp_path}/s.db"]
    assert main([*args, "--tensorboard", str(logdir), "--quiet"]) == 0
    runs = sorted(p.relative_to(logdir).as_posix() for p in logdir.glob("*/fold*"))
    assert len(runs) == 6 and runs[0] == "trial000-none/fold0"
    scalars = read_scalars(logdir / runs[-1])
    assert set(scalars) == set(TAGS.values())
    assert len(scalars["loss/validation"]) == 2 and scalars["penalty"][0][1] > 0
    refits = sorted(p.relative_to(logdir).as_posix() for p in logdir.glob("*/refit"))
    assert "trial000-none/refit" in refits and 1 <= len(refits) <= 2  # chosen and baseline
    assert set(read_scalars(logdir / refits[-1])) == set(TAGS.values()) - {
        "loss/validation",
        "accuracy/validation",
    }  # a refit has no validation part
    out = capsys.readouterr().out
    assert "trial   1" not in out and "Test accuracy" in out  # --quiet: no trial lines


def test_run_study_writes_the_folds_and_the_refits_as_the_command_does(tmp_path, tiny_dataset):
    """The Python API runs with the study command's observers: every fold's curves and the
    refits' (before, run_study wrote only the refits)."""
    from regsearch import run_study
    from regsearch.testing import FakeBackend
    from tests.conftest import fake_study_config

    logdir = tmp_path / "tb"
    config = fake_study_config(tmp_path, trials=2, tensorboard=logdir)
    run_study(config, backend=FakeBackend(), dataset=tiny_dataset)
    folds = sorted(p.relative_to(logdir).as_posix() for p in logdir.glob("*/fold*"))
    assert len(folds) == 2 * 3 and folds[0] == "trial000-none/fold0"
    assert "trial000-none/refit" in {
        p.relative_to(logdir).as_posix() for p in logdir.glob("*/refit")
    }
