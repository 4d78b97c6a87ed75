"""The orchestration (sample, cross-validate, store, resume, refit) with the fake backend."""

from __future__ import annotations

import dataclasses

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from regsearch import SearchSpace, StudyConfig, TrainSettings, records, run_study
from regsearch.cv.refit import refit_epochs
from regsearch.errors import ConfigError, NothingToRefit, StudyMismatch
from regsearch.present.text import summary
from regsearch.seeds import fold_seed
from regsearch.testing import FakeBackend
from tests.conftest import fake_study_config, synthetic_dataset


@pytest.fixture
def config(tmp_path):
    return fake_study_config(tmp_path)


def test_study_records_folds_baseline_and_refit(config, tiny_dataset, tmp_path):
    backend = FakeBackend()
    result = run_study(config, backend=backend, dataset=tiny_dataset)
    study = result.study
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == 4 and result.new_trials == 4

    baseline = trials[0]
    assert baseline.user_attrs["baseline"] is True and baseline.params == {}
    assert baseline.user_attrs["penalty"] == "none"
    assert all("penalty" in t.params for t in trials[1:])

    for t in trials:
        for i in range(3):
            for key in (
                "test_accuracy",
                "test_loss",
                "best_epoch",
                "fit_time",
                "history",
                "weight_l1",
                "weight_l2",
                "weight_sparsity",
            ):
                assert f"split{i}_{key}" in records.attrs(t)
        # What optuna-dashboard and `optuna trials` show is the scores; the rest is details.
        assert set(t.user_attrs) <= {
            *(f"split{i}_test_accuracy" for i in range(3)),
            "mean_test_accuracy", "std_test_accuracy", "penalty", "baseline",
        }  # fmt: skip
        assert "split0_history" in t.system_attrs and "worker" in t.system_attrs
        splits = [t.user_attrs[f"split{i}_test_accuracy"] for i in range(3)]
        assert t.value == pytest.approx(np.mean(splits))
        assert t.user_attrs["mean_test_accuracy"] == pytest.approx(np.mean(splits))
        assert t.user_attrs["std_test_accuracy"] == pytest.approx(np.std(splits))
        assert t.intermediate_values == {
            i: pytest.approx(np.mean(splits[: i + 1])) for i in range(3)
        }

    trainer = backend.trainers[0]
    cv_calls = [c for c in trainer.calls if c.val_idx is not None]
    assert len(cv_calls) == 12
    for i in range(3):  # fold i: same rows and same seed in every trial
        fold_calls = cv_calls[i::3]
        assert all((c.val_idx == fold_calls[0].val_idx).all() for c in fold_calls)
        assert {c.seed for c in fold_calls} == {fold_seed(0, i)}
        assert not set(fold_calls[0].val_idx) & set(fold_calls[0].train_idx)

    refits = [c for c in trainer.calls if c.val_idx is None]
    # chosen and baseline, or one refit when the baseline is the best
    assert len(refits) == (1 if result.chosen.trial_number == 0 else 2)
    assert all((c.train_idx == np.arange(240)).all() and c.epochs == 2 for c in refits)

    attrs = study.user_attrs
    assert attrs["refit"]["trial_number"] == study.best_trial.number == result.chosen.trial_number
    assert attrs["baseline_refit"]["trial_number"] == 0
    assert 0.5 <= attrs["refit"]["test_accuracy"] <= 1.0  # 3 classes: chance is 1/3
    assert attrs["config"]["folds"] == 3 and len(attrs["folds_fingerprint"]) == 64
    assert attrs["versions"]["fake"] == "1" and "optuna" in attrs["versions"]
    assert (tmp_path / "digits-torch.npy").is_file()


