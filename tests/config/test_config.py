from __future__ import annotations

import math

import pytest

from regsearch.config import SearchSpace, StudyConfig, TrainSettings
from regsearch.errors import ConfigError
from regsearch.options import parse_hidden, parse_penalties


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"penalties": ()}, "at least one"),
        ({"penalties": ("l3",)}, "unknown 'l3'"),
        ({"penalties": ("l1", "l1")}, "must not repeat"),
        ({"lambda_min": 0.0}, "lambda_min must be a finite number > 0, got 0.0"),
        ({"lambda_max": math.nan}, "lambda_max must be a finite number > 0"),
        ({"lambda_max": math.inf}, "lambda_max must be a finite number > 0"),
        ({"lambda_min": 1e-2, "lambda_max": 1e-3}, "`lambda_min < lambda_max` must hold"),
    ],
)
def test_search_space_rejects(kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        SearchSpace(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"batch_size": -1}, "batch_size must be an integer >= 1"),
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"hidden": ()}, "at least one layer"),
        ({"hidden": (128, 0)}, "each hidden layer width must be an integer >= 1"),
        ({"patience": -1}, "patience must be an integer >= 0"),
    ],
)
def test_train_settings_reject(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TrainSettings(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "jax"}, "backend must be one of tf, torch, got 'jax'"),
        ({"folds": 1}, "folds 2 or more, got folds 1"),
        ({"trials": 0}, "trials must be an integer >= 1"),
        ({"seed": -3}, "seed must be an integer >= 0"),
        ({"dataset": "cifar"}, "dataset must be 'mnist', 'digits' or a path to an .npz"),
        ({"study_name": "  "}, "study_name must not be empty"),
        ({"pruner": "asha"}, "pruner must be one of auto, epochs, median, hyperband, wilcoxon"),
        ({"device": "tpu"}, "device must be one of auto, cpu, cuda, got 'tpu'"),
        ({"rope": -0.1}, "rope is the region of practical equivalence in percentage points"),
        ({"heartbeat_interval": 0}, "heartbeat_interval must be an integer >= 1"),
        ({"heartbeat_interval": 60, "grace_period": 30}, "`grace_period > heartbeat_interval`"),
    ],
)
def test_study_config_rejects(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        StudyConfig(**{"backend": "torch", **kwargs})


def test_default_name_and_identity():
    config = StudyConfig(backend="tf", dataset="/data/my-set.npz")
    assert config.name == "my-set-tf"
    assert StudyConfig(backend="torch").name == "mnist-torch"
    identity = config.identity()
    assert identity["space"]["penalties"] == ["l1", "l2", "l1_l2"]
    assert identity["train"]["hidden"] == [128]
    assert "trials" not in identity and "storage" not in identity  # may change on resume


def test_parsers():
    assert parse_penalties(" l1, l2 ,") == ("l1", "l2")
    assert parse_hidden("256,128") == (256, 128)
    with pytest.raises(ConfigError, match="256,128"):
        parse_hidden("256;x")


def test_the_epoch_cap_is_raised_to_the_step_floor_only_where_epochs_fall_short():
    from regsearch.config import AUTO_MIN_STEPS, study_train_settings

    floor = TrainSettings(epochs=20, batch_size=128, min_steps=2000)
    # 898 rows: 8 batches an epoch, 2000 / 8 = 250 epochs
    assert floor.epoch_cap(898) == 250
    # 48,000 rows (full MNIST, 5 folds): 375 batches, 20 epochs are already 7,500 steps
    assert floor.epoch_cap(48_000) == 20
    assert floor.epoch_cap(897) == math.ceil(2000 / math.ceil(897 / 128))
    assert TrainSettings(epochs=20, min_steps=0).epoch_cap(10) == 20
    # the study's defaults carry the floor; a cap given is exact; the floor is no identity
    assert StudyConfig(backend="torch").train.min_steps == AUTO_MIN_STEPS
    assert study_train_settings(5) == TrainSettings(epochs=5)
    assert "min_steps" not in StudyConfig(backend="torch").identity()["train"]
