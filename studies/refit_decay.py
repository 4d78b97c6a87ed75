"""Which weight decay should the refit train with? Refit a stored study's best ``weight_decay``
trial on all training rows twice per seed: at the folds' ``weight_decay``, and at the same
timescale in epochs (``wd * fold rows / all rows``, regsearch's rule, see
:func:`regsearch.cv.refit.refit_decay`), and print each refit's test accuracy.

    python studies/refit_decay.py --config studies/weight-decay.toml \\
        --data-dir ../shared/data/mnist --seeds 3

Run it after the study (same storage and options); it stores nothing.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from regsearch.cli.arguments import config_from_args, parse_args
from regsearch.cv.refit import refit_and_test
from regsearch.run.session import StudySession


def main(argv: list[str]) -> int:
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--seeds", type=int, default=3)
    ours, rest = extra.parse_known_args(argv)
    _, args = parse_args(rest)
    session = StudySession.open(config_from_args(args))
    complete = session.complete_trials()
    decayed = [t for t in complete if "weight_decay" in t.params]
    if not decayed:
        print("the study has no complete weight_decay trial", file=sys.stderr)
        return 2
    trial = max(decayed, key=lambda t: (t.value, -t.number))
    fold_rows = float(np.mean([len(train) for train, _ in session.folds]))
    n = len(session.dataset.y_train)
    print(
        f"trial {trial.number}: weight_decay={trial.params['weight_decay']:.3g}, "
        f"lr={trial.params.get('lr', session.config.train.lr):.3g}, CV accuracy {trial.value:.4f}; "
        f"folds train on {fold_rows:.0f} rows, the refit on {n}"
    )
    results: dict[str, list[float]] = {"same wd": [], "same timescale": []}
    for seed in range(ours.seeds):
        for rule, rows in (("same wd", None), ("same timescale", fold_rows)):
            refit = refit_and_test(session.trainer, session.dataset, trial, seed, fold_rows=rows)
            results[rule].append(refit.test_accuracy)
            print(
                f"  seed {seed}  {rule:<14}  wd={refit.refit_weight_decay:.3g}  "
                f"test accuracy {refit.test_accuracy:.4f}"
            )
    for rule, scores in results.items():
        print(f"{rule:<14}  mean test accuracy {np.mean(scores):.4f} ± {np.std(scores):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