def test_repeated_cv_scores_every_trial_on_the_same_r_x_k_splits(config, tiny_dataset):
    config = dataclasses.replace(config, repeats=2, trials=3)
    backend = FakeBackend()
    result = run_study(config, backend=backend, dataset=tiny_dataset)
    study = result.study
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    assert study.user_attrs["config"]["repeats"] == 2
    for t in trials:
        splits = [t.user_attrs[f"split{i}_test_accuracy"] for i in range(6)]
        assert "split6_test_accuracy" not in t.user_attrs
        assert t.value == pytest.approx(np.mean(splits))
    cv_calls = [c for c in backend.trainers[0].calls if c.val_idx is not None]
    assert len(cv_calls) == 3 * 6
    for i in range(6):  # split i: same rows and seed in every trial
        calls = cv_calls[i::6]
        assert all((c.val_idx == calls[0].val_idx).all() for c in calls)
        assert {c.seed for c in calls} == {fold_seed(0, i)}
    for r in range(2):  # each repetition validates every training row exactly once
        rows = np.concatenate([c.val_idx for c in cv_calls[3 * r : 3 * r + 3]])
        assert sorted(rows) == list(range(240))
    assert set(cv_calls[0].val_idx) != set(cv_calls[3].val_idx)
    text = summary(result, config)
    assert "over 2 x 3 folds (6 splits)" in text


def test_resume_adds_only_missing_trials(config, tiny_dataset):
    first = run_study(config, backend=FakeBackend(), dataset=tiny_dataset).study
    before = {t.number: t.value for t in first.trials}
    again = run_study(
        dataclasses.replace(config, trials=6), backend=FakeBackend(), dataset=tiny_dataset
    )
    assert again.new_trials == 2
    after = again.study.trials
    assert len(after) == 6 and {t.number: t.value for t in after[:4]} == before
    assert sum(bool(t.user_attrs.get("baseline")) for t in after) == 1
    same = run_study(config, backend=FakeBackend(), dataset=tiny_dataset)
    assert same.new_trials == 0 and len(same.study.trials) == 6


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"folds": 4}, "config.folds: stored 3, now 4"),
        ({"repeats": 2}, "config.repeats: stored 1, now 2"),
        ({"seed": 1}, "config.seed: stored 0, now 1"),
        ({"space": SearchSpace(penalties=("l2",))}, "config.space.penalties"),
        ({"train": TrainSettings(epochs=3, lr=0.01)}, "config.train.lr"),
        ({"scale": "minmax"}, "config.scale: stored 'standard', now 'minmax'"),
        ({"space": SearchSpace(lr_range=(1e-4, 1e-2))}, "config.space.lr_range"),
        (
            {"space": SearchSpace(penalties=("l1", "l2", "l1_l2", "weight_decay"))},
            "config.space.penalties",
        ),
    ],
)
def test_mismatching_resume_is_refused_without_writing(config, tiny_dataset, change, named):
    run_study(config, backend=FakeBackend(), dataset=tiny_dataset)
    storage = config.storage
    snapshot = optuna.load_study(study_name=config.name, storage=storage)
    n_trials, attrs = len(snapshot.trials), snapshot.user_attrs
    with pytest.raises(StudyMismatch) as info:
        run_study(
            dataclasses.replace(config, **change), backend=FakeBackend(), dataset=tiny_dataset
        )
    assert named in str(info.value) and "study_name digits-torch-2" in str(info.value)
    reloaded = optuna.load_study(study_name=config.name, storage=storage)
    assert len(reloaded.trials) == n_trials and reloaded.user_attrs == attrs


def test_the_study_records_its_model_and_refuses_another_on_resume(config, tiny_dataset, tmp_path):
    run_study(config, backend=FakeBackend(), dataset=tiny_dataset)
    attrs = optuna.load_study(study_name=config.name, storage=config.storage).user_attrs
    assert attrs["model"]["trainable_parameters"] == 8 * 3 + 3
    assert len(attrs["model"]["fingerprint"]) == 64
    assert attrs["model_summary"]["spec"] == "mlp"
    assert attrs["model_summary"]["penalized"] == [["w", [8, 3]]]
    assert attrs["model_summary"]["not_penalized"] == [["b", [3]]]
    other = tmp_path / "other_net.py"
    other.write_text("def build(shape, k):\n    raise AssertionError('never built')\n")
    changed = dataclasses.replace(config, model=f"{other}:build", study_name=config.name)
    with pytest.raises(StudyMismatch, match=f"model: stored mlp, now {other}:build"):
        run_study(changed, backend=FakeBackend(), dataset=tiny_dataset)
    reloaded = optuna.load_study(study_name=config.name, storage=config.storage)
    assert reloaded.user_attrs == attrs


