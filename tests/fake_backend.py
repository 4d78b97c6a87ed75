"""A deterministic, framework-free backend for testing the orchestration.

Its "model" is a ridge-regression classifier solved in closed form (so accuracy really depends on
the data and on ``l2``); ``l1`` above ``diverge_above`` simulates a diverging run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from regsearch.backends import Fit
from regsearch.config import TrainSettings
from regsearch.penalty import Penalty


@dataclass
class Call:
    train_idx: np.ndarray
    val_idx: np.ndarray | None
    penalty: Penalty
    epochs: int
    seed: int


@dataclass
class FakeTrainer:
    x: np.ndarray
    y: np.ndarray
    n_classes: int
    settings: TrainSettings
    diverge_above: float = 1e9
    calls: list[Call] = field(default_factory=list)
    released: int = 0
    batched_calls: int = 0

    def fit(self, train_idx, val_idx, penalty, epochs, seed) -> Fit:  # type: ignore[no-untyped-def]
        self.calls.append(
            Call(
                np.array(train_idx),
                None if val_idx is None else np.array(val_idx),
                penalty,
                epochs,
                seed,
            )
        )
        if penalty.l1 > self.diverge_above:
            return Fit(
                model=None,
                history={"loss": [float("nan")]},
                diverged="training loss became nan in epoch 1",
            )
        x = np.hstack([self.x[train_idx], np.ones((len(train_idx), 1))])
        targets = np.eye(self.n_classes)[self.y[train_idx]]
        ridge = penalty.l2 * len(train_idx) + 1e-6
        w = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ targets)
        best = min(epochs, 2)
        losses = [1.0 / (e + 1) for e in range(epochs)]
        penalty_term = penalty.value([w[:-1]])
        history = {"loss": losses, "accuracy": [0.5] * epochs, "penalty": [penalty_term] * epochs}
        if val_idx is not None:
            history.update(val_loss=losses, val_accuracy=[0.5] * epochs)
        return Fit(model=w, history=history, best_epoch=best, fit_time=0.01)

    def fit_folds(self, folds, penalty, epochs, seeds) -> list[Fit]:  # type: ignore[no-untyped-def]
        """The batched path's contract, computed fold by fold; counted in ``batched_calls``."""
        self.batched_calls += 1
        return [
            self.fit(train, val, penalty, epochs, seed)
            for (train, val), seed in zip(folds, seeds, strict=True)
        ]

    def predict_logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        return np.hstack([x, np.ones((len(x), 1))]) @ model

    def kernels(self, model: Any) -> list[np.ndarray]:
        return [model[:-1]]

    def save(self, model: Any, path: Path) -> Path:
        path = path.with_suffix(".npy")
        np.save(path, model)
        return path

    def release(self) -> None:
        self.released += 1


@dataclass
class FakeBackend:
    name: str = "torch"
    model_suffix: str = ".npy"
    diverge_above: float = 1e9
    trainers: list[FakeTrainer] = field(default_factory=list)

    def trainer(self, x, y, n_classes, settings) -> FakeTrainer:  # type: ignore[no-untyped-def]
        trainer = FakeTrainer(x, y, n_classes, settings, self.diverge_above)
        self.trainers.append(trainer)
        return trainer

    def versions(self) -> dict[str, str]:
        return {"fake": "1"}

    def download_mnist(self, data_dir: Path) -> str:
        raise OSError("offline")
