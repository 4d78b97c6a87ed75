"""``python -m regsearch.bench``: the tutorial training loop against regsearch's fold trainer.

Same data, same model, same penalty, same epochs, one process, side by side. Prints seconds per
epoch, the speed ratio, each path's accuracy on the MNIST test images, and the fraction of this
machine's measured float32 matmul peak that regsearch reaches. The last line is machine-readable::

    ratio=<x> peak_fraction=<y> acc_delta_pp=<z>

with ``x`` = tutorial s/epoch / regsearch s/epoch, ``y`` = regsearch's GFLOP/s / matmul peak,
``z`` = regsearch's test accuracy - the tutorial's, in percentage points.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from regsearch.config import DATA_DIR_ENV, TrainSettings, parse_hidden
from regsearch.data import Dataset, load_dataset
from regsearch.metrics import accuracy
from regsearch.penalty import Penalty


@dataclass(frozen=True)
class Timing:
    name: str
    seconds_per_epoch: float
    test_accuracy: float


def matmul_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Best-of-``repeats`` float32 GFLOP/s of a ``size x size`` matmul (``2 n^3`` flops), with
    torch when installed (its BLAS is the one training uses), else NumPy."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    matmul: Callable[[], object]
    try:
        import torch

        ta, tb = torch.from_numpy(a), torch.from_numpy(b)

        def matmul() -> object:
            return torch.mm(ta, tb)

    except ImportError:

        def matmul() -> object:
            return a @ b

    matmul()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def epoch_gflop(n_rows: int, n_features: int, hidden: tuple[int, ...], n_classes: int) -> float:
    """Arithmetic of one training epoch: ``6 * rows * sum(fan_in * fan_out)`` flops (a
    multiply-add is 2 flops; the backward pass costs twice the forward)."""
    sizes = [n_features, *hidden, n_classes]
    macs = sum(a * b for a, b in itertools.pairwise(sizes))
    return 6 * n_rows * macs / 1e9


def tutorial_torch(ds: Dataset, settings: TrainSettings, penalty: Penalty, seed: int) -> Timing:
    """PyTorch's tutorial loop: ``torchvision.datasets.MNIST``'s per-sample work (a PIL image,
    then ``ToTensor``), a ``DataLoader`` with batch 64, the explicit penalty in the loss."""
    import torch
    from PIL import Image
    from torch.utils.data import DataLoader
    from torch.utils.data import Dataset as TorchDataset
    from torchvision.transforms import ToTensor

    from regsearch.backends.torch import build_mlp, penalized_loss, seed_everything

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
    model = build_mlp(ds.n_features, settings.hidden, ds.n_classes)
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
        logits = model(torch.from_numpy(ds.x_test)).numpy()
    return Timing("tutorial (DataLoader, batch 64)", seconds, accuracy(logits, ds.y_test))


def tutorial_keras(ds: Dataset, settings: TrainSettings, penalty: Penalty, seed: int) -> Timing:
    """Keras' tutorial loop: ``model.fit`` with its default batch of 32."""
    # Keras through regsearch's backend module, which quiets TensorFlow's start-up logs.
    from regsearch.backends.tf import build_model, compile_model, keras

    keras.utils.set_random_seed(seed)
    model = build_model(ds.n_features, settings.hidden, ds.n_classes, penalty)
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

    start = time.perf_counter()
    trainer = get_backend(backend_name).trainer(ds.x_train, ds.y_train, ds.n_classes, settings)
    trainer.fit(np.arange(min(2 * settings.batch_size, len(ds.y_train))), None, penalty, 1, seed)
    print(f"regsearch trainer set-up, once per study: {time.perf_counter() - start:.1f} s")
    fit = trainer.fit(np.arange(len(ds.y_train)), None, penalty, settings.epochs, seed)
    logits = trainer.predict_logits(fit.model, ds.x_test)
    trainer.release()
    label = f"regsearch (batch {settings.batch_size})"
    return Timing(label, fit.fit_time / settings.epochs, accuracy(logits, ds.y_test))


