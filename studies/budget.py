"""How large a training budget do the defaults need? Cross-validate the unregularized MLP on
small tables and on MNIST at several budgets, refit it on all training rows for the folds'
median best epoch, and print CV and test accuracy, how many folds the epoch cap ended, and the
wall time, beside scikit-learn's ``MLPClassifier`` and a logistic regression on the same split.

    python studies/budget.py --data-dir ../shared/data/mnist

A budget is ``epochs/batch/min_steps/patience``: the epoch cap is raised until a fold trains
at least ``min_steps`` optimizer steps where ``epochs`` alone would give fewer
(:meth:`regsearch.config.TrainSettings.epoch_cap`, as a study resolves it on its smallest
fold). It stores nothing.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from regsearch.backends import get_backend
from regsearch.config import TrainSettings
from regsearch.cv.folds import make_folds
from regsearch.data import Dataset
from regsearch.data.mnist import load_mnist
from regsearch.models import model_factory
from regsearch.penalty import Penalty


def tables(data_dir: Path, mnist_rows: int) -> dict[str, tuple[Dataset, str]]:
    """Name -> (dataset, scaling)."""
    found = {}
    for name, loader in (
        ("breast_cancer", datasets.load_breast_cancer),
        ("wine", datasets.load_wine),
        ("digits", datasets.load_digits),
    ):
        x, y = loader(return_X_y=True)
        data = Dataset.from_arrays(x.astype(np.float32), y, test_size=0.2, seed=0, name=name)
        found[name] = (data, "standard")
    mnist = load_mnist(data_dir, create=False)
    rng = np.random.default_rng(0)
    sample = rng.choice(len(mnist.y_train), mnist_rows, replace=False)
    found[f"mnist{mnist_rows}"] = (
        Dataset.from_arrays(
            mnist.x_train[sample], mnist.y_train[sample], mnist.x_test, mnist.y_test, name="mnist"
        ),
        "none",
    )
    return found


def regsearch_run(data: Dataset, scaling: str, budget: tuple[int, int, int, int], folds: int):
    epochs, batch, min_steps, patience = budget
    fold_list = make_folds(data.y_train, folds, seed=0)
    given = TrainSettings(epochs=epochs, batch_size=batch, patience=patience, min_steps=min_steps)
    limit = given.epoch_cap(min(len(t) for t, _ in fold_list))
    settings = TrainSettings(epochs=limit, batch_size=batch, patience=patience)
    backend = get_backend("torch")
    factory = model_factory("mlp", "torch", settings.hidden)
    start = time.perf_counter()
    trainer = backend.trainer(
        data.x_train, data.y_train, data.n_classes, settings, factory, scaling=scaling
    )
    fits = [trainer.fit(tr, va, Penalty(), limit, seed) for seed, (tr, va) in enumerate(fold_list)]
    scores, best, capped = [], [], 0
    for fit in fits:
        scores.append(fit.history["val_accuracy"][fit.best_epoch - 1])
        best.append(fit.best_epoch)
        capped += len(fit.history["loss"]) >= limit and limit - fit.best_epoch < max(patience, 1)
    refit_epochs = math.ceil(float(np.median(best)))
    rows = np.arange(len(data.y_train))
    model = trainer.fit(rows, None, Penalty(), refit_epochs, 0).model
    logits = trainer.predict_logits(model, data.x_test)
    test = float(np.mean(logits.argmax(1) == data.y_test))
    return float(np.mean(scores)), test, capped, limit, best, time.perf_counter() - start


def sklearn_run(data: Dataset, estimator) -> tuple[float, float]:
    start = time.perf_counter()
    x, xt = data.x_train.reshape(len(data.x_train), -1), data.x_test.reshape(len(data.x_test), -1)
    model = make_pipeline(StandardScaler(), estimator).fit(x, data.y_train)
    return float(model.score(xt, data.y_test)), time.perf_counter() - start


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/mnist"))
    parser.add_argument("--mnist-rows", type=int, default=3000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--budgets",
        default="20/128/0/3,20/128/1000/3,20/128/2000/3",
        help="comma-separated epochs/batch/min_steps/patience",
    )
    args = parser.parse_args(argv)
    budgets = [tuple(int(v) for v in b.split("/")) for b in args.budgets.split(",")]
    for name, (data, scaling) in tables(args.data_dir, args.mnist_rows).items():
        n = len(data.y_train)
        print(f"{name}: {n} training rows, {len(data.y_test)} test rows, {data.n_classes} classes")
        for estimator in (
            MLPClassifier(random_state=0, max_iter=200),
            LogisticRegression(max_iter=2000),
        ):
            test, seconds = sklearn_run(data, estimator)
            print(f"  {type(estimator).__name__:<28} test {test:.4f}  {seconds:6.1f} s")
        for budget in budgets:
            cv, test, capped, limit, best, seconds = regsearch_run(
                data, scaling, budget, args.folds
            )
            label = "regsearch e{}/b{}/s{}/p{}".format(*budget)
            print(
                f"  {label:<28} test {test:.4f}  {seconds:6.1f} s  CV {cv:.4f}  cap {limit:>4} "
                f"epochs, {capped} of {args.folds} folds capped, best epochs {best}"
            )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
