"""RegularizationSearchCV: a scikit-learn estimator over the study."""

from __future__ import annotations

import pickle

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState, create_trial
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from regsearch import ConfigError, DataError, RegularizationSearchCV
from regsearch.cv.folds import folds_fingerprint
from regsearch.present.rows import cv_results

# Settings under which the tiny MLP learns scikit-learn's check data (3 blobs, 150 rows) well
# enough for its accuracy checks, in well under a second per fit: the baseline trial alone (the
# search itself is tested above), 2 folds, 20 epochs.
QUICK = {"cv": 2, "n_trials": 1, "epochs": 20, "lr": 0.02, "hidden": (16,), "patience": 3}


def test_parameters_round_trip_and_clone_keeps_them_unfitted():
    search = RegularizationSearchCV("cnn", backend="tf", cv=KFold(3), n_trials=7, penalties=("l2",))
    params = search.get_params()
    assert params["model"] == "cnn" and params["n_trials"] == 7 and params["penalties"] == ("l2",)
    copy = clone(search.set_params(lambda_max=0.01))
    assert copy.get_params()["lambda_max"] == 0.01 and not hasattr(copy, "study_")
    assert isinstance(copy.cv, KFold) and copy.cv is not search.cv


def test_cv_results_mask_what_a_pruned_trial_lacks_and_rank_it_last():
    study = optuna.create_study(direction="maximize")
    dist = {
        "penalty": optuna.distributions.CategoricalDistribution(["l1", "l2"]),
        "l2": optuna.distributions.FloatDistribution(1e-6, 1e-1, log=True),
    }
    folds = {"split0_test_accuracy": 0.8, "split1_test_accuracy": 0.9, "split0_fit_time": 1.0}
    study.add_trial(
        create_trial(
            value=0.85,
            user_attrs={**folds, "baseline": True, "penalty": "none", "std_test_accuracy": 0.05},
        )
    )
    study.add_trial(
        create_trial(
            state=TrialState.PRUNED,
            params={"penalty": "l2", "l2": 1e-3},
            distributions=dist,
            user_attrs={"split0_test_accuracy": 0.5, "penalty": "l2"},
        )
    )
    study.add_trial(
        create_trial(
            value=0.9,
            params={"penalty": "l2", "l2": 1e-4},
            distributions=dist,
            user_attrs={"split0_test_accuracy": 0.9, "split1_test_accuracy": 0.9},
        )
    )
    results = cv_results(study, 2)
    assert results["params"] == [
        {"penalty": "none"},
        {"penalty": "l2", "l2": 1e-3},
        {"penalty": "l2", "l2": 1e-4},
    ]
    assert list(results["param_l2"].mask) == [True, False, False]
    assert list(results["param_l1"].mask) == [True, True, True]
    assert list(results["split1_test_score"].mask) == [False, True, False]
    assert results["split0_test_score"][1] == 0.5  # a pruned trial keeps the folds it finished
    assert list(results["mean_test_score"].mask) == [False, True, False]
    assert list(results["rank_test_score"]) == [2, 3, 1]
    assert list(results["state"]) == ["COMPLETE", "PRUNED", "COMPLETE"]
    assert list(results["baseline"]) == [True, False, False]
    assert {len(v) for v in results.values()} == {3}


def test_refused_cv_and_single_class_say_what_must_hold():
    x, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
    with pytest.raises(ConfigError, match="cv must be a number of folds"):
        RegularizationSearchCV(cv="five").fit(x, y)
    with pytest.raises(DataError, match="at least two classes"):
        RegularizationSearchCV().fit(x, np.zeros(20, dtype=int))

    class OneSplit:
        def split(self, x, y=None, groups=None):
            yield np.arange(10), np.arange(10, 20)

    with pytest.raises(ConfigError, match="gave 1 split"):
        RegularizationSearchCV(cv=OneSplit()).fit(x, y)
    for bad in (0, 1.5, True):
        with pytest.raises(ConfigError, match="n_jobs must be None, a positive number"):
            RegularizationSearchCV(n_jobs=bad).fit(x, y)


def test_worker_processes_refuse_a_builder_they_cannot_import():
    from regsearch.run.workers import _check_importable

    with pytest.raises(ConfigError, match="need the model builder by its importable name"):
        _check_importable(lambda shape, k: None)
    _check_importable("mlp")
    _check_importable(load_digits)  # any module-level function travels


@pytest.mark.slow
def test_n_jobs_runs_worker_processes_on_the_splitters_splits(tmp_path):
    """``n_jobs=2``: two worker processes run the trials, each scoring the estimator's own
    splitter's splits (the study's folds fingerprint is the splitter's); the refit runs
    here."""
    from regsearch import records

    x, y = load_digits(return_X_y=True)
    x, y = x[:400], y[:400]
    splitter = KFold(3, shuffle=True, random_state=2)
    storage = f"sqlite:///{tmp_path / 'jobs.db'}"
    search = RegularizationSearchCV(
        cv=splitter, n_trials=4, epochs=3, n_jobs=2, storage=storage, study_name="jobs"
    ).fit(x, y)
    stored = optuna.load_study(study_name="jobs", storage=storage)
    assert stored.user_attrs["folds_fingerprint"] == folds_fingerprint(list(splitter.split(x, y)))
    trials = stored.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(trials) == 4
    assert records.worker_id() not in {records.attrs(t)["worker"] for t in trials}
    assert search.predict(x[:5]).shape == (5,)


