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

from regsearch.bench.arguments import build_parser
from regsearch.bench.keras_towers import keras_towers
from regsearch.bench.probes import (
    denormal_timings,
    epoch_gflop,
    matmul_peak_gflops,
    memory_over_trials,
    thread_timings,
)
from regsearch.bench.studies import compare_study_paths, print_study_paths
from regsearch.bench.tutorial import regsearch_trainer, tutorial_keras, tutorial_torch, whole_trial
from regsearch.bench.workload import compare_with_skorch
from regsearch.config import TrainSettings
from regsearch.data import Dataset, load_dataset
from regsearch.options import parse_hidden
from regsearch.penalty import Penalty


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
        one, towers = keras_towers(ds, settings, penalty, args.keras_towers, args.seed)
        print(
            f"\nKeras, {args.keras_towers} folds of {ds.name} per epoch: one by one {one:.2f} s, "
            f"as {args.keras_towers} towers of one model {towers:.2f} s ({one / towers:.2f}x).",
            flush=True,
        )
    if args.denormals > 0:
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
