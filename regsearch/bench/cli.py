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
import os
from collections.abc import Sequence
from pathlib import Path

from regsearch.bench.probes import (
    epoch_gflop,
    matmul_peak_gflops,
    memory_over_trials,
    thread_timings,
)
from regsearch.bench.studies import compare_study_paths, print_study_paths
from regsearch.bench.tutorial import regsearch_trainer, tutorial_keras, tutorial_torch, whole_trial
from regsearch.bench.workload import compare_with_skorch
from regsearch.config import DATA_DIR_ENV, DEVICES, TrainSettings
from regsearch.data import Dataset, load_dataset
from regsearch.options import parse_hidden
from regsearch.penalty import Penalty


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


def _tutorial_comparison(
    args: argparse.Namespace, ds: Dataset, settings: TrainSettings, penalty: Penalty
) -> tuple[float, float, float]:
    """The tutorial loop against regsearch's trainer: ``(ratio, peak fraction, delta pp)``."""
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
    return ratio, peak_fraction, delta_pp


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
    ratio = peak_fraction = delta_pp = float("nan")
    if not args.skip_tutorial:
        ratio, peak_fraction, delta_pp = _tutorial_comparison(args, ds, settings, penalty)
    if args.threads_probe and args.backend == "torch":
        counts = list(range(1, (os.cpu_count() or 1) + 1))
        print(
            f"\nThreads: one fold, and {args.study_folds} folds at once, {args.epochs} epochs "
            f"on {ds.name}, quiet and beside a busy PyTorch process.",
            flush=True,
        )
        print(f"{'machine':<8} {'threads':>7} {'one fold s':>10} {'folds at once s':>15}")
        for machine, threads, one, at_once in thread_timings(
            ds, settings, args.study_folds, args.seed, counts
        ):
            print(f"{machine:<8} {threads:7d} {one:10.2f} {at_once:15.2f}", flush=True)
    if args.study_trials > 0:
        print(
            f"\nWhole study: {args.study_trials} trials x {args.study_folds} folds x "
            f"{args.epochs} epochs on {ds.name}, refits included.",
            flush=True,
        )
        timings = compare_study_paths(
            ds,
            args.study_trials,
            args.study_folds,
            settings,
            args.study_batch,
            args.seed,
            args.backend,
            args.study_busy,
        )
        print(print_study_paths(timings, matmul_peak_gflops()), flush=True)
    if args.trial_folds > 1 and args.backend != "torch":
        print("(--trial-folds needs --backend torch: the fold-parallel trainer is PyTorch's)")
    elif args.trial_folds > 1:
        print(
            "\n"
            + whole_trial(
                ds,
                settings,
                penalty,
                args.trial_folds,
                args.seed,
                args.trial_model,
                args.trial_device,
            ),
            flush=True,
        )
    if args.keras_towers > 1:
        from regsearch.bench.keras_towers import keras_towers

        one, towers = keras_towers(ds, settings, penalty, args.keras_towers, args.seed)
        print(
            f"\nKeras, {args.keras_towers} folds of {ds.name} per epoch: one by one {one:.2f} s, "
            f"as {args.keras_towers} towers of one model {towers:.2f} s ({one / towers:.2f}x).",
            flush=True,
        )
    if args.denormals > 0:
        from regsearch.bench.probes import denormal_timings

        by_flush = denormal_timings(ds, settings, args.study_folds, args.seed, args.denormals)
        for flushed, (seconds, trained) in by_flush.items():
            print(
                f"\nl2={args.denormals:g}, {args.study_folds} folds at once, subnormals "
                f"{'flushed to zero' if flushed else 'kept'}: {sum(seconds):.1f} s, epochs "
                f"trained {trained}; seconds per epoch: " + " ".join(f"{s:.1f}" for s in seconds),
                flush=True,
            )
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
        mlp = args.w_model == "mlp"
        compare_with_skorch(
            full,
            args.w_batch_size or (256 if mlp else 128),
            args.w_lr or (5e-3 if mlp else 1e-3),
            args.seed,
            args.w_model,
        )
    print(f"ratio={ratio:.2f} peak_fraction={peak_fraction:.3f} acc_delta_pp={delta_pp:.2f}")
    return 0