def test_auto_scaling_is_resolved_per_dataset_said_and_stored(config, tiny_dataset):
    said: list[str] = []
    backend = FakeBackend()
    run_study(
        dataclasses.replace(config, trials=2),
        backend=backend,
        dataset=tiny_dataset,
        log=said.append,
    )
    assert backend.trainers[0].scaling == "standard"  # tabular features
    assert any(line.startswith("Scaling: standard, (x - mean) / std") for line in said)
    attrs = optuna.load_study(study_name=config.name, storage=config.storage).user_attrs
    assert attrs["config"]["scale"] == "standard"
    assert attrs["dataset_summary"].endswith("; features scaled: standard, fitted per fold")
    pixels = dataclasses.replace(
        tiny_dataset,
        x_train=tiny_dataset.x_train.reshape(-1, 2, 4, 1),
        x_test=tiny_dataset.x_test.reshape(-1, 2, 4, 1),
        pixels=True,
    )
    backend = FakeBackend()
    run_study(
        dataclasses.replace(config, trials=2, study_name="images"), backend=backend, dataset=pixels
    )
    assert backend.trainers[0].scaling == "none"


def test_a_study_stored_before_scaling_existed_resumes_as_unscaled(config, tiny_dataset):
    unscaled = dataclasses.replace(config, scale="none", trials=2)
    run_study(unscaled, backend=FakeBackend(), dataset=tiny_dataset)
    study = optuna.load_study(study_name=config.name, storage=config.storage)
    older = {k: v for k, v in study.user_attrs["config"].items() if k != "scale"}
    study.set_user_attr("config", older)  # as a study of an earlier regsearch stored it
    resumed = run_study(
        dataclasses.replace(unscaled, trials=3), backend=FakeBackend(), dataset=tiny_dataset
    )
    assert resumed.new_trials == 1
    with pytest.raises(StudyMismatch, match="config.scale: stored 'none', now 'standard'"):
        run_study(config, backend=FakeBackend(), dataset=tiny_dataset)


def test_other_data_is_refused(config, tiny_dataset):
    run_study(config, backend=FakeBackend(), dataset=tiny_dataset)
    with pytest.raises(StudyMismatch, match="dataset_fingerprint"):
        run_study(config, backend=FakeBackend(), dataset=synthetic_dataset(seed=1))


def test_divergence_prunes_the_trial_with_reason_and_the_study_goes_on(config, tiny_dataset):
    config = dataclasses.replace(config, trials=8, space=SearchSpace(penalties=("l1", "l2")))
    result = run_study(config, backend=FakeBackend(diverge_above=1e-3), dataset=tiny_dataset)
    pruned = result.study.get_trials(states=(TrialState.PRUNED,))
    assert pruned, "the sampler never drew l1 > 1e-3; widen the test"
    for t in pruned:
        assert t.params["l1"] > 1e-3
        assert t.user_attrs["state_reason"].startswith(
            "diverged in fold 0: training loss became nan"
        )
    finished = result.study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 8
    assert result.chosen.penalty in ("none", "l1", "l2")


def test_all_diverging_ends_with_a_clear_error_and_no_refit(config, tiny_dataset):
    backend = FakeBackend(diverge_above=-1.0)  # even the baseline "diverges"
    with pytest.raises(NothingToRefit, match="every one diverged or was pruned"):
        run_study(config, backend=backend, dataset=tiny_dataset)
    assert all(c.val_idx is not None for c in backend.trainers[0].calls)  # no refit


