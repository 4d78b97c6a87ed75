"""``--device``: where models train. Without a GPU here, ``auto`` means the CPU and ``cuda`` is
refused with the reason; with one (the GPU machine), the backend contract runs on it."""

from __future__ import annotations

import numpy as np
import pytest

from regsearch import records
from regsearch.backends import get_backend
from regsearch.errors import BackendUnavailable
from regsearch.testing.pytest_contract import BackendContract

torch = pytest.importorskip("torch")
CUDA = torch.cuda.is_available()


def test_auto_takes_the_gpu_only_where_there_is_one():
    from regsearch.backends.torch_ops import resolve_device

    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if CUDA else "cpu")


@pytest.mark.skipif(CUDA, reason="a CUDA GPU is visible")
def test_cuda_without_a_gpu_is_refused_with_the_reason():
    from regsearch.backends.torch_ops import resolve_device

    with pytest.raises(BackendUnavailable, match=r"device cuda: PyTorch .* sees no CUDA GPU"):
        resolve_device("cuda")


def test_tensorflow_without_a_gpu_refuses_cuda_and_trains_on_the_cpu():
    from regsearch.backends.keras_runtime import tf, use_device

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("TensorFlow sees a GPU")
    with pytest.raises(BackendUnavailable, match="device cuda: TensorFlow .* sees no GPU"):
        use_device("cuda")
    assert use_device("auto") == use_device("cpu") == "cpu"


def test_a_study_records_where_each_trial_trained(tmp_path, tiny_dataset):
    from regsearch import run_study
    from regsearch.testing import FakeBackend
    from tests.conftest import fake_study_config

    config = fake_study_config(tmp_path, trials=2)
    result = run_study(config, backend=FakeBackend(), dataset=tiny_dataset)
    assert {records.attrs(t)["device"] for t in result.study.trials} == {"cpu"}


@pytest.mark.skipif(not CUDA, reason="no CUDA GPU")
class TestBackendContractOnTheGpu(BackendContract):
    @pytest.fixture
    def backend(self):
        return get_backend("torch")

    @pytest.fixture
    def device(self):
        return "cuda"


@pytest.mark.skipif(not CUDA, reason="no CUDA GPU")
def test_a_model_trained_on_the_gpu_is_saved_for_any_machine(tmp_path):
    from regsearch.config import TrainSettings
    from regsearch.models import model_factory
    from regsearch.penalty import Penalty
    from regsearch.testing import synthetic_dataset

    data = synthetic_dataset()
    trainer = get_backend("torch").trainer(
        data.x_train, data.y_train, 3, TrainSettings(), model_factory("mlp", "torch"), "cuda"
    )
    assert trainer.device.startswith("cuda:0 (")
    fit = trainer.fit(np.arange(240), None, Penalty(l2=1e-3), epochs=2, seed=0)
    saved = torch.load(trainer.save(fit.model, tmp_path / "m"), weights_only=True)
    assert all(t.device.type == "cpu" for t in saved["state_dict"].values())
