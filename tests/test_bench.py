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


def test_whole_trial_timing_runs_one_by_one_and_at_once(tmp_path, capsys):
    write_tiny_mnist(tmp_path, n_train=200, n_test=50)
    args = ["--backend", "torch", "--data-dir", str(tmp_path), "--epochs", "1"]
    assert bench.main([*args, "--trial-folds", "3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"A whole trial of 3 folds .* all at once [\d.]+ s \([\d.]+x one fold", out)
    assert out.strip().splitlines()[-1].startswith("ratio=")