def test_refit_epochs_is_ceil_of_median():
    trial = optuna.trial.create_trial(
        value=0.5,
        user_attrs={
            "split0_best_epoch": 2,
            "split1_best_epoch": 3,
            "split2_best_epoch": 3,
            "split3_best_epoch": 4,
        },
    )
    assert refit_epochs(trial) == 3
    trial.user_attrs["split4_best_epoch"] = 1
    trial.user_attrs["split5_best_epoch"] = 2
    assert refit_epochs(trial) == 3  # median 2.5 -> 3


@pytest.mark.parametrize("pruner", ["median", "hyperband", "wilcoxon"])
def test_pruners_stop_hopeless_trials_and_keep_their_finished_folds(config, pruner):
    """Strong ridge penalties ruin the fake model; the pruners stop such trials early.

    Wilcoxon's signed-rank test needs several folds before any p-value can fall below 0.1.
    """
    folds = 8 if pruner == "wilcoxon" else 5
    dataset = synthetic_dataset(n_train=320, n_classes=3)
    config = dataclasses.replace(
        config,
        folds=folds,
        trials=20,
        pruner=pruner,
        scale="none",  # the fake's ridge on the raw blobs, as the pruners were tuned on
        space=SearchSpace(penalties=("l2",), lambda_min=1e-4, lambda_max=1e2),
    )
    backend = FakeBackend()
    result = run_study(config, backend=backend, dataset=dataset)
    pruned = result.study.get_trials(states=(TrialState.PRUNED,))
    assert pruned, f"the {pruner} pruner stopped nothing"
    for t in pruned:
        done = [k for k in t.user_attrs if k.endswith("_test_accuracy")]
        assert 1 <= len(done) < folds  # stopped between folds, finished folds kept
        assert t.user_attrs["state_reason"].startswith("pruned after fold")
        assert "mean_test_accuracy" not in t.user_attrs
    cv_calls = [c for c in backend.trainers[0].calls if c.val_idx is not None]
    assert len(cv_calls) < 20 * folds
    assert result.study.best_trial.state == TrialState.COMPLETE


def test_refit_runs_once_per_chosen_trial_and_a_dead_claim_can_be_taken_over(config, tiny_dataset):
    from regsearch.errors import RefitElsewhere
    from regsearch.run.claims import claim_refit
    from regsearch.run.refit_once import refit_once
    from regsearch.run.session import StudySession

    backend = FakeBackend()
    first = StudySession.open(config, backend=backend, dataset=tiny_dataset)
    first.optimize()
    chosen_number = first.study.best_trial.number
    # Another worker claimed the refit and died before storing a result.
    assert claim_refit(first.storage, first.study.study_name, chosen_number) is None
    assert claim_refit(first.storage, first.study.study_name, chosen_number) is not None
    with pytest.raises(RefitElsewhere, match="run this command with refit_only"):
        refit_once(first)
    assert "refit" not in first.study.user_attrs
    chosen, baseline = refit_once(first, take_over=True)  # --refit-only
    assert chosen.trial_number == chosen_number and baseline is not None
    # Any later worker (or rerun) gets the stored result and trains nothing.
    later = StudySession.open(config, backend=backend, dataset=tiny_dataset)
    assert later.optimize() == 0
    assert refit_once(later) == (chosen, baseline)
    assert later.trainer.calls == []  # the model was checked, not trained


@pytest.mark.parametrize(("pruner", "batched"), [("none", True), ("median", False)])
def test_folds_are_trained_at_once_only_when_nothing_is_pruned_between_them(
    config, tiny_dataset, pruner, batched
):
    backend = FakeBackend()
    run_study(dataclasses.replace(config, pruner=pruner), backend=backend, dataset=tiny_dataset)
    trainer = backend.trainers[0]
    assert (trainer.batched_calls == 4) is batched  # one batched call per trial
    fold_seeds = [call.seed for call in trainer.calls if call.val_idx is not None]
    assert fold_seeds[:3] == [fold_seed(config.seed, i) for i in range(3)]


