"""The figures that could overstate: the test comparison is a difference with its interval;
pruned trials keep the score the pruner last saw."""

from __future__ import annotations

import optuna
import pytest

pytest.importorskip("matplotlib", reason="the report needs pip install 'regsearch[report]'")

from regsearch import records
from regsearch.present.figures.outcome_plots import test_accuracy as draw_test_comparison
from regsearch.present.rows import trial_rows

PNG = b"\x89PNG\r\n\x1a\n"


def _refit(trial, penalty, accuracy, examples=10_000):
    return {
        "trial_number": trial,
        "penalty": penalty,
        "test_accuracy": accuracy,
        "test_examples": examples,
    }


@pytest.mark.parametrize("examples", [10_000, None])
def test_the_test_comparison_is_drawn_as_a_difference(tmp_path, examples):
    import matplotlib

    matplotlib.use("Agg")
    study = optuna.create_study(direction="maximize")
    study.set_user_attr(records.REFIT, _refit(4, "l2", 0.9800, examples))
    study.set_user_attr(records.BASELINE_REFIT, _refit(0, "none", 0.9795, examples))
    assert draw_test_comparison(study, tmp_path) == "test_accuracy.png"
    assert (tmp_path / "test_accuracy.png").read_bytes()[:8] == PNG
    # The baseline chosen: its own accuracy and interval
    study.set_user_attr(records.REFIT, _refit(0, "none", 0.9795, examples))
    assert draw_test_comparison(study, tmp_path) == "test_accuracy.png"
    # No test set: no figure
    study.set_user_attr(records.REFIT, _refit(0, "none", float("nan"), None))
    assert draw_test_comparison(study, tmp_path) is None


def test_a_pruned_trial_keeps_the_score_the_pruner_last_saw():
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    trial.report(0.5, 0)
    trial.report(0.61, 1)
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    done = study.ask()
    study.tell(done, 0.9)
    pruned, complete = trial_rows(study, folds=2)
    assert pruned["last_reported_score"] == 0.61 and pruned["mean_test_accuracy"] is None
    assert complete["last_reported_score"] is None