def whole_trial(
    ds: Dataset, settings: TrainSettings, penalty: Penalty, folds: int, seed: int
) -> str:
    """A whole trial of ``folds`` stratified folds with the torch trainer: one fold alone, the
    folds one by one (as with pruning), and all at once (``fit_folds``, as with
    ``--pruner none``); returns the sentence to print."""
    from regsearch.backends import get_backend
    from regsearch.folds import make_folds
    from regsearch.objective import fold_seed

    trainer: Any = get_backend("torch").trainer(ds.x_train, ds.y_train, ds.n_classes, settings)
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
    at_once = timed(lambda: trainer.fit_folds(parts, penalty, epochs, seeds))
    return (
        f"A whole trial of {folds} folds ({epochs} epochs, early stopping on): one fold alone "
        f"{one:.1f} s; one by one {sequential:.1f} s ({sequential / one:.2f}x one fold); all "
        f"at once {at_once:.1f} s ({at_once / one:.2f}x one fold, {sequential / at_once:.2f}x "
        "faster than one by one)."
    )


W_TRAIN_ROWS = 12000
W_LAMBDAS = (1e-4, 1e-3, 1e-2)
W_FOLDS = 5
W_EPOCHS = 3


@dataclass(frozen=True)
class SearchTiming:
    name: str
    seconds: float
    cv_accuracy: float
    test_accuracy: float
    chosen_l2: float


def workload_w_regsearch(ds: Dataset, batch_size: int, lr: float, seed: int) -> SearchTiming:
    """Workload W with regsearch's own parts: the same folds, objective, trainer and refit as a
    study, with the three lambdas enqueued (in memory, no baseline trial)."""
    import optuna

    from regsearch.backends import get_backend
    from regsearch.config import SearchSpace
    from regsearch.folds import make_folds
    from regsearch.objective import CrossValidationObjective
    from regsearch.refit import refit_and_test

    start = time.perf_counter()
    settings = TrainSettings(epochs=W_EPOCHS, batch_size=batch_size, lr=lr, patience=W_EPOCHS)
    trainer = get_backend("torch").trainer(ds.x_train, ds.y_train, ds.n_classes, settings)
    folds = make_folds(ds.y_train, W_FOLDS, seed)
    space = SearchSpace(penalties=("l2",), lambda_min=min(W_LAMBDAS), lambda_max=max(W_LAMBDAS))
    objective = CrossValidationObjective(
        trainer, ds.x_train, ds.y_train, folds, space, settings, seed
    )
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize")
    for value in W_LAMBDAS:
        study.enqueue_trial({"penalty": "l2", "l2": value})
    study.optimize(objective, n_trials=len(W_LAMBDAS))
    refit = refit_and_test(trainer, ds, study.best_trial, seed)
    return SearchTiming(
        f"regsearch (batch {batch_size}, lr {lr:g})",
        time.perf_counter() - start,
        study.best_value,
        refit.test_accuracy,
        refit.l2,
    )