def test_the_python_api_runs_workers(config, tiny_dataset, tmp_path):
    """``workers`` in the config, as ``--workers`` on the command line: worker processes share
    the study, each with its own sampler stream, and the refit runs once, here. Each worker
    loads the user's model file by its spec."""
    net = tmp_path / "user_net.py"
    net.write_text("def build(shape, k):\n    return None  # the fake backend never calls it\n")
    result = run_study(
        dataclasses.replace(config, workers=2, trials=6, model=f"{net}:build"),
        backend=FakeBackend(),
        dataset=tiny_dataset,
    )
    assert result.study.study_name == "digits-user_net-torch"
    assert result.study.user_attrs["model_summary"]["spec"] == f"{net}:build"
    trials = result.study.get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == 6 and result.new_trials == 6
    workers = {records.attrs(t)["worker"] for t in trials}
    assert records.worker_id() not in workers  # run by the worker processes, not here
    sampled = [tuple(sorted(t.params.items())) for t in trials if t.params]
    assert len(set(sampled)) == len(sampled) == 5
    assert result.study.user_attrs["refit"]["trial_number"] == result.chosen.trial_number


def test_arrays_from_a_notebook_run_a_study_and_the_held_out_split_is_stored(config):
    from regsearch.data import Dataset

    blobs = synthetic_dataset(n_train=300)
    data = Dataset.from_arrays(blobs.x_train, blobs.y_train, test_size=0.2, seed=0)
    result = run_study(config, backend=FakeBackend(), dataset=data)
    summary = result.study.user_attrs["dataset_summary"]
    assert "240 training and 60 test examples (test set: a stratified 0.2" in summary
    assert result.study.user_attrs["dataset_fingerprint"] == data.fingerprint()


def test_a_training_sample_names_the_study_and_is_part_of_its_identity(config, monkeypatch):
    from regsearch.data import Dataset

    blobs = synthetic_dataset(n_train=300)
    monkeypatch.setattr(
        "regsearch.run.session.load_dataset",
        lambda *args, **kwargs: Dataset.from_arrays(blobs.x_train, blobs.y_train, test_size=0.2),
    )
    sampled = dataclasses.replace(config, study_name=None, train_size=120)
    assert sampled.name == "digits120-torch"
    study = run_study(sampled, backend=FakeBackend()).study
    assert study.user_attrs["config"]["train_size"] == 120
    assert "120 training (a stratified sample of its 240" in study.user_attrs["dataset_summary"]
    with pytest.raises(StudyMismatch, match="config.train_size: stored 120, now 150"):
        run_study(
            dataclasses.replace(sampled, train_size=150, study_name="digits120-torch"),
            backend=FakeBackend(),
        )


def test_a_trial_batch_trains_several_trials_folds_as_one_population(config, tiny_dataset):
    batched = dataclasses.replace(config, pruner="none", trials=9, trial_batch=4)
    backend = FakeBackend()
    said: list[str] = []
    result = run_study(batched, backend=backend, dataset=tiny_dataset, log=said.append)
    trainer = backend.trainers[0]
    complete = result.study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 9 and len(result.study.trials) == 9
    # Every fold of every trial trained in a population; some held several trials' folds.
    assert sum(trainer.population_sizes) == 9 * config.folds
    assert max(trainer.population_sizes) > config.folds
    assert all(size % config.folds == 0 for size in trainer.population_sizes)
    assert any(line.startswith("Trials train 4 at a time") for line in said)
    # A trial's numbers are those of training it alone: the baseline's match a plain run.
    alone = run_study(
        dataclasses.replace(config, pruner="none", trials=1, study_name="alone"),
        backend=FakeBackend(),
        dataset=tiny_dataset,
    )
    baseline = next(t for t in complete if t.user_attrs.get("baseline"))
    assert baseline.value == alone.study.trials[0].value


