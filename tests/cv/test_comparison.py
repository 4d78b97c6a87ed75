"""The corrected resampled t-test of the chosen configuration against the baseline."""

from __future__ import annotations

import dataclasses
import math

import pytest

from regsearch.cv.comparison import corrected_resampled_t_test


def test_the_statistic_matches_a_hand_computed_example():
    # 5 folds: differences of 1, 2, 0, 3 and 1 points of accuracy.
    # mean = 0.014; s^2 = (16 + 36 + 196 + 256 + 16)e-6 / 4 = 130e-6;
    # corrected variance = (1/5 + 1/4) * 130e-6 = 58.5e-6; sd = 0.0076485.
    # t = 0.014 / 0.0076485 = 1.8304 on 4 degrees of freedom; t_0.975,4 = 2.7764.
    result = corrected_resampled_t_test([0.01, 0.02, 0.00, 0.03, 0.01], test_to_train=1 / 4)
    sd = math.sqrt(0.45 * 130e-6)
    assert result.gain == pytest.approx(0.014)
    assert result.t == pytest.approx(0.014 / sd) == pytest.approx(1.8304, abs=1e-4)
    assert result.low == pytest.approx(0.014 - 2.7764451 * sd)
    assert result.high == pytest.approx(0.014 + 2.7764451 * sd)
    # Student's t with 4 degrees of freedom: p = 1 - u (3 - u^2) / 2, u = t / sqrt(t^2 + 4).
    u = result.t / math.sqrt(result.t**2 + 4)
    assert (
        result.p_value == pytest.approx(1 - u * (3 - u * u) / 2) == pytest.approx(0.1412, abs=1e-4)
    )
    # The uncorrected interval would be narrower: the correction is what widens it.
    plain_sd = math.sqrt(130e-6 / 5)
    assert result.high - result.low == pytest.approx(2 * 2.7764451 * plain_sd * math.sqrt(2.25))
    assert result.verdict == "undecided"
    assert "undecided: +1.40 pp of CV accuracy, 95% interval [-0.72, +3.52]" in result.describe()


@pytest.mark.parametrize(
    ("differences", "verdict"),
    [
        ([0.020, 0.021, 0.019, 0.022, 0.020], "helps"),
        ([-0.020, -0.021, -0.019, -0.022, -0.020], "hurts"),
        ([0.0002, -0.0001, 0.0003, 0.0000, 0.0001], "equivalent"),
        ([0.03, -0.02, 0.01, -0.03, 0.02], "undecided"),
    ],
)
def test_the_interval_and_the_rope_give_the_answer(differences, verdict):
    result = corrected_resampled_t_test(differences, test_to_train=1 / 4, rope=0.001)
    assert result.verdict == verdict
    assert result.describe().startswith(
        {
            "helps": "regularization helps",
            "hurts": "regularization hurts",
            "equivalent": "regularization makes no practical difference",
            "undecided": "undecided",
        }[verdict]
    )


def test_a_gain_inside_the_rope_is_not_called_help_however_sure():
    result = corrected_resampled_t_test([0.0005, 0.0006, 0.0005, 0.0006, 0.0005], 1 / 4, 0.001)
    assert result.low > 0 and result.verdict == "equivalent"


def test_identical_differences_and_too_few_splits():
    assert corrected_resampled_t_test([0.0, 0.0, 0.0], 0.5).verdict == "equivalent"
    sure = corrected_resampled_t_test([0.01, 0.01, 0.01], 0.5)
    assert sure.p_value == 0.0 and sure.verdict == "helps"
    with pytest.raises(ValueError, match="at least 2 paired splits"):
        corrected_resampled_t_test([0.01], 0.5)


def test_repeated_cv_compares_all_r_x_k_splits_at_the_k_fold_ratio():
    import optuna

    from regsearch import records
    from regsearch.present.families import baseline_comparison

    study = optuna.create_study(direction="maximize")
    study.set_user_attr(records.CONFIG, {"folds": 3, "repeats": 2})
    chosen = [0.91, 0.93, 0.90, 0.92, 0.94, 0.91]
    base = [0.90, 0.91, 0.90, 0.90, 0.92, 0.90]
    for scores in (base, chosen):
        trial = study.ask()
        for i, score in enumerate(scores):
            trial.set_user_attr(records.fold_key(i, "test_accuracy"), score)
        study.tell(trial, sum(scores) / len(scores))
    result = baseline_comparison(study, chosen=1, baseline=0, rope_pp=0.1)
    expected = corrected_resampled_t_test(
        [a - b for a, b in zip(chosen, base, strict=True)], test_to_train=1 / 2, rope=0.001
    )
    assert result == dataclasses.replace(expected, trial=1, baseline_trial=0)
    assert result.splits == 6


@pytest.mark.parametrize(
    ("baseline", "chosen", "expected"),
    [
        (
            [0.90, 0.91, 0.89, 0.92, 0.90],
            [0.91, 0.93, 0.89, 0.95, 0.91],
            (0.033955, 0.118325, 0.847721),
        ),
        (
            [0.90, 0.91, 0.89, 0.92, 0.90],
            [0.899, 0.905, 0.893, 0.921, 0.897],
            (0.066209, 0.91008, 0.02371),
        ),
        # 2 x 5-fold (baycomp's runs=2): the same ratio 1 / (5 - 1), over 10 splits
        (
            [0.8, 0.82, 0.81, 0.79, 0.8, 0.81, 0.8, 0.83, 0.8, 0.79],
            [0.79, 0.8] * 5,
            (0.742477, 0.221226, 0.036297),
        ),
    ],
)
def test_the_probabilities_are_baycomps_correlated_t_test(baseline, chosen, expected):
    """(P(hurts), P(equivalent), P(helps)) equal ``baycomp.CorrelatedTTest.probs(baseline,
    chosen, rope=0.005, runs=...)``'s ``(p_left, p_rope, p_right)``, computed with baycomp
    1.0.3. (Not a test dependency: its wheel installs a top-level package named ``tests``.)"""
    differences = [c - b for c, b in zip(chosen, baseline, strict=True)]
    ours = corrected_resampled_t_test(differences, test_to_train=1 / 4, rope=0.005)
    assert (ours.p_hurts, ours.p_equivalent, ours.p_helps) == pytest.approx(expected, abs=2e-6)
    assert ours.p_hurts + ours.p_equivalent + ours.p_helps == pytest.approx(1.0)
    assert "P(helps)" in ours.describe()


def test_identical_differences_give_certain_probabilities():
    sure = corrected_resampled_t_test([0.01, 0.01, 0.01], 0.5, rope=0.005)
    assert (sure.p_helps, sure.p_equivalent, sure.p_hurts) == (1.0, 0.0, 0.0)
    same = corrected_resampled_t_test([0.0, 0.0, 0.0], 0.5, rope=0.005)
    assert (same.p_helps, same.p_equivalent, same.p_hurts) == (0.0, 1.0, 0.0)
