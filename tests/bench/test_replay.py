"""Replaying pruning rules on a finished study (``python -m regsearch.bench.replay``)."""

from __future__ import annotations

import dataclasses

import optuna
import pytest

from regsearch import SearchSpace, run_study
from regsearch.bench.replay import (
    Budget,
    ReplayedTrial,
    _score_if_stopped,
    main,
    replay,
    replay_epochs_rule,
    replay_folds_rule,
)
from regsearch.testing import FakeBackend
from tests.conftest import fake_study_config, synthetic_dataset


def test_the_score_if_stopped_is_the_accuracy_at_the_lowest_validation_loss_so_far():
    losses = [0.5, 0.4, 0.45, 0.3, 0.3]
    accuracies = [0.7, 0.8, 0.9, 0.85, 0.95]
    assert _score_if_stopped(losses, accuracies) == [0.7, 0.8, 0.8, 0.85, 0.85]


def test_a_smaller_budget_reruns_early_stopping_on_the_stored_curves():
    losses = [1.0, 0.9, 0.95, 0.97, 0.8, 0.85]
    assert Budget().epochs_trained(losses) == 6
    assert Budget(patience=2).epochs_trained(losses) == 4  # two epochs above 0.9: stop
    assert Budget(patience=3).epochs_trained(losses) == 6  # 0.8 at epoch 5 came in time
    assert Budget(cap=3, patience=3).epochs_trained(losses) == 3
    assert Budget(cap=2).epochs_trained(losses) == 2


def _trial(number: int, reports: list[float], folds: int = 2) -> ReplayedTrial:
    return ReplayedTrial(
        number=number,
        score=reports[-1],
        epoch_reports=reports,
        fold_scores=[reports[-1]] * folds,
        fold_epochs=[len(reports)] * folds,
    )


def test_an_epoch_rule_prunes_after_its_first_judged_epoch_and_counts_the_fold_epochs():
    good = [_trial(i, [0.5, 0.7, 0.8, 0.9]) for i in range(5)]
    slow = _trial(5, [0.1, 0.2, 0.6, 0.95])  # below the median at epochs 2 and 3
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)
    pruned, cost = replay_epochs_rule([*good, slow], pruner, batch=1)
    assert pruned == {5}
    assert cost == 5 * 2 * 4 + 2 * 2  # five full trials, two folds x 2 epochs of the pruned
    # Judged together with the first five (one population), it has nobody finished to
    # compare with, so it survives.
    pruned, _ = replay_epochs_rule([*good, slow], pruner, batch=6)
    assert pruned == set()


def test_the_fold_rule_stops_a_trial_after_a_poor_fold():
    good = [_trial(i, [0.9]) for i in range(5)]
    poor = ReplayedTrial(6, 0.3, [0.3], [0.3, 0.3, 0.3], [3, 3, 3])
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    pruned, cost = replay_folds_rule([*good, poor], pruner)
    assert pruned == {6} and cost == 5 * 2 * 1 + 3


def test_a_stored_study_replays_and_a_pruned_one_is_refused(tmp_path, capsys):
    dataset = synthetic_dataset(n_train=320, n_classes=3)
    config = dataclasses.replace(
        fake_study_config(tmp_path),
        trials=12,
        pruner="none",
        scale="none",
        space=SearchSpace(penalties=("l2",), lambda_min=1e-4, lambda_max=1e2),
    )
    study = run_study(config, backend=FakeBackend(), dataset=dataset).study
    outcomes = replay(study, batch=4)
    assert outcomes[0].rule.startswith("none") and outcomes[0].pruned == 0
    assert outcomes[-1].rule == "median over folds (sequential)"
    assert all(o.fold_epochs <= outcomes[0].fold_epochs for o in outcomes)
    assert outcomes[0].chosen == study.best_trial.number
    assert main(["--storage", config.storage, "--study", config.name]) == 0
    out = capsys.readouterr().out
    assert "(12 trials replayed)" in out and out.splitlines()[-1].startswith("replay_work")

    pruned = dataclasses.replace(config, study_name="pruned", pruner="median", trials=20)
    run_study(pruned, backend=FakeBackend(), dataset=dataset)
    assert main(["--storage", config.storage, "--study", "pruned"]) == 2
    assert "needs a study run without pruning" in capsys.readouterr().out
    with pytest.raises(ValueError, match="were pruned"):
        replay(optuna.load_study(study_name="pruned", storage=config.storage), batch=4)