def test_a_trial_batch_needs_the_folds_unpruned_or_judged_between_epochs(config):
    with pytest.raises(ConfigError, match="trains the folds of several trials together"):
        dataclasses.replace(config, pruner="median", trial_batch=4)
    assert dataclasses.replace(config, pruner="epochs", trial_batch=4).trial_batch == 4


@pytest.mark.parametrize("trial_batch", [1, 4])
def test_the_epochs_pruner_judges_folds_trained_at_once_between_epochs(
    config, trial_batch, monkeypatch
):
    """Strong ridge penalties ruin the fake model; the epochs pruner stops those trials
    between epochs with their folds trained at once (alone, or in a population), reports
    every finished trial's mean per epoch, and keeps the best trial."""
    import functools

    # Every trial sampled at random (TPE's start-up phase throughout), half of them above
    # lambda 1, which ruins the fake model: with TPE's own choices after 10 trials, a
    # population's thread order sometimes left no ruined trial where the pruner judges.
    tpe = functools.partial(optuna.samplers.TPESampler, n_startup_trials=100)
    monkeypatch.setattr("regsearch.run.session.optuna.samplers.TPESampler", tpe)
    dataset = synthetic_dataset(n_train=320, n_classes=3)
    config = dataclasses.replace(
        config,
        folds=3,
        trials=16,
        pruner="epochs",
        trial_batch=trial_batch,
        scale="none",
        train=dataclasses.replace(config.train, epochs=5),
        space=SearchSpace(penalties=("l2",), lambda_min=1e-4, lambda_max=1e4),
    )
    backend = FakeBackend()
    result = run_study(config, backend=backend, dataset=dataset)
    trainer = backend.trainers[0]
    assert sum(trainer.population_sizes) == 16 * 3  # every fold trained batched
    pruned = result.study.get_trials(states=(TrialState.PRUNED,))
    assert pruned, "the epochs pruner stopped nothing"
    for t in pruned:
        epoch = t.last_step
        assert epoch is not None and 2 <= epoch < 5  # judged from 40% of 5 epochs on
        assert t.user_attrs["state_reason"].startswith(f"pruned after epoch {epoch} of 5")
        assert not any(k.startswith("split") for k in records.attrs(t))  # no partial folds stored
    assert sorted(trainer.judged) == sorted(t.last_step for t in pruned)
    complete = result.study.get_trials(states=(TrialState.COMPLETE,))
    best = max(complete, key=lambda t: t.value)
    assert best.intermediate_values == {e: pytest.approx(best.value) for e in range(1, 6)}
    assert result.study.best_trial.number == best.number


@pytest.mark.parametrize(("batched", "pruner"), [(True, "epochs"), (False, "median")])
def test_the_auto_pruner_judges_epochs_where_folds_train_at_once_else_folds(
    config, tiny_dataset, batched, pruner
):
    from regsearch.run.session import StudySession

    said: list[str] = []
    session = StudySession.open(
        dataclasses.replace(config, pruner="auto"),
        backend=FakeBackend(batched=batched),
        dataset=tiny_dataset,
        log=said.append,
    )
    assert session.config.pruner == pruner
    assert f"Pruner: {pruner} (auto)" in "\n".join(said)
    assert StudyConfig(backend="torch").pruner == "auto"  # the default


def test_the_epochs_pruner_is_refused_where_folds_train_one_at_a_time(config, tiny_dataset):
    from regsearch.run.session import StudySession

    sequential = FakeBackend(batched=False)
    with pytest.raises(ConfigError, match="pruner epochs judges a trial between the epochs"):
        StudySession.open(
            dataclasses.replace(config, pruner="epochs"), backend=sequential, dataset=tiny_dataset
        )
    assert not list(optuna.get_all_study_summaries(config.storage))


