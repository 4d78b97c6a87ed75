"""An answer every time: where no penalty wins, the best regularized configuration is still
compared with the baseline (the same corrected test and verdict words), with the posterior
probabilities beside the interval."""

from __future__ import annotations

import re

from regsearch import run_study
from regsearch.config import SearchSpace
from regsearch.present.note import answer
from regsearch.present.tables import chosen_lines
from regsearch.present.text import summary
from regsearch.testing import FakeBackend, synthetic_dataset
from tests.conftest import fake_study_config


def test_when_the_baseline_wins_the_best_penalty_is_still_compared(tmp_path):
    # Strong ridges only: every penalty costs accuracy, so the baseline is chosen.
    config = fake_study_config(
        tmp_path, trials=5, space=SearchSpace(penalties=("l2",), lambda_min=1e3, lambda_max=1e5)
    )
    result = run_study(config, backend=FakeBackend(), dataset=synthetic_dataset())
    assert result.chosen.penalty == "none"
    best = max(
        (t for t in result.study.trials if t.params.get("penalty") == "l2"), key=lambda t: t.value
    )
    said = summary(result, config)
    line = next(s for s in said.splitlines() if s.startswith("The best regularized"))
    assert line.startswith(f"The best regularized configuration, trial {best.number} (l2="), line
    verdicts = "regularization hurts|regularization makes no practical difference.*?|undecided"
    assert re.search(rf"against the baseline: ({verdicts}): -\d\.\d\d pp of CV accuracy", line)
    assert re.search(r"P\(helps\) 0\.\d\d, P\(equivalent\) 0\.\d\d, P\(hurts\) [01]\.\d\d", line)
    # inspect, the report and the dashboard say the same sentence
    assert line in chosen_lines(result.study)
    assert line in answer(result.study)
    # ... and as data: the same comparison, on the result and stored with the study
    comparison = result.comparison
    assert comparison is not None and comparison.trial == best.number
    assert comparison.baseline_trial == result.chosen.trial_number
    assert comparison.verdict in {"hurts", "equivalent", "undecided"}
    assert comparison.difference < 0 and comparison.interval[0] <= comparison.difference
    assert comparison.n_splits == 3 and comparison.metric == "accuracy"
    stored = result.study.user_attrs["comparison"]
    assert stored == comparison.record() and stored["verdict"] == comparison.verdict
    assert abs(stored["p_helps"] + stored["p_equivalent"] + stored["p_hurts"] - 1) < 1e-9


def test_a_chosen_penalty_is_the_comparison_and_nothing_to_compare_is_none(tmp_path):
    config = fake_study_config(tmp_path, trials=5)
    result = run_study(config, backend=FakeBackend(), dataset=synthetic_dataset())
    if result.chosen.penalty == "none":
        assert result.comparison is None or result.comparison.trial != result.chosen.trial_number
    else:
        assert result.comparison is not None
        assert result.comparison.trial == result.chosen.trial_number
    lonely = fake_study_config(tmp_path, trials=1, study_name="baseline-only")
    alone = run_study(lonely, backend=FakeBackend(), dataset=synthetic_dataset())
    assert alone.comparison is None and alone.study.user_attrs["comparison"] is None


def test_a_test_score_far_above_the_cv_score_is_explained():
    import optuna

    from regsearch import records
    from regsearch.present.tables import cv_gap_lines

    study = optuna.create_study(direction="maximize")
    study.set_user_attr(records.CONFIG, {"folds": 5, "repeats": 1})
    trial = study.ask()
    trial.set_user_attr(records.STD_SCORE, 0.01)
    study.tell(trial, 0.88)
    (line,) = cv_gap_lines(study, 0, 0.93)
    assert line.startswith("Test accuracy above CV: +5.00 pp, more than the splits' spread")
    assert "(k-1)/k of the training rows (80% here)" in line
    assert cv_gap_lines(study, 0, 0.885) == []  # within the spread: nothing to explain
    assert cv_gap_lines(study, 0, float("nan")) == []