@pytest.mark.slow
def test_a_pipeline_searches_refits_and_predicts_on_digits(tmp_path):
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, random_state=0, stratify=y)
    labels = np.array(list("abcdefghij"))  # labels need not be 0..k-1
    pipe = make_pipeline(
        MinMaxScaler(),
        RegularizationSearchCV(backend="torch", cv=3, n_trials=4, epochs=30, hidden=(32,)),
    ).fit(x_train, labels[y_train])
    search = pipe[-1]
    assert list(search.classes_) == list(labels)
    assert search.n_splits_ == 3 and len(search.cv_results_["params"]) == 4
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]
    assert search.best_score_ == search.cv_results_["mean_test_score"].max()
    assert search.cv_results_["baseline"][0] and search.refit_time_ > 0
    assert pipe.score(x_test, labels[y_test]) > 0.9
    assert set(pipe.predict(x_test[:20])) <= set(labels)
    proba = pipe.predict_proba(x_test[:5])
    assert proba.shape == (5, 10) and np.allclose(proba.sum(1), 1, atol=1e-5)
    study = search.study_  # in memory, with the study command's records
    assert isinstance(study._storage, optuna.storages.InMemoryStorage)
    assert (
        study.user_attrs["refit"]["trial_number"]
        == study.trials[search.cv_results_["trial_number"][search.best_index_]].number
    )
    assert np.isnan(study.user_attrs["refit"]["test_accuracy"])  # no test set: none measured
    assert study.user_attrs["answer"].startswith("Chosen:")
    assert study.user_attrs["config"]["dataset"] == "arrays"  # not the default "mnist"
    clone_of_fitted = pickle.loads(pickle.dumps(pipe))
    assert (clone_of_fitted.predict(x_test) == pipe.predict(x_test)).all()


@pytest.mark.slow
def test_a_splitter_a_lambda_builder_a_stored_study_and_refit_false(tmp_path):
    import torch

    x, y = load_digits(return_X_y=True)
    x, y = x[:600] / 16, y[:600]
    build = lambda shape, n: torch.nn.Sequential(  # noqa: E731 (a lambda on purpose)
        torch.nn.Flatten(), torch.nn.Linear(int(np.prod(shape)), 32), torch.nn.ReLU(),
        torch.nn.Linear(32, n),
    )  # fmt: skip
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    splitter = KFold(4, shuffle=True, random_state=1)
    search = RegularizationSearchCV(
        build, cv=splitter, n_trials=3, epochs=5, storage=storage, study_name="mine"
    ).fit(x, y)
    expected = folds_fingerprint(list(splitter.split(x, y)))
    assert search.n_splits_ == 4
    stored = optuna.load_study(study_name="mine", storage=storage)
    assert stored.user_attrs["splitter"] == {"splitter": repr(splitter), "test_to_train": 1 / 3}
    assert stored.user_attrs["refit"]["model_path"].endswith("mine.pt")
    assert stored.user_attrs["answer"].startswith("Chosen:")  # kept: shown on the dashboard
    # The answer as data, on the estimator as in the study (None: nothing to compare)
    comparison = search.comparison_
    assert (comparison and comparison.record()) == stored.user_attrs["comparison"]
    assert len(list((tmp_path / "artifacts").iterdir())) >= 5
    assert search.predict(x[:10]).shape == (10,)
    assert stored.user_attrs["folds_fingerprint"] == expected  # every trial on these splits
    # The same storage and name resume the study: nothing more is trained.
    again = RegularizationSearchCV(
        build, cv=splitter, n_trials=3, epochs=5, storage=storage, study_name="mine", refit=False
    ).fit(x, y)
    assert len(again.study_.trials) == 3 and again.best_params_ == search.best_params_
    with pytest.raises(AttributeError, match="refit=False"):
        again.predict(x[:3])


@pytest.mark.slow
def test_the_keras_backend_in_a_pipeline():
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, random_state=0, stratify=y)
    pipe = make_pipeline(
        MinMaxScaler(),
        RegularizationSearchCV(backend="tf", cv=3, n_trials=3, epochs=20, hidden=(32,)),
    ).fit(x_train, y_train)
    assert pipe.score(x_test, y_test) > 0.85
    assert pipe[-1].predict_proba(x_test[:3]).shape == (3, 10)


@pytest.mark.slow
def test_scikit_learns_estimator_checks_pass():
    """All of ``check_estimator`` but the array-API check, which needs SCIPY_ARRAY_API."""
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(RegularizationSearchCV(backend="torch", **QUICK), on_fail=None)
    failed = [
        (r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"
    ]
    assert failed == []
    assert sum(r["status"] == "passed" for r in results) >= 50