def test_ctrl_c_in_a_population_fails_its_trials_and_stops_the_study(config, tiny_dataset):
    from regsearch import interrupt
    from regsearch.observe import Observer

    class StopAfterFour(Observer):
        seen = 0

        def on_trial(self, study, trial):
            self.seen += 1
            if self.seen == 4:
                interrupt._requested.set()  # as the Ctrl-C handler does

    batched = dataclasses.replace(config, pruner="none", trials=12, trial_batch=4)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_study(
                batched, backend=FakeBackend(), dataset=tiny_dataset, observer=StopAfterFour()
            )
    finally:
        interrupt._requested.clear()
    study = optuna.load_study(study_name=config.name, storage=config.storage)
    states = [t.state for t in study.trials]
    assert states.count(TrialState.COMPLETE) >= 4 and len(states) <= 8
    failed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert failed and all("interrupted" in t.user_attrs["state_reason"] for t in failed)
    assert sum(records.is_baseline(t) for t in study.trials) == 1


def test_weight_decay_and_the_learning_rate_are_searched_for_every_family(config, tiny_dataset):
    space = SearchSpace(
        penalties=("l2", "weight_decay"), decay_min=1e-3, decay_max=1.0, lr_range=(1e-4, 1e-2)
    )
    searched = dataclasses.replace(config, space=space, trials=12)
    backend = FakeBackend()
    result = run_study(searched, backend=backend, dataset=tiny_dataset)
    complete = result.study.get_trials(states=(TrialState.COMPLETE,))
    # Every trial samples its learning rate, the baseline's included, in the range.
    assert all(1e-4 <= t.params["lr"] <= 1e-2 for t in complete)
    decays = [t.params["weight_decay"] for t in complete if "weight_decay" in t.params]
    assert decays and all(1e-3 <= d <= 1.0 for d in decays)
    unregularized = [t for t in complete if records.is_unregularized(t)]
    assert len(unregularized) >= 2  # the baseline and the queued 'none' trial at least
    best = max(unregularized, key=lambda t: (t.value, -t.number))
    assert records.baseline_trial(result.study).number == best.number
    # The folds trained at each trial's own learning rate; the refit at the chosen one's,
    # with the decay kept at the folds' timescale.
    trainer = backend.trainers[0]
    rates = {call.lr for call in trainer.calls}
    assert {t.params["lr"] for t in complete} <= rates
    chosen = result.study.trials[result.chosen.trial_number]
    assert result.chosen.lr == chosen.params["lr"]
    if "weight_decay" in chosen.params:
        ratio = (searched.folds - 1) / searched.folds
        assert result.chosen.refit_weight_decay == pytest.approx(
            chosen.params["weight_decay"] * ratio, rel=0.05
        )
    text = summary(result, searched)
    assert "Which regularizer helps:" in text
    assert "the best of" in text and "unregularized trials over the learning rate" in text
    header = next(line for line in text.splitlines() if line.startswith("rank"))
    assert header.split()[3:7] == ["l1", "l2", "weight_decay", "lr"]  # only where searched


def test_the_epoch_cap_is_raised_to_the_step_floor_and_stored_as_what_trained(config, tiny_dataset):
    """240 rows, 3 folds: 160 training rows a fold, 2 batches of 128 an epoch, so a floor of
    100 steps raises the cap of 3 epochs to 50; the folds train to it, the stored config says
    it, and the same command resumes the study."""
    floor = dataclasses.replace(config, train=TrainSettings(epochs=3, min_steps=100))
    backend, said = FakeBackend(), []
    result = run_study(floor, backend=backend, dataset=tiny_dataset, log=said.append)
    assert {c.epochs for c in backend.trainers[0].calls if c.val_idx is not None} == {50}
    assert result.study.user_attrs["config"]["train"]["epochs"] == 50
    assert "min_steps" not in result.study.user_attrs["config"]["train"]
    line = next(s for s in said if s.startswith("Epoch cap:"))
    assert "50 epochs, raised from 3 so that each fold trains at least 100 Adam steps" in line
    again = run_study(floor, backend=FakeBackend(), dataset=tiny_dataset)
    assert again.new_trials == 0
    # Enough steps already: no line, the cap as given.
    said.clear()
    run_study(
        dataclasses.replace(
            floor, study_name="enough", train=TrainSettings(epochs=60, min_steps=100)
        ),
        backend=FakeBackend(),
        dataset=tiny_dataset,
        log=said.append,
    )
    assert not any(s.startswith("Epoch cap:") for s in said)


