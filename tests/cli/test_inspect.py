"""``python -m regsearch.inspect``: listing, tables, csv/json for pandas; reading writes nothing."""

from __future__ import annotations

import io

import optuna
import pandas as pd
import pytest

from regsearch import records
from regsearch.inspect import main


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_lists_the_studies_with_counts_and_scores(finished_fake_study, capsys):
    storage, name = finished_fake_study
    code, out, _ = run(capsys, "--storage", storage, "--format", "csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame["study"]) == [name]
    row = frame.iloc[0]
    assert row["backend"] == "torch" and row["complete"] + row["pruned"] == 10
    assert row["model"] == "mlp"
    assert 0.5 < row["best_mean_test_accuracy"] <= 1 and 0.5 < row["test_accuracy"] <= 1


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_trials_export_loads_into_pandas_with_cv_results_columns(finished_fake_study, capsys, fmt):
    storage, name = finished_fake_study
    code, out, _ = run(capsys, "--storage", storage, "--study", name, "--format", fmt)
    assert code == 0
    frame = pd.read_csv(io.StringIO(out)) if fmt == "csv" else pd.read_json(io.StringIO(out))
    assert len(frame) == 10
    for column in (
        "param_penalty",
        "param_l1",
        "param_l2",
        "split0_test_accuracy",
        "split3_test_accuracy",
        "mean_test_accuracy",
        "std_test_accuracy",
        "rank_test_accuracy",
        "mean_fit_time",
        "state_reason",
    ):
        assert column in frame.columns
    complete = frame[frame["state"] == "COMPLETE"]
    assert complete["rank_test_accuracy"].min() == 1
    best = complete.sort_values("rank_test_accuracy").iloc[0]
    assert best["mean_test_accuracy"] == complete["mean_test_accuracy"].max()
    splits = [best[f"split{i}_test_accuracy"] for i in range(4)]
    assert best["mean_test_accuracy"] == pytest.approx(sum(splits) / 4)


def test_table_shows_trials_reasons_and_the_choice_without_terminal_escapes(
    finished_fake_study, capsys
):
    storage, name = finished_fake_study
    code, out, _ = run(capsys, "--storage", storage, "--study", name)
    assert code == 0
    assert "baseline, no penalty" in out
    assert "Chosen: trial" in out and "test accuracy" in out
    assert "Selection rule: best" in out
    assert (
        "Model: mlp, 27 trainable values, outputs logits; penalized: 1 tensor (24 values)." in out
    )
    assert "\x1b" not in out and "\\x1b" in out  # the name's escape sequence is shown, inert


def test_the_table_compares_the_choice_with_the_baseline_within_the_rope_asked(
    finished_fake_study, capsys
):
    import optuna

    storage, name = finished_fake_study
    study = optuna.load_study(study_name=name, storage=storage)
    if (
        study.user_attrs["refit"]["trial_number"]
        == study.user_attrs["baseline_refit"]["trial_number"]
    ):
        pytest.skip("the baseline itself was chosen: nothing to compare")
    _, default, _ = run(capsys, "--storage", storage, "--study", name)
    assert (
        "Against the baseline: " in default and "Nadeau-Bengio corrected t-test over 4" in default
    )
    _, wide, _ = run(capsys, "--storage", storage, "--study", name, "--rope", "99")
    assert (
        "Against the baseline: regularization makes no practical difference (the interval " in wide
    )
    assert "within +/-99 pp)" in wide


def test_missing_file_and_unknown_study_are_errors_that_write_nothing(
    finished_fake_study, tmp_path, capsys
):
    missing = tmp_path / "nothing.db"
    code, _, err = run(capsys, "--storage", f"sqlite:///{missing}")
    assert code == 2 and "no study database at" in err and not missing.exists()
    storage, _ = finished_fake_study
    code, _, err = run(capsys, "--storage", storage, "--study", "nope")
    assert code == 2 and "no study named 'nope'" in err and "List them with" in err


def test_a_password_in_the_url_is_never_printed(capsys):
    pytest.importorskip("psycopg")
    code, out, err = run(capsys, "--storage", "postgresql://bob:s3cret@127.0.0.1:9/db")
    assert code == 2 and "bob:***@127.0.0.1:9" in err
    assert "s3cret" not in out + err


def test_the_epoch_cap_line_counts_folds_still_improving_when_the_cap_ended_them():
    from regsearch.present.tables import epoch_cap_lines

    study = optuna.create_study(direction="maximize")
    study.set_user_attr(records.CONFIG, {"folds": 3, "train": {"epochs": 4, "patience": 2}})
    # (epochs trained, best epoch) per fold: still improving at the cap, within the patience
    # at the cap, stopped early before the cap.
    for folds in ([(4, 4), (4, 3), (3, 1)], [(2, 0), (4, 2), (4, 4)]):
        trial = study.ask()
        for i, (trained, best) in enumerate(folds):
            trial.set_user_attr(records.fold_key(i, "history"), {"loss": [1.0] * trained})
            trial.set_user_attr(records.fold_key(i, "best_epoch"), best)
        study.tell(trial, 0.9)
    (line,) = epoch_cap_lines(study, chosen=0, name_of=lambda name: f"--{name}")
    assert line.startswith("Epoch cap: 2 of 3 folds of the chosen configuration (3 of 6 ")
    assert "early stopping (patience 2) ended the rest" in line
    assert "cap of 4 epochs" in line and "A larger --epochs may find a better model." in line
    (line,) = epoch_cap_lines(study, chosen=1)
    assert line.startswith("Epoch cap: 1 of 3 folds") and "larger" not in line


def test_repeated_cv_rows_show_ranges_and_the_fit_time_says_per_fold(tmp_path, capsys):
    """15 splits would make rows of 250 characters: beyond 5 splits the table gives the
    range of the split scores and best epochs; the fit time is one fold's."""
    from regsearch import TrainSettings, run_study
    from regsearch.testing import FakeBackend, synthetic_dataset
    from tests.conftest import fake_study_config

    config = fake_study_config(
        tmp_path, folds=5, repeats=3, trials=3, train=TrainSettings(epochs=3)
    )
    run_study(config, backend=FakeBackend(), dataset=synthetic_dataset(n_train=300))
    code, out, _ = run(capsys, "--storage", config.storage, "--study", config.name)
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("trial "))
    assert "accuracy min-max (15 splits)" in header and "best epochs min-max" in header
    assert "fit s/fold" in header
    rows = out.splitlines()[out.splitlines().index(header) :][:4]
    assert max(len(line) for line in rows) < 160, rows
