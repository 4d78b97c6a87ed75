"""The benchmark command's options (``python -m regsearch.bench --help``)."""

from __future__ import annotations

import argparse
import os

from regsearch.config import DATA_DIR_ENV, DEVICES, TrainSettings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m regsearch.bench",
        description=(
            "``python -m regsearch.bench``: the tutorial training loop against regsearch's "
            "fold trainer."
        ),
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
        "--trial-model",
        default="mlp",
        help="the model of --trial-folds' whole trial: mlp, cnn or a --model reference",
    )
    parser.add_argument(
        "--trial-device",
        choices=DEVICES,
        default="cpu",
        help="where --trial-folds' whole trial trains (the tutorial comparison stays on the CPU)",
    )
    parser.add_argument(
        "--study-trials",
        type=int,
        default=0,
        help="also run a whole study of this many trials (--study-folds folds, --epochs) five "
        "ways: sequential with the median pruner; folds at once, and --study-batch trials at "
        "once, each without a pruner and with the epochs pruner",
    )
    parser.add_argument(
        "--study-busy",
        action="store_true",
        help="with --study-trials: time the default path instead, quiet and beside another "
        "busy PyTorch process",
    )
    parser.add_argument("--study-folds", type=int, default=5)
    parser.add_argument("--study-batch", type=int, default=4)
    parser.add_argument(
        "--threads-probe",
        action="store_true",
        help="also time one fold, and a trial's --study-folds folds at once, with each thread "
        "count from 1 to the cores, on a quiet machine and beside another busy PyTorch process "
        "(torch)",
    )
    parser.add_argument(
        "--keras-towers",
        type=int,
        default=0,
        help="also time K folds of the MLP trained by Keras one by one, and as one model of K "
        "towers (tf)",
    )
    parser.add_argument(
        "--denormals",
        type=float,
        default=0.0,
        metavar="L2",
        help="also time a trial's --study-folds MLP folds trained at once with penalty L2 for "
        "--epochs epochs, epoch by epoch, with subnormal floats kept and flushed to zero (torch)",
    )
    parser.add_argument(
        "--skip-tutorial",
        action="store_true",
        help="skip the tutorial comparison (its ratio line then reads ratio=nan)",
    )
    parser.add_argument(
        "--vs",
        choices=("skorch",),
        default=None,
        help="also run workload W against skorch + GridSearchCV (pip install 'regsearch[bench]')",
    )
    parser.add_argument(
        "--w-model",
        choices=("mlp", "cnn"),
        default="mlp",
        help="workload W's network (the MLP for 3 epochs, or the built-in CNN for 2), the same "
        "in both tools",
    )
    # Measured here: batch 256 with lr 5e-3 reaches the CV accuracy of Keras' tutorial loop
    # (batch 32, lr 1e-3) within W's 3 epochs, in a quarter of batch 32's time.
    parser.add_argument(
        "--w-batch-size",
        type=int,
        default=None,
        help="regsearch's batch size in workload W (default: 256 for the MLP, 128 for the CNN)",
    )
    parser.add_argument(
        "--w-lr",
        type=float,
        default=None,
        help="regsearch's lr in workload W (default: 5e-3 for the MLP, 1e-3 for the CNN)",
    )
    return parser
