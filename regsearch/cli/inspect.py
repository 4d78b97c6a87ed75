"""``python -m regsearch.inspect``: what a storage holds, and one study's trials.

Without ``--study``: every study in the storage with its trial counts, backend, dataset, best
score and test result. With ``--study``: one row per trial (see
:func:`regsearch.present.rows.trial_rows` for the columns, scikit-learn ``cv_results_`` names),
then the chosen configuration and its test result. ``--format csv|json`` writes the rows for
pandas (``pandas.read_csv`` / ``pandas.read_json``). Reading never writes: no stale-trial sweep,
no new file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from regsearch.config import DEFAULT_ROPE_PP, DEFAULT_STORAGE
from regsearch.errors import EXIT_USAGE, ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m regsearch.inspect",
        description="List the studies in an Optuna storage, or show one study's trials.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="Optuna storage URL")
    parser.add_argument("--study", default=None, help="the study to show (default: list them)")
    parser.add_argument("--format", default="table", choices=("table", "csv", "json"))
    parser.add_argument(
        "--rope",
        type=float,
        default=DEFAULT_ROPE_PP,
        help="region of practical equivalence for the comparison with the baseline, in "
        "percentage points of CV accuracy",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import optuna

    from regsearch.present.reading import load_study_for_reading, open_for_reading
    from regsearch.present.rows import trial_rows
    from regsearch.present.tables import study_rows, study_table, table, to_csv, to_json

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        if args.study is None:
            rows = study_rows(open_for_reading(args.storage))
            if args.format == "table" and not rows:
                print("No studies in this storage.")
                return 0
            text = table(rows, list(rows[0])) if args.format == "table" else None
        else:
            study = load_study_for_reading(args.storage, args.study)
            rows = trial_rows(study)
            text = study_table(study, rows, args.rope) if args.format == "table" else None
    except ConfigError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if text is None:
        text = to_csv(rows) if args.format == "csv" else to_json(rows)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
