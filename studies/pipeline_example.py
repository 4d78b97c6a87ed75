"""RegularizationSearchCV in a scikit-learn Pipeline on 3,000 MNIST images, tested on MNIST's
10,000 test images (the README's "As a scikit-learn estimator" example).

    python studies/pipeline_example.py --data-dir ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from regsearch import RegularizationSearchCV
from regsearch.data import load_mnist


def pixel_rows(images: np.ndarray) -> np.ndarray:
    """regsearch's MNIST images (floats in [0, 1]) as uint8 rows of 784 pixels."""
    return (images.reshape(len(images), -1) * 255).round().astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/mnist"))
    parser.add_argument("--n", type=int, default=3000, help="training images, a stratified sample")
    args = parser.parse_args()
    mnist = load_mnist(args.data_dir)
    X, y = pixel_rows(mnist.x_train), mnist.y_train
    X, _, y, _ = train_test_split(X, y, train_size=args.n, stratify=y, random_state=0)
    X_test, y_test = pixel_rows(mnist.x_test), mnist.y_test

    start = time.perf_counter()
    pipe = make_pipeline(
        MinMaxScaler(),
        RegularizationSearchCV(backend="torch", cv=5, n_trials=20, scale="none"),
    )
    pipe.fit(X, y)
    print(f"fit: {time.perf_counter() - start:.1f} s")
    search = pipe[-1]
    results = search.cv_results_
    baseline = int(np.argmax(results["baseline"]))
    print("best_params_:", search.best_params_)
    print("best_score_:", round(search.best_score_, 4), " best_index_:", search.best_index_)
    print("baseline's mean_test_score:", round(float(results["mean_test_score"][baseline]), 4))
    print("refit_time_:", round(search.refit_time_, 1), "s  n_splits_:", search.n_splits_)
    print("test accuracy (pipe.score):", round(pipe.score(X_test, y_test), 4))
    columns = ["trial_number", "state", "param_penalty", "param_l1", "param_l2"]
    columns += ["mean_test_score", "std_test_score", "rank_test_score"]
    table = pd.DataFrame(results)[columns].sort_values("rank_test_score")
    print(table.head(6).to_string(index=False))
    print(search.study_.user_attrs["answer"])


if __name__ == "__main__":
    main()
