"""The command line: every refused input exits 2 with one message and stores nothing."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from regsearch.observe.lines import trial_line
from regsearch.study import main
from tests.conftest import PROJECT_ROOT, write_tiny_mnist


@pytest.fixture
def storage(tmp_path):
    return tmp_path / "studies" / "s.db"


def run_cli(args, storage, capsys):
    code = main([*args, "--storage", f"sqlite:///{storage}", "--no-dashboard"])
    out = capsys.readouterr()
    return code, out.out, out.err


ERROR_CASES = [
    # (arguments, words the message must contain)
    (["--backend", "torch", "--folds", "1"], "--folds 2 or more, got --folds 1"),
    (["--backend", "torch", "--repeats", "0"], "--repeats must be an integer >= 1, got 0"),
    (["--backend", "torch", "--timeout", "0"], "--timeout must be a finite number > 0, got 0.0"),
    (["--backend", "torch", "--timeout", "inf"], "--timeout must be a finite number > 0"),
    (
        ["--backend", "torch", "--outer-folds", "1"],
        "--outer-folds (the K of nested cross-validation) must be an integer >= 2, got 1",
    ),
    (["--backend", "torch", "--lambda-min", "0"], "lambda-min must be a finite number > 0"),
    (
        ["--backend", "torch", "--lambda-min", "1e-2", "--lambda-max", "1e-3"],
        "--lambda-min < --lambda-max",
    ),
    (["--backend", "torch", "--lambda-max", "nan"], "lambda-max must be a finite number > 0"),
    (["--backend", "torch", "--penalties", "l1,elastic"], "unknown 'elastic'"),
    (["--backend", "torch", "--decay-min", "0"], "decay-min must be a finite number > 0"),
    (
        ["--backend", "torch", "--decay-min", "1", "--decay-max", "0.1"],
        "--decay-min < --decay-max",
    ),
    (["--backend", "torch", "--lr-range", "1e-3"], "--lr-range must be two learning rates"),
    (["--backend", "torch", "--lr-range", "0,1e-2"], "with 0 < LOW < HIGH"),
    (["--backend", "torch", "--lr-range", "1e-2,1e-3"], "with 0 < LOW < HIGH"),
    (["--backend", "torch", "--lr-range", "fast,slow"], "got 'fast,slow'"),
    (
        ["--backend", "torch", "--lr", "1e-3", "--lr-range", "1e-4,1e-2"],
        "--lr and --lr-range both set the learning rate",
    ),
    (
        ["--backend", "torch", "--lr-range", "1e-4,1e-2", "--trial-batch", "4"],
        "--lr-range gives each trial its own",
    ),
    (["--backend", "torch", "--hidden", "12x"], "comma-separated positive layer widths"),
    (["--backend", "torch", "--epochs", "0"], "epochs must be an integer >= 1"),
    (["--backend", "torch", "--trials", "0"], "trials must be an integer >= 1"),
    (["--backend", "torch", "--dataset", "cifar10"], "dataset must be 'mnist', 'digits'"),
    (["--backend", "torch", "--dataset", "missing.npz"], "missing.npz: no such file"),
    (["--backend", "torch", "--data-dir", "/nonexistent-dir"], "--dataset digits"),
    (["--backend", "torch", "--data-dir", "/nonexistent-dir"], "/nonexistent-dir does not exist"),
]


@pytest.mark.parametrize(("args", "message"), ERROR_CASES)
def test_refused_inputs(args, message, storage, capsys, monkeypatch):
    # Offline: the MNIST download fails at once instead of reaching for the network.
    monkeypatch.setattr("regsearch.run.session._downloader", lambda backend, log: _offline)
    code, _, err = run_cli(args, storage, capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert not storage.exists()


MODEL_ERRORS = [
    ("def build(shape, k):\n    return None\n", "returned builtins.NoneType, but must return"),
    ("def build(shape, k):\n    raise ValueError('bad width')\n", "raised ValueError: bad width"),
    ("import torch\ndef build(shape, k):\n    return torch.nn.Flatten()\n", "has shape (8, 64)"),
    ("def make(shape, k):\n    pass\n", "has no 'build'. Callables defined there: make"),
]


def test_cuda_without_a_gpu_exits_2_before_anything_is_stored(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible")
    storage = tmp_path / "studies" / "s.db"
    args = ["--backend", "torch", "--dataset", "digits", "--device", "cuda"]
    code, _, err = run_cli(args, storage, capsys)
    assert code == 2 and "--device cuda: PyTorch" in err and "Use --device cpu" in err, err
    assert not storage.exists()


@pytest.mark.parametrize(("source", "message"), MODEL_ERRORS)
def test_a_broken_model_exits_2_before_anything_is_stored(source, message, tmp_path, capsys):
    storage = tmp_path / "studies" / "s.db"
    net = tmp_path / "net.py"
    net.write_text(source)
    args = ["--backend", "torch", "--dataset", "digits", "--model", f"{net}:build"]
    code, _, err = run_cli(args, storage, capsys)
    assert code == 2 and message in err and f"--model {net}:build" in err, err
    assert "Traceback" not in err and not storage.exists()


def _offline(folder):
    raise OSError("network unreachable")


def test_a_storage_driver_that_is_missing_is_named_with_its_install_command(capsys):
    code = main(["--backend", "torch", "--dataset", "digits", "--storage", "mysql://u:pw@h/db"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "needs the database driver 'MySQLdb'" in err and "pip install mysqlclient" in err
    assert "pw" not in err


def test_data_errors_come_before_the_framework_is_imported(tmp_path):
    """A bad data file is refused without importing TensorFlow (seconds, not half a minute)."""
    bad = tmp_path / "bad.npz"
    np.savez(bad, X_train=np.zeros((4, 2)))
    script = (
        "import sys; from regsearch.study import main; "
        f"code = main(['--backend', 'tf', '--dataset', {str(bad)!r}, "
        f"'--storage', 'sqlite:///{tmp_path}/s.db']); "
        "print('tensorflow' in sys.modules, 'torch' in sys.modules, code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert done.stdout.split()[-3:] == ["False", "False", "2"], done.stderr
    assert "rename X_train -> x_train" in done.stderr
    assert not (tmp_path / "s.db").exists()


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--backend", "mxnet"])
    assert info.value.code == 2
    assert "invalid choice: 'mxnet'" in capsys.readouterr().err


def test_missing_framework_gives_install_hint(storage, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # "import torch" now fails
    monkeypatch.delitem(sys.modules, "regsearch.backends.torch", raising=False)
    code, _, err = run_cli(["--backend", "torch", "--dataset", "digits"], storage, capsys)
    assert code == 2
    assert "pip install 'regsearch[torch]'" in err
    assert not storage.exists()


def test_mismatching_resume_exits_2_and_keeps_the_study(tmp_path, storage, capsys, monkeypatch):
    from regsearch.testing import FakeBackend

    monkeypatch.setattr("regsearch.run.session.get_backend", lambda name: FakeBackend())
    write_tiny_mnist(tmp_path / "mnist", n_train=60, n_test=20)
    base = [
        "--backend",
        "torch",
        "--data-dir",
        str(tmp_path / "mnist"),
        "--trials",
        "2",
        "--folds",
        "3",
        "--epochs",  # an exact cap: 40 rows a fold would otherwise raise it to 2000 epochs
        "3",
    ]
    code, out, err = run_cli(base, storage, capsys)
    assert code == 0, err
    assert "trial   0  none" in out and "(baseline, no penalty)" in out
    assert "Test accuracy: chosen" in out and "optuna-dashboard sqlite:///" in out
    size = storage.stat().st_size
    code, out, err = run_cli([*base, "--seed", "5"], storage, capsys)
    assert code == 2
    assert "config.seed: stored 0, now 5" in err and "--study-name mnist-torch-2" in err
    assert storage.stat().st_size == size


def test_trial_line_for_pruned_trial():
    import optuna

    trial = optuna.trial.create_trial(
        state=optuna.trial.TrialState.PRUNED,
        params={"penalty": "l1", "l1": 0.05},
        distributions={
            "penalty": optuna.distributions.CategoricalDistribution(["l1", "l2"]),
            "l1": optuna.distributions.FloatDistribution(1e-6, 0.1, log=True),
        },
        user_attrs={
            "penalty": "l1",
            "state_reason": "diverged in fold 0: training loss became nan",
        },
    )
    line = trial_line(trial)
    assert "l1=5.00e-02" in line and "  diverged in fold 0" in line


def test_help_lists_the_documented_options(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for option in (
        "--backend",
        "--folds",
        "--trials",
        "--penalties",
        "--lambda-min",
        "--lambda-max",
        "--dataset",
        "--data-dir",
        "--epochs",
        "--batch-size",
        "--lr",
        "--model",
        "--hidden",
        "--device",
        "--patience",
        "--seed",
        "--storage",
        "--study-name",
    ):
        assert option in text
    assert "default: 5" in text  # defaults are shown


def test_unreachable_database_fails_fast_naming_the_host_not_the_password(capsys, monkeypatch):
    import time

    pytest.importorskip(
        "psycopg", reason="the PostgreSQL driver: pip install 'regsearch[postgres]'"
    )
    from regsearch.testing import FakeBackend

    monkeypatch.setattr("regsearch.run.session.get_backend", lambda name: FakeBackend())
    url = "postgresql://bob:s3cret@127.0.0.1:9/opt?password=s3cret"  # port 9: nothing listens
    start = time.perf_counter()
    code = main(["--backend", "torch", "--dataset", "digits", "--storage", url])
    elapsed = time.perf_counter() - start
    out = capsys.readouterr()
    assert code == 2
    assert "cannot open the storage postgresql://bob:***@127.0.0.1:9/opt" in out.err
    assert '"127.0.0.1", port 9' in out.err and "Traceback" not in out.err
    assert "s3cret" not in out.out + out.err
    assert elapsed < 30  # a connect timeout bounds it; not a speed target


def test_shipped_config_files_are_valid_and_flags_override_them():
    from regsearch.cli.arguments import config_from_args, parse_args

    names = {}
    for path in sorted((PROJECT_ROOT / "studies").glob("*.toml")):
        _, args = parse_args(["--config", str(path)])
        config = config_from_args(args)  # validates every value
        assert config.backend in ("tf", "torch"), path
        names[path.name] = config.name
    # Each its own study: running one after another in the default storage never resumes
    # (and is never refused by) another's study, or the plain command's.
    assert len(set(names.values())) == len(names), names
    assert not {"mnist-tf", "mnist-torch"} & set(names.values()), names
    _, args = parse_args(["--config", str(PROJECT_ROOT / "studies/wide-search.toml")])
    wide = config_from_args(args)
    assert wide.train.hidden == (256, 128) and wide.select == "one-se"
    assert wide.space.lambda_max == 1.0 and wide.pruner == "hyperband"
    _, args = parse_args(["--config", str(PROJECT_ROOT / "studies/mnist-small.toml")])
    small = config_from_args(args)
    assert small.train_size == 3000 and small.repeats == 3 and small.n_splits == 15
    assert small.name == "mnist3000-torch" and small.train.patience == 10
    tutorial = str(PROJECT_ROOT / "studies/mnist-tf.toml")
    _, args = parse_args(
        ["--config", tutorial, "--backend", "torch", "--hidden", "64", "--lambda-min", "1e-5"]
    )
    overridden = config_from_args(args)
    assert overridden.backend == "torch" and overridden.train.hidden == (64,)
    assert overridden.space.lambda_min == 1e-5 and overridden.train.epochs == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('backend = "tf"\nfoo = 1\nlambda_mim = 2\n', "unknown key(s): 'foo', 'lambda_mim'"),
        ('backend = "mxnet"\n', "backend must be one of tf, torch, got 'mxnet'"),
        ("backend = \n", "is not valid TOML"),
    ],
)
def test_bad_config_files_exit_2_naming_the_problem(text, message, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    storage = tmp_path / "s.db"
    with pytest.raises(SystemExit) as info:
        main(["--config", str(path), "--storage", f"sqlite:///{storage}"])
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not storage.exists()


def test_a_missing_data_file_is_refused_before_any_study_is_announced(tmp_path, capsys):
    storage = tmp_path / "s.db"
    present = tmp_path / "train.csv"
    present.write_text("a,y\n1,0\n2,1\n")
    for words, missing in (
        (["--dataset", str(tmp_path / "nosuch.csv"), "--target", "y"], "nosuch.csv: no such file"),
        (
            ["--dataset", str(present), "--target", "y", "--test-data", str(tmp_path / "t.csv")],
            "--test-data " + str(tmp_path / "t.csv") + ": no such file",
        ),
    ):
        code = main(["--backend", "torch", *words, "--storage", f"sqlite:///{storage}"])
        out, err = capsys.readouterr()
        assert code == 2 and missing in err, err
        assert "regsearch: study" not in out  # nothing announced, nothing stored
        assert not storage.exists()
