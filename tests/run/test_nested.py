"""Nested cross-validation: an inner study per outer fold, its refit scored on the held-out
part, and the estimate stored beside the non-nested score (fake backend; the real backends run
it in tests/cli/test_study_end_to_end.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import optuna
import pytest

from regsearch.present.nested import nested_lines, stability
from regsearch.run.nested import outer_studies, outer_study_name
from regsearch.study import main
from regsearch.testing import FakeBackend
from tests.conftest import fake_study_config


@pytest.fixture
def fake_backend(monkeypatch):
    monkeypatch.setattr("regsearch.run.session.get_backend", lambda name: FakeBackend())


def test_outer_folds_partition_the_training_rows_into_inner_studies(tmp_path, tiny_dataset):
    config = dataclasses.replace(fake_study_config(tmp_path), outer_folds=3)
    outer = list(outer_studies(config, tiny_dataset))
    assert [fold for fold, _, _ in outer] == [0, 1, 2]
    held_out = np.concatenate([data.x_test for _, _, data in outer])
    assert len(held_out) == len(tiny_dataset.y_train)
    # Every training row is held out exactly once, and never trained on by its own search.
    rows = {row.tobytes() for row in tiny_dataset.x_train}
    assert {row.tobytes() for row in held_out} == rows
    for fold, inner, data in outer:
        assert (
            inner.name
            == outer_study_name(config.name, fold, 3)
            == f"digits-torch-outer{fold + 1}of3"
        )
        assert inner.outer_folds is None and inner.identity() == config.identity()
        assert len(data.y_train) + len(data.y_test) == len(tiny_dataset.y_train)
        train = {row.tobytes() for row in data.x_train}
        assert not train & {row.tobytes() for row in data.x_test}
        assert data.held_out.startswith(f"the held-out part of outer fold {fold + 1} of 3 of")
    again = list(outer_studies(config, tiny_dataset))
    assert all((a[2].y_test == b[2].y_test).all() for a, b in zip(outer, again, strict=True))


def test_nested_cv_from_the_command_line_stores_and_reports_the_estimate(
    tmp_path, fake_backend, capsys
):
    storage = f"sqlite:///{tmp_path}/nested.db"
    args = [
        "--backend", "torch", "--dataset", "digits", "--outer-folds", "3", "--folds", "3",
        "--trials", "3", "--epochs", "2", "--storage", storage, "--quiet",
    ]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    assert names == {"digits-torch", *(f"digits-torch-outer{i}of3" for i in (1, 2, 3))}
    record = optuna.load_study(study_name="digits-torch", storage=storage).user_attrs["nested"]
    inner = [
        optuna.load_study(study_name=f"digits-torch-outer{i}of3", storage=storage).user_attrs
        for i in (1, 2, 3)
    ]
    scores = [attrs["refit"]["test_accuracy"] for attrs in inner]
    assert [o["accuracy"] for o in record["outer"]] == scores
    assert record["nested_accuracy"] == pytest.approx(np.mean(scores))
    assert record["nested_std"] == pytest.approx(np.std(scores))
    main_study = optuna.load_study(study_name="digits-torch", storage=storage).user_attrs
    assert record["cv_accuracy"] == main_study["refit"]["cv_accuracy"]
    assert record["test_accuracy"] == main_study["refit"]["test_accuracy"]
    # Each inner study was tested on its outer fold's held-out third of the 1,347 rows.
    assert all(
        "(test set: the held-out part of outer fold" in attrs["dataset_summary"] for attrs in inner
    )
    assert "Outer fold 2 of 3: the whole search, as study 'digits-torch-outer2of3'" in out
    assert f"Nested estimate of the search: {np.mean(scores):.4f}" in out
    assert "Non-nested best CV score" in out and "Chosen across outer folds:" in out

    # A rerun resumes every study: nothing new is trained, the same estimate is reported.
    assert main(args) == 0
    again = capsys.readouterr().out
    assert again.count("Resuming: 3 of 3 trials are already finished.") == 4
    assert f"Nested estimate of the search: {np.mean(scores):.4f}" in again
    assert all(
        len(optuna.load_study(study_name=name, storage=storage).trials) == 3 for name in names
    )
    # inspect shows the stored estimate.
    from regsearch.inspect import main as inspect

    assert inspect(["--storage", storage, "--study", "digits-torch"]) == 0
    assert "Nested estimate of the search" in capsys.readouterr().out
    # The report draws the outer scores and the chosen lambdas, and prints the table.
    pytest.importorskip("matplotlib")
    from regsearch.report import main as report

    assert report(["--storage", storage, "--study", "digits-torch", "--out", str(tmp_path)]) == 0
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert (tmp_path / "nested_cv.png").stat().st_size > 5000 and 'src="nested_cv.png"' in html
    assert "<pre>Nested cross-validation (3 outer folds" in html


def test_the_stability_line_counts_types_and_the_lambda_range():
    outer = [
        {"fold": 1, "penalty": "l2", "l1": 0.0, "l2": 1e-4},
        {"fold": 2, "penalty": "l2", "l1": 0.0, "l2": 4e-4},
        {"fold": 3, "penalty": "none", "l1": 0.0, "l2": 0.0},
    ]
    for o in outer:
        o.update(study=f"s-outer{o['fold']}of3", inner_cv_accuracy=0.9, accuracy=0.8)
        o["baseline_accuracy"] = 0.79
    record = {
        "outer_folds": 3, "outer": outer, "nested_accuracy": 0.8, "nested_std": 0.0,
        "baseline_nested_accuracy": 0.79, "cv_accuracy": 0.9, "test_accuracy": 0.85,
        "penalty": "l2", "l1": 0.0, "l2": 2e-4,
    }  # fmt: skip
    assert stability(record) == (
        "l2 in 2 of 3; none in 1 of 3; l2 from 0.0001 to 0.0004 (a factor of 4); "
        "on all training data: l2 l2=0.0002"
    )
    text = "\n".join(nested_lines(record))
    assert "the baseline's, alike: 0.7900 (+1.00 pp for the search)" in text
    assert "+10.00 pp above the nested estimate); test set: 0.8500" in text
    assert "Inner studies, in the same storage: s-outer1of3 to s-outer3of3." in text


def test_the_python_api_runs_nested_cv_and_returns_the_main_study(tmp_path, tiny_dataset):
    from regsearch import run_study

    config = dataclasses.replace(fake_study_config(tmp_path), outer_folds=2, trials=3)
    result = run_study(config, backend=FakeBackend(), dataset=tiny_dataset)
    assert result.study.study_name == "digits-torch"
    record = result.study.user_attrs["nested"]
    assert [o["study"] for o in record["outer"]] == [
        "digits-torch-outer1of2",
        "digits-torch-outer2of2",
    ]
    assert record["test_accuracy"] == result.chosen.test_accuracy
    inner = optuna.load_study(study_name="digits-torch-outer2of2", storage=config.storage)
    assert (
        len(inner.trials) == 3
        and inner.user_attrs["refit"]["test_accuracy"] == (record["outer"][1]["accuracy"])
    )