def test_a_time_budget_ends_the_search_then_the_refit_runs_and_a_resume_gets_it_anew(
    config, tiny_dataset, monkeypatch
):
    """``timeout``: no trial starts after the budget, the running one finishes, the refit
    and the test run as usual, and the summary says so; a resume counts its own budget."""
    import time

    from regsearch.testing.fake import FakeTrainer

    fit = FakeTrainer.fit

    def slow_fit(self, *args, **kwargs):
        time.sleep(0.15)  # a trial of 3 folds: about 0.45 s
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(FakeTrainer, "fit", slow_fit)
    budget = dataclasses.replace(config, trials=12, timeout=1.0)
    result = run_study(budget, backend=FakeBackend(), dataset=tiny_dataset)
    finished = len(result.study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED)))
    assert 1 <= finished < 12 and result.timed_out and result.new_trials == finished
    assert result.study.user_attrs["refit"]["trial_number"] == result.chosen.trial_number
    said = summary(result, budget)
    assert (
        f"Time budget: the timeout of 1 s ended the search with {finished} of 12 trials "
        f"finished ({finished} in this run)" in said
    )
    again = run_study(budget, backend=FakeBackend(), dataset=tiny_dataset)
    assert again.new_trials >= 1  # its own budget, not the first run's spent one
    full = run_study(
        dataclasses.replace(budget, timeout=None), backend=FakeBackend(), dataset=tiny_dataset
    )
    assert not full.timed_out and "Time budget" not in summary(full, budget)


def test_a_hard_time_budget_stops_the_running_trial_at_its_next_epoch(
    config, tiny_dataset, monkeypatch
):
    """``timeout_hard``: the trial running when the budget is spent stops before its next
    epoch and is recorded as pruned with the reason; the refit uses the finished ones.

    The clock is the test's, not the wall's (a wall-clock version failed on a slower CI
    disk): each epoch costs one "second", so with a budget of 35 the baseline's 3 folds x 10
    epochs finish at 30 and the second trial stops before its 6th epoch."""
    import time
    import types

    state = {"now": 0.0}

    def epoch_clock() -> float:  # read once per epoch by the objective's hook
        state["now"] += 1.0
        return state["now"]

    def session_clock() -> float:
        return state["now"]

    monkeypatch.setattr("regsearch.cv.objective.time", types.SimpleNamespace(monotonic=epoch_clock))
    monkeypatch.setattr(
        "regsearch.run.session.time",
        types.SimpleNamespace(monotonic=session_clock, sleep=time.sleep),
    )
    hard = dataclasses.replace(
        config,
        trials=6,
        timeout=35.0,
        timeout_hard=True,
        pruner="median",  # folds one at a time: an epoch hook between every two epochs
        train=TrainSettings(epochs=10),
    )
    result = run_study(hard, backend=FakeBackend(), dataset=tiny_dataset)
    pruned = result.study.get_trials(states=(TrialState.PRUNED,))
    assert len(pruned) == 1 and result.timed_out
    reason = records.reason(pruned[0])
    assert reason.startswith("stopped before epoch 6 in fold 0: the time budget of 35 s")
    assert result.chosen.trial_number == 0  # the one complete trial, the baseline


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timeout_hard": True}, "no budget is set"),
        (
            {"timeout_hard": True, "timeout": 5.0, "trial_batch": 2},
            "cannot\ndo one trial|one trial at a time",
        ),
    ],
)
def test_a_hard_budget_needs_a_budget_and_single_trials(config, changes, message):
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(config, **changes)
