"""PyTorch backend: trains any ``nn.Module`` with the explicit Keras ``L1L2`` penalty
(:mod:`regsearch.backends.torch_ops`), one model at a time
(:mod:`regsearch.backends.torch_trainer`) or a trial's folds as one vmapped computation
(:mod:`regsearch.backends.torch_folds`) where the model allows it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from regsearch.backends.torch_folds import fold_parallel_for
from regsearch.backends.torch_ops import flush_denormals
from regsearch.backends.torch_trainer import TorchTrainer
from regsearch.config import TrainSettings
from regsearch.models.spec import ModelFactory


class TorchBackend:
    name = "torch"

    def trainer(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        settings: TrainSettings,
        model: ModelFactory,
        device: str = "cpu",
        scaling: str = "none",
    ) -> TorchTrainer:
        flush_denormals()
        trainer = TorchTrainer(x, y, n_classes, settings, model, device, scaling)
        trainer.fold_parallel, trainer.fold_parallel_reason = fold_parallel_for(trainer)
        return trainer

    def versions(self) -> dict[str, str]:
        return {"torch": torch.__version__}

    def use_threads(self, threads: int | None) -> str:
        if threads is None:
            return f"{torch.get_num_threads()} intra-op thread(s) (PyTorch's default)"
        torch.set_num_threads(threads)
        return f"{torch.get_num_threads()} intra-op thread(s)"

    def download_mnist(self, data_dir: Path) -> str:
        """torchvision's MNIST loader, which writes ``data_dir/MNIST/raw``."""
        from torchvision.datasets import MNIST

        for train in (True, False):
            MNIST(root=str(data_dir), train=train, download=True)
        return f"Downloaded MNIST with torchvision to {Path(data_dir) / 'MNIST' / 'raw'}."


BACKEND = TorchBackend()