def workload_w_skorch(ds: Dataset, seed: int) -> SearchTiming:
    """Workload W as a scikit-learn user writes it: ``GridSearchCV`` over a skorch
    ``NeuralNetClassifier`` whose ``get_loss`` adds the L2 penalty (batch 128)."""
    import torch
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from skorch import NeuralNetClassifier

    from regsearch.backends.torch import build_mlp, linear_weights

    class MLP(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = build_mlp(ds.n_features, (128,), ds.n_classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

    class L2Net(NeuralNetClassifier):
        def __init__(self, module: Any, lambda2: float = 0.0, **kwargs: Any) -> None:
            super().__init__(module, **kwargs)
            self.lambda2 = lambda2

        def get_loss(self, y_pred: Any, y_true: Any, X: Any = None, training: bool = False) -> Any:
            loss = super().get_loss(y_pred, y_true, X=X, training=training)
            return loss + self.lambda2 * sum(w.square().sum() for w in linear_weights(self.module_))

    torch.manual_seed(seed)
    net = L2Net(
        MLP,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=W_EPOCHS,
        batch_size=128,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )
    start = time.perf_counter()
    search = GridSearchCV(
        net,
        {"lambda2": list(W_LAMBDAS)},
        cv=StratifiedKFold(W_FOLDS, shuffle=True, random_state=seed),
        scoring="accuracy",
        refit=True,
    )
    search.fit(ds.x_train, ds.y_train)
    seconds = time.perf_counter() - start
    test_accuracy = float(np.mean(search.predict(ds.x_test) == ds.y_test))
    return SearchTiming(
        "skorch + GridSearchCV (batch 128)",
        seconds,
        float(search.best_score_),
        test_accuracy,
        float(search.best_params_["lambda2"]),
    )


def compare_with_skorch(full: Dataset, batch_size: int, lr: float, seed: int) -> None:
    """Workload W, both tools in this process, and a machine-readable closing line."""
    n = W_TRAIN_ROWS
    ds = Dataset(
        f"mnist[:{n}]",
        full.x_train[:n],
        full.y_train[:n],
        full.x_test,
        full.y_test,
        full.n_classes,
    )
    print(
        f"\nWorkload W: {ds.describe()}; L2 with lambda in {list(W_LAMBDAS)}, {W_FOLDS} "
        f"stratified folds, {W_EPOCHS} epochs, refit of the best on all {n}, one test.",
        flush=True,
    )
    peer = workload_w_skorch(ds, seed)
    ours = workload_w_regsearch(ds, batch_size, lr, seed)
    print(f"{'tool':<34} {'wall s':>7} {'CV acc':>7} {'test acc':>9} {'chosen l2':>10}")
    for t in (peer, ours):
        print(
            f"{t.name:<34} {t.seconds:7.1f} {t.cv_accuracy:7.4f} {t.test_accuracy:9.4f} "
            f"{t.chosen_l2:10.0e}"
        )
    print(
        f"w_time_fraction={ours.seconds / peer.seconds:.3f} "
        f"w_cv_regsearch={ours.cv_accuracy:.4f} w_cv_skorch={peer.cv_accuracy:.4f}"
    )


def resident_mib() -> float:
    """This process's resident memory now (Linux ``/proc``; peak RSS elsewhere), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_over_trials(backend: str, ds: Dataset, trials: int, seed: int) -> dict[int, float]:
    """Run a ``trials``-trial study (3 folds, 1 epoch, throwaway storage) and record the
    resident memory after trials 5 and ``trials``: framework state must be released between
    folds and trials, so the two should be close."""
    import optuna

    from regsearch.config import SearchSpace, StudyConfig
    from regsearch.runner import StudySession

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    folder = tempfile.mkdtemp(prefix="regsearch-bench-")
    config = StudyConfig(
        backend=backend,
        folds=3,
        trials=trials,
        seed=seed,
        pruner="none",
        storage=f"sqlite:///{folder}/memory.db",
        train=TrainSettings(epochs=1),
        space=SearchSpace(),
    )
    session = StudySession.open(config, dataset=ds)
    marks: dict[int, float] = {}

    def record(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.number + 1 in (5, trials):
            marks[trial.number + 1] = resident_mib()

    session.optimize(record)
    shutil.rmtree(folder, ignore_errors=True)
    return marks


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m regsearch.bench",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--backend", required=True, choices=("tf", "torch"))
    parser.add_argument("--data-dir", default=os.environ.get(DATA_DIR_ENV, "data"))
    parser.add_argument("--n-train", type=int, default=60000, help="first N training images")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=TrainSettings().batch_size,
        help="regsearch's batch size (the tutorial loops keep theirs)",
    )
    parser.add_argument("--lr", type=float, default=TrainSettings().lr)
    parser.add_argument("--hidden", default="128")
    parser.add_argument("--l2", type=float, default=1e-4, help="penalty of both paths")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--memory-trials",
        type=int,
        default=0,
        help="also run a study of this many trials and compare memory after 5 and after it",
    )
    parser.add_argument(
        "--trial-folds",
        type=int,
        default=0,
        help="also time a whole trial of this many folds, one by one and all at once (torch)",
    )
    parser.add_argument(
        "--vs",
        choices=("skorch",),
        default=None,
        help="also run workload W against skorch + GridSearchCV (pip install 'regsearch[bench]')",
    )
    # Measured here: batch 256 with lr 5e-3 reaches the CV accuracy of Keras' tutorial loop
    # (batch 32, lr 1e-3) within W's 3 epochs, in a quarter of batch 32's time.
    parser.add_argument(
        "--w-batch-size", type=int, default=256, help="regsearch's batch size in workload W"
    )
    parser.add_argument("--w-lr", type=float, default=5e-3, help="regsearch's lr in workload W")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    full = load_dataset("mnist", Path(args.data_dir))
    n = min(args.n_train, len(full.y_train))
    ds = Dataset(
        f"mnist[:{n}]", full.x_train[:n], full.y_train[:n], full.x_test, full.y_test, full.n_classes
    )
    settings = TrainSettings(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, hidden=parse_hidden(args.hidden)
    )
    penalty = Penalty(l2=args.l2)
    print(
        f"regsearch bench: {args.backend}, {ds.describe()}, {args.epochs} epoch(s), "
        f"penalty {penalty.describe()}",
        flush=True,
    )
    if args.backend == "torch":  # triton before TensorFlow; see regsearch.backends
        tutorial = tutorial_torch(ds, settings, penalty, args.seed)
    else:
        tutorial = tutorial_keras(ds, settings, penalty, args.seed)
    ours = regsearch_trainer(args.backend, ds, settings, penalty, args.seed)
    peak = matmul_peak_gflops()
    work = epoch_gflop(len(ds.y_train), ds.n_features, settings.hidden, ds.n_classes)
    print(f"\nmatmul peak (float32, 2048x2048): {peak:.1f} GFLOP/s; one epoch = {work:.1f} GFLOP")
    print(f"{'path':<34} {'s/epoch':>8} {'GFLOP/s':>8} {'test acc':>9}")
    for t in (tutorial, ours):
        print(
            f"{t.name:<34} {t.seconds_per_epoch:8.3f} {work / t.seconds_per_epoch:8.1f} "
            f"{t.test_accuracy:9.4f}"
        )
    ratio = tutorial.seconds_per_epoch / ours.seconds_per_epoch
    peak_fraction = work / ours.seconds_per_epoch / peak
    delta_pp = 100 * (ours.test_accuracy - tutorial.test_accuracy)
    print(
        f"\nregsearch is {ratio:.1f}x faster per epoch, at {100 * peak_fraction:.0f}% of the "
        f"matmul peak; accuracy difference {delta_pp:+.2f} percentage points."
    )
    if args.trial_folds > 1 and args.backend != "torch":
        print("(--trial-folds needs --backend torch: the fold-parallel trainer is PyTorch's)")
    elif args.trial_folds > 1:
        print("\n" + whole_trial(ds, settings, penalty, args.trial_folds, args.seed), flush=True)
    if args.memory_trials > 5:
        marks = memory_over_trials(args.backend, ds, args.memory_trials, args.seed)
        last = args.memory_trials
        print(
            f"\nMemory: {marks[5]:.0f} MiB after 5 trials, {marks[last]:.0f} MiB after {last} "
            f"({100 * (marks[last] / marks[5] - 1):+.1f}%)."
        )
    if args.vs == "skorch":
        if args.backend != "torch":
            print("(--vs skorch compares PyTorch code; it runs with the torch backend)")
        compare_with_skorch(full, args.w_batch_size, args.w_lr, args.seed)
    print(f"ratio={ratio:.2f} peak_fraction={peak_fraction:.3f} acc_delta_pp={delta_pp:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
