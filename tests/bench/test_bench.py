from __future__ import annotations

import re

import pytest

from regsearch import bench
from tests.conftest import write_tiny_mnist


def test_epoch_gflop_counts_forward_and_backward():
    # 784*128 + 128*10 = 101632 multiply-adds per image; 6 flops each (fwd 2, bwd 4).
    assert bench.epoch_gflop(60000, 784, (128,), 10) == pytest.approx(36.587, rel=1e-4)


@pytest.mark.parametrize("backend", ["torch", "tf"])
def test_bench_runs_both_paths_on_the_same_data_and_ends_machine_readable(
    backend, tmp_path, capsys
):
    write_tiny_mnist(tmp_path, n_train=200, n_test=50)
    assert bench.main(["--backend", backend, "--data-dir", str(tmp_path), "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "mnist[:200]: 200 training and 50 test examples" in out
    assert "tutorial" in out and "regsearch (batch 128)" in out
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(r"ratio=\d+\.\d+ peak_fraction=\d+\.\d+ acc_delta_pp=-?\d+\.\d+", last)


def test_workload_w_against_skorch_runs_both_searches(tmp_path, capsys):
    pytest.importorskip("skorch")
    write_tiny_mnist(tmp_path, n_train=200, n_test=50)
    args = ["--backend", "torch", "--data-dir", str(tmp_path), "--epochs", "1", "--vs", "skorch"]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert "skorch + GridSearchCV (batch 128)" in out and "regsearch (batch 256, lr 0.005)" in out
    lines = out.strip().splitlines()
    assert re.fullmatch(
        r"w_time_fraction=\d+\.\d+ w_cv_regsearch=\d\.\d+ w_cv_skorch=\d\.\d+", lines[-2]
    )
    assert lines[-1].startswith("ratio=")


def test_workload_w_with_the_cnn_trains_the_same_cnn_in_both_tools(tmp_path, capsys):
    pytest.importorskip("skorch")
    write_tiny_mnist(tmp_path, n_train=200, n_test=50)
    args = ["--backend", "torch", "--data-dir", str(tmp_path), "--skip-tutorial"]
    assert bench.main([*args, "--vs", "skorch", "--w-model", "cnn"]) == 0
    out = capsys.readouterr().out
    assert "Workload W (cnn)" in out and "2 epochs" in out
    assert "regsearch (batch 128, lr 0.001)" in out
    assert re.search(r"^w_model=cnn w_time_fraction=\d+\.\d+ ", out, re.MULTILINE)


def test_whole_trial_timing_runs_one_by_one_and_at_once(tmp_path, capsys):
    write_tiny_mnist(tmp_path, n_train=200, n_test=50)
    args = ["--backend", "torch", "--data-dir", str(tmp_path), "--epochs", "1"]
    assert bench.main([*args, "--trial-folds", "3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"A whole trial of 3 folds .* all at once [\d.]+ s \([\d.]+x one fold", out)
    assert out.strip().splitlines()[-1].startswith("ratio=")


def test_whole_study_paths_run_and_end_machine_readable(tmp_path, capsys):
    write_tiny_mnist(tmp_path, n_train=300, n_test=50)
    args = ["--backend", "torch", "--data-dir", str(tmp_path), "--epochs", "3", "--skip-tutorial"]
    assert bench.main([*args, "--study-trials", "6", "--study-folds", "3"]) == 0
    out = capsys.readouterr().out
    for path in (
        "sequential, median pruner",
        "folds at once, no pruner",
        "4 trials at once, no pruner",
        "folds at once, epochs pruner",
        "4 trials at once, epochs pruner",
    ):
        assert re.search(rf"^{path} +\d+\.\d", out, re.MULTILINE), path
    fractions = re.search(r"^study_time_fractions=([\d.,]+) ", out, re.MULTILINE)
    assert fractions and len(fractions.group(1).split(",")) == 5
    assert out.strip().splitlines()[-1] == "ratio=nan peak_fraction=nan acc_delta_pp=nan"


def test_keras_towers_probe_times_both_ways(tmp_path, capsys):
    write_tiny_mnist(tmp_path, n_train=300, n_test=50)
    args = ["--backend", "tf", "--data-dir", str(tmp_path), "--epochs", "1", "--skip-tutorial"]
    assert bench.main([*args, "--keras-towers", "3"]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"Keras, 3 folds of mnist\[:300\] per epoch: one by one [\d.]+ s, as 3 towers of one "
        r"model [\d.]+ s \([\d.]+x\)",
        out,
    )


def test_the_denormals_probe_times_each_epoch_with_subnormals_kept_and_flushed(tmp_path, capsys):
    import torch

    write_tiny_mnist(tmp_path, n_train=300, n_test=50)
    args = ["--backend", "torch", "--data-dir", str(tmp_path), "--epochs", "2", "--skip-tutorial"]
    assert bench.main([*args, "--study-folds", "3", "--denormals", "1e-3"]) == 0
    out = capsys.readouterr().out
    for how in ("kept", "flushed to zero"):
        assert re.search(
            rf"l2=0.001, 3 folds at once, subnormals {how}: [\d.]+ s, epochs trained "
            rf"\[\d+, \d+, \d+\]; seconds per epoch: [\d.]+ [\d.]+\n",
            out,
        )
    assert (torch.tensor([1e-39]) * 1.0).item() == 0.0  # left flushing, as training wants


def test_the_default_study_path_is_timed_quiet_and_beside_a_busy_process(tmp_path, capsys):
    write_tiny_mnist(tmp_path, n_train=300, n_test=50)
    args = ["--backend", "torch", "--data-dir", str(tmp_path), "--epochs", "2", "--skip-tutorial"]
    assert bench.main([*args, "--study-trials", "3", "--study-folds", "3", "--study-busy"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^the default path, quiet +\d+\.\d", out, re.MULTILINE)
    assert re.search(r"^the default path, beside a busy process +\d+\.\d", out, re.MULTILINE)
    fractions = re.search(r"^study_time_fractions=1\.000,(\d+\.\d+) ", out, re.MULTILINE)
    assert fractions and float(fractions.group(1)) > 0
