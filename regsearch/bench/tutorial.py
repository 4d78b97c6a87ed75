"""The tutorials' training loops against regsearch's fold trainer, same data, model, penalty
and epochs; and a whole trial's folds one by one against all at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from regsearch.config import TrainSettings
from regsearch.data import Dataset
from regsearch.metrics import accuracy
from regsearch.penalty import Penalty


@dataclass(frozen=True)
class Timing:
    name: str
    seconds_per_epoch: float
    test_accuracy: float


def tutorial_torch(ds: Dataset, settings: TrainSettings, penalty: Penalty, seed: int) -> Timing:
    """PyTorch's tutorial loop: ``torchvision.datasets.MNIST``'s per-sample work (a PIL image,
    then ``ToTensor``), a ``DataLoader`` with batch 64, the explicit penalty in the loss."""
    import torch
    from PIL import Image
    from torch.utils.data import DataLoader
    from torch.utils.data import Dataset as TorchDataset
    from torchvision.transforms import ToTensor

    from regsearch.backends.torch_model import channels_first
    from regsearch.backends.torch_ops import penalized_loss, seed_everything
    from regsearch.models.mlp import torch_mlp

    side = round(ds.n_features**0.5)
    images = np.round(ds.x_train * 255).astype(np.uint8).reshape(len(ds.x_train), side, side)
    to_tensor = ToTensor()

    class Images(TorchDataset):
        """What ``torchvision.datasets.MNIST.__getitem__`` does for every sample."""

        def __len__(self) -> int:
            return len(images)

        def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
            image = Image.fromarray(images[i], mode="L")
            return to_tensor(image).flatten(), int(ds.y_train[i])

    seed_everything(seed)
    model = torch_mlp(ds.example_shape, settings.hidden, ds.n_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    loader = DataLoader(Images(), batch_size=64, shuffle=True)
    start = time.perf_counter()
    for _ in range(settings.epochs):
        model.train()
        for xb, yb in loader:
            loss = penalized_loss(model(xb), yb, model, penalty)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = (time.perf_counter() - start) / settings.epochs
    with torch.no_grad():
        logits = model(torch.from_numpy(channels_first(ds.x_test))).numpy()
    return Timing("tutorial (DataLoader, batch 64)", seconds, accuracy(logits, ds.y_test))


def tutorial_keras(ds: Dataset, settings: TrainSettings, penalty: Penalty, seed: int) -> Timing:
    """Keras' tutorial loop: ``model.fit`` with its default batch of 32."""
    # Keras through regsearch's backend module, which quiets TensorFlow's start-up logs.
    from regsearch.backends.keras_model import compile_model, with_keras_penalty
    from regsearch.backends.keras_runtime import keras
    from regsearch.models.mlp import keras_mlp

    keras.utils.set_random_seed(seed)
    plain = keras_mlp(ds.example_shape, settings.hidden, ds.n_classes)
    model = with_keras_penalty(plain, penalty)  # Keras' own L1L2 on each Dense kernel
    compile_model(model, settings.lr)
    start = time.perf_counter()
    model.fit(ds.x_train, ds.y_train, batch_size=32, epochs=settings.epochs, verbose=0)
    seconds = (time.perf_counter() - start) / settings.epochs
    logits = np.asarray(model.predict(ds.x_test, batch_size=4096, verbose=0))
    keras.backend.clear_session()
    return Timing("tutorial (model.fit, batch 32)", seconds, accuracy(logits, ds.y_test))


def regsearch_trainer(
    backend_name: str, ds: Dataset, settings: TrainSettings, penalty: Penalty, seed: int
) -> Timing:
    """regsearch's fold trainer on all training rows, no validation part (as in a refit).

    A study builds its trainer (and compiles its training step) once, then trains every fold
    with it; so the one-off set-up, timed here with a one-epoch fit on two batches, is
    reported apart from the per-epoch time."""
    from regsearch.backends import get_backend
    from regsearch.models import model_factory

    start = time.perf_counter()
    trainer = get_backend(backend_name).trainer(
        ds.x_train,
        ds.y_train,
        ds.n_classes,
        settings,
        model_factory("mlp", backend_name, settings.hidden),
    )
    trainer.fit(np.arange(min(2 * settings.batch_size, len(ds.y_train))), None, penalty, 1, seed)
    print(f"regsearch trainer set-up, once per study: {time.perf_counter() - start:.1f} s")
    fit = trainer.fit(np.arange(len(ds.y_train)), None, penalty, settings.epochs, seed)
    logits = trainer.predict_logits(fit.model, ds.x_test)
    label = f"regsearch (batch {settings.batch_size})"
    return Timing(label, fit.fit_time / settings.epochs, accuracy(logits, ds.y_test))


def whole_trial(
    ds: Dataset,
    settings: TrainSettings,
    penalty: Penalty,
    folds: int,
    seed: int,
    model: str = "mlp",
    device: str = "cpu",
) -> str:
    """A whole trial of ``folds`` stratified folds of ``model`` with the torch trainer: one
    fold alone, the folds one by one (as with pruning), and all at once (the vmapped
    ``fit_folds``, as with ``--pruner none``, timed even where the trainer would not choose
    it); returns the sentence to print."""
    from regsearch.backends import get_backend
    from regsearch.backends.torch_folds import VmappedFolds
    from regsearch.cv.folds import make_folds
    from regsearch.models import model_factory
    from regsearch.seeds import fold_seed

    trainer = get_backend("torch").trainer(
        ds.x_train,
        ds.y_train,
        ds.n_classes,
        settings,
        model_factory(model, "torch", settings.hidden),
        device,
    )
    parts = make_folds(ds.y_train, folds, seed)
    seeds = [fold_seed(seed, i) for i in range(folds)]
    epochs = settings.epochs

    def timed(work: Callable[[], Any]) -> float:
        start = time.perf_counter()
        work()
        return time.perf_counter() - start

    one = timed(lambda: trainer.fit(*parts[0], penalty, epochs, seeds[0]))
    sequential = timed(
        lambda: [
            trainer.fit(*part, penalty, epochs, s) for part, s in zip(parts, seeds, strict=True)
        ]
    )
    batched = VmappedFolds(trainer)  # type: ignore[arg-type]
    at_once = timed(lambda: batched.fit_folds(parts, penalty, epochs, seeds))
    return (
        f"A whole trial of {folds} folds of {model} on {trainer.device} ({epochs} epochs, "
        "early stopping on; "
        f"the trainer's choice: {trainer.fold_parallel_reason}): one fold alone "
        f"{one:.1f} s; one by one {sequential:.1f} s ({sequential / one:.2f}x one fold); all "
        f"at once {at_once:.1f} s ({at_once / one:.2f}x one fold, {sequential / at_once:.2f}x "
        "faster than one by one)."
    )
