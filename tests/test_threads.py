"""Thread settings: OpenMP threads that sleep while they wait, the user's --threads, and a
share of the cores per worker."""

import dataclasses
import os
import sys

import pytest

from regsearch.errors import ConfigError
from regsearch.run import run_study
from regsearch.run.workers import thread_settings
from regsearch.testing import FakeBackend
from regsearch.threads import default_threads, describe_waiting, prepare_openmp
from tests.conftest import fake_study_config


def test_openmp_threads_sleep_while_waiting_unless_the_user_chose(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    prepare_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert "sleeping while they wait" in describe_waiting("torch")
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    prepare_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"  # the user's choice stands
    assert "as OMP_WAIT_POLICY=ACTIVE says" in describe_waiting("torch")
    assert describe_waiting("tf") == ""


def test_workers_share_the_cores_unless_threads_are_given(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert default_threads(1) is None and default_threads(4) == 2 and default_threads(16) == 1
    shares = thread_settings(4)
    assert shares["OMP_NUM_THREADS"] == shares["TF_NUM_INTRAOP_THREADS"] == "2"
    assert shares["OMP_WAIT_POLICY"] == "PASSIVE"
    assert thread_settings(4, threads=3)["OMP_NUM_THREADS"] == "3"


def test_the_study_applies_the_threads_it_is_given(tmp_path, tiny_dataset):
    said: list[str] = []
    backend = FakeBackend()
    config = dataclasses.replace(fake_study_config(tmp_path), trials=1, threads=1)
    run_study(config, backend=backend, dataset=tiny_dataset, log=said.append)
    assert backend.threads == 1
    assert any(line.startswith("Threads: 1 intra-op thread(s)") for line in said)
    with pytest.raises(ConfigError, match="threads must be an integer >= 1, got 0"):
        dataclasses.replace(config, threads=0)
