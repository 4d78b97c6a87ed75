"""The one option table: argparse, the TOML keys and the config all come from it."""

from __future__ import annotations

import dataclasses

import pytest

from regsearch.cli.arguments import build_parser, config_from_args, parse_args
from regsearch.config import SearchSpace, StudyConfig, TrainSettings
from regsearch.errors import ConfigError
from regsearch.options import OPTIONS


def test_every_setting_has_an_option_and_every_option_a_setting():
    names = {o.name for o in OPTIONS}
    for cls in (StudyConfig, SearchSpace, TrainSettings):
        for field in dataclasses.fields(cls):
            if field.name not in ("space", "train"):
                assert field.name in names, f"{cls.__name__}.{field.name} has no option"
    targets = {"study": StudyConfig, "space": SearchSpace, "train": TrainSettings}
    for option in OPTIONS:
        if option.target in targets:
            fields = {f.name for f in dataclasses.fields(targets[option.target])}
            assert option.name in fields, option
    flags = {s for a in build_parser()._actions for s in a.option_strings}
    assert {o.flag for o in OPTIONS} <= flags


def test_the_command_lines_defaults_are_the_configs():
    _, args = parse_args(["--backend", "torch"])
    assert config_from_args(args) == StudyConfig(backend="torch")


def test_a_config_file_takes_every_file_key_with_lists_as_lists(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        'backend = "tf"\npenalties = ["l2"]\nhidden = [64, 32]\nlambda-min = 1e-5\n'
        "workers = 2\nquiet = true\n"
    )
    _, args = parse_args(["--config", str(path)])
    config = config_from_args(args)
    assert config.backend == "tf" and config.workers == 2 and args.quiet
    assert config.space.penalties == ("l2",) and config.space.lambda_min == 1e-5
    assert config.train.hidden == (64, 32)
    path.write_text('backend = "tf"\nhidden = ["wide"]\n')
    _, args = parse_args(["--config", str(path)])
    with pytest.raises(ConfigError, match="each hidden layer width must be an integer"):
        config_from_args(args)


def test_the_reproduce_command_gives_back_the_same_study():
    """``command_line`` (the optuna-dashboard note's "Reproduce") parses back into a config
    with the same identity, name, storage and trial count."""
    import shlex

    from regsearch.options import command_line

    config = StudyConfig(
        backend="tf",
        dataset="digits",
        folds=3,
        repeats=2,
        trials=7,
        storage="sqlite:///my studies/x.db",
        study_name="it's mine",
        space=SearchSpace(penalties=("l2", "l1"), lambda_min=1e-5),
        train=TrainSettings(epochs=9, hidden=(64, 32)),
        workers=2,  # how it runs: left out
    )
    words = shlex.split(command_line(config))
    assert words[:3] == ["python", "-m", "regsearch.study"] and "--workers" not in words
    _, args = parse_args(words[3:])
    again = config_from_args(args)
    assert again.identity() == config.identity()
    assert (again.name, again.storage, again.trials) == (config.name, config.storage, 7)


def test_an_epoch_count_given_is_the_cap_and_none_given_gets_the_step_floor(tmp_path):
    """Without ``--epochs`` the study's default: 20 epochs raised to 2000 steps per fold; an
    epoch count given (flag or file) is the cap exactly, unless ``--min-steps`` is given too."""
    from regsearch.config import AUTO_MIN_STEPS

    def train(*words):
        return config_from_args(parse_args(["--backend", "torch", *words])[1]).train

    assert (train().epochs, train().min_steps) == (20, AUTO_MIN_STEPS)
    assert (train("--epochs", "5").epochs, train("--epochs", "5").min_steps) == (5, 0)
    assert train("--epochs", "5", "--min-steps", "300").min_steps == 300
    assert train("--min-steps", "0").min_steps == 0
    path = tmp_path / "c.toml"
    path.write_text("epochs = 7\n")
    assert train("--config", str(path)).min_steps == 0
    path.write_text("patience = 7\n")
    assert train("--config", str(path)).min_steps == AUTO_MIN_STEPS
    with pytest.raises(ConfigError, match="min_steps"):
        train("--min-steps", "-1")
