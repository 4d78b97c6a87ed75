"""The one orchestration every front door drives (:class:`regsearch.run.StudyRun`): the order
in which an observer hears a run, a front door that asks for no refit, and nested
cross-validation told through the front door's log."""

from __future__ import annotations

from regsearch import records
from regsearch.observe import Observer
from regsearch.run import FrontDoor, StudyRun
from regsearch.testing import FakeBackend
from tests.conftest import fake_study_config


class Hooks(Observer):
    """Records which hook was called, in order (epochs left out)."""

    def __init__(self):
        self.heard = []

    def on_fold(self, trial_number, fold, penalty, fit):
        self.heard.append("fold")

    def on_trial(self, study, trial):
        self.heard.append("trial")

    def on_search_end(self):
        self.heard.append("search end")

    def on_refit(self, trial_number, penalty, fit):
        self.heard.append(f"refit {trial_number}")

    def close(self):
        self.heard.append("close")


def test_an_observer_hears_the_trials_then_the_search_end_then_the_refits_then_close(
    tmp_path, tiny_dataset
):
    hooks = Hooks()
    config = fake_study_config(tmp_path, trials=3)
    run = StudyRun(
        config, FrontDoor(observers=lambda _: hooks), backend=FakeBackend(), dataset=tiny_dataset
    )
    result = run.execute()
    assert result is not None and run.session is not None
    end = hooks.heard.index("search end")
    assert hooks.heard[:end].count("trial") == 3 and hooks.heard[:end].count("fold") == 9
    refits = hooks.heard[end + 1 : -1]
    assert refits[0] == f"refit {result.chosen.trial_number}" and hooks.heard[-1] == "close"
    assert len(refits) == (1 if result.chosen.trial_number == 0 else 2)  # the baseline's too


def test_a_front_door_without_refit_runs_the_trials_and_stores_no_refit(tmp_path, tiny_dataset):
    hooks = Hooks()
    door = FrontDoor(
        observers=lambda _: hooks, refit=False, publish=lambda *_: hooks.heard.append("published")
    )
    run = StudyRun(
        fake_study_config(tmp_path, trials=2), door, backend=FakeBackend(), dataset=tiny_dataset
    )
    assert run.execute() is None
    assert run.session is not None and len(run.session.complete_trials()) == 2
    assert records.refit_record(run.session.study) == {}
    assert "published" not in hooks.heard and hooks.heard[-2:] == ["search end", "close"]


def test_nested_cross_validation_is_told_through_the_front_doors_log(tmp_path, tiny_dataset):
    said: list[str] = []
    config = fake_study_config(tmp_path, trials=2, outer_folds=2)
    run = StudyRun(config, FrontDoor(log=said.append), backend=FakeBackend(), dataset=tiny_dataset)
    result = run.execute()
    assert result is not None and result.study.study_name == config.name
    text = "\n".join(said)
    assert "Outer fold 1 of 2: the whole search, as study" in text
    assert f"{config.name}-outer2of2: chose" in text
    assert f"The search on all {len(tiny_dataset.y_train)} training examples" in text
    assert result.study.user_attrs[records.NESTED]["outer_folds"] == 2
