"""``python -m regsearch.inspect``: what a storage holds, and one study's trials.

Without ``--study``: every study in the storage with its trial counts, backend, dataset, best
score and test result. With ``--study``: one row per trial (see :func:`regsearch.results.trial_rows`
for the columns, scikit-learn ``cv_results_`` names), then the chosen configuration and its test
result. ``--format csv|json`` writes the rows for pandas (``pandas.read_csv`` /
``pandas.read_json``). Reading never writes: no stale-trial sweep, no new file.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from regsearch.config import DEFAULT_STORAGE, ConfigError

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m regsearch.inspect",
        description="List the studies in an Optuna storage, or show one study's trials.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="Optuna storage URL")
    parser.add_argument("--study", default=None, help="the study to show (default: list them)")
    parser.add_argument("--format", default="table", choices=("table", "csv", "json"))
    return parser


def open_for_reading(url: str) -> Any:
    """An Optuna storage for ``url`` that never creates anything: a missing SQLite file is an
    error, not a new empty database."""
    import optuna

    from regsearch.storage import first_line_redacted, redact_url, sqlite_path

    db_file = sqlite_path(url)
    if db_file is not None and not db_file.is_file():
        raise ConfigError(
            f"no study database at {db_file}: --storage must name an existing file "
            f"(the study command's default is {DEFAULT_STORAGE})."
        )
    try:
        return optuna.storages.RDBStorage(url, skip_compatibility_check=False)
    except Exception as exc:  # SQLAlchemy raises many types; one message is enough
        raise ConfigError(
            f"cannot open the storage {redact_url(url)}: {type(exc).__name__}: "
            f"{first_line_redacted(str(exc), url)}"
        ) from exc


def load_study_for_reading(url: str, name: str) -> Any:
    """The study ``name`` of the storage at ``url``, read-only (see :func:`open_for_reading`).

    Raises:
        ConfigError: no such storage or study; the message lists the studies there are.
    """
    import optuna

    from regsearch.storage import redact_url

    storage = open_for_reading(url)
    names = optuna.get_all_study_names(storage)
    if name not in names:
        raise ConfigError(
            f"no study named {printable(name)!r} in {redact_url(url)}; it holds: "
            f"{', '.join(repr(printable(n)) for n in names) or 'none'}. List them with "
            f"python -m regsearch.inspect --storage {redact_url(url)}"
        )
    return optuna.load_study(study_name=name, storage=storage)


def study_rows(storage: Any) -> list[dict[str, Any]]:
    """One row per study: name, backend, dataset, trial counts, best CV score, test result."""
    import optuna
    from optuna.trial import TrialState

    rows = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        counts = {state: 0 for state in TrialState}
        for trial in study.get_trials(deepcopy=False):
            counts[trial.state] += 1
        config = study.user_attrs.get("config", {})
        complete = counts[TrialState.COMPLETE]
        refit = study.user_attrs.get("refit", {})
        rows.append(
            {
                "study": summary.study_name,
                "backend": config.get("backend"),
                "dataset": study.user_attrs.get("dataset_summary", config.get("dataset")),
                "complete": complete,
                "pruned": counts[TrialState.PRUNED],
                "failed": counts[TrialState.FAIL],
                "running": counts[TrialState.RUNNING],
                "best_mean_test_accuracy": study.best_value if complete else None,
                "chosen_trial": refit.get("trial_number"),
                "test_accuracy": refit.get("test_accuracy"),
            }
        )
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def to_json(rows: list[dict[str, Any]]) -> str:
    """A JSON array of records; ``nan`` becomes ``null`` (JSON has no NaN)."""

    def clean(value: Any) -> Any:
        return None if isinstance(value, float) and not math.isfinite(value) else value

    return json.dumps([{k: clean(v) for k, v in row.items()} for row in rows], indent=1)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.4f}" if 1e-3 <= abs(value) < 1e4 else f"{value:.2e}" if value else "0"
    return printable(str(value))


def printable(text: str) -> str:
    """``text`` with control characters (terminal escape sequences) shown escaped, so a
    stored name cannot drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain aligned text table of ``columns``."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def study_table(study: Any, rows: list[dict[str, Any]]) -> str:
    """The trials table and the chosen configuration, for a terminal."""
    folds = int(study.user_attrs.get("config", {}).get("folds", 0))
    compact = []
    for row in rows:
        scores = [row.get(f"split{i}_test_accuracy") for i in range(folds)]
        epochs = [row.get(f"split{i}_best_epoch") for i in range(folds)]
        mean, std = row["mean_test_accuracy"], row["std_test_accuracy"]
        compact.append(
            {
                "trial": row["trial"],
                "state": row["state"].lower(),
                "penalty": row["param_penalty"],
                "l1": f"{row['param_l1']:.2e}" if row["param_l1"] else None,
                "l2": f"{row['param_l2']:.2e}" if row["param_l2"] else None,
                "fold accuracies": " ".join("-" if s is None else f"{s:.4f}" for s in scores),
                "mean ± std": "-" if mean is None else f"{mean:.4f} ± {std:.4f}",
                "rank": row["rank_test_accuracy"],
                "best epochs": ",".join("-" if e is None else str(e) for e in epochs),
                "fit s": None if row["mean_fit_time"] is None else f"{row['mean_fit_time']:.1f}",
                "reason": row["state_reason"]
                or ("baseline, no penalty" if row["baseline"] else ""),
            }
        )
    name = printable(study.study_name)
    lines = [f"Study {name!r}: {study.user_attrs.get('dataset_summary', '')}", ""]
    lines.append(table(compact, list(compact[0]) if compact else ["trial"]))
    lines.append("")
    lines += chosen_lines(study)
    return "\n".join(lines)


def chosen_lines(study: Any) -> list[str]:
    """The selection rule, the chosen configuration and the test results, as sentences."""
    selection = study.user_attrs.get("selection")
    refit, baseline = study.user_attrs.get("refit"), study.user_attrs.get("baseline_refit")
    if not refit:
        return ["No refit yet: the study has not finished (rerun the study command to finish)."]
    lines = []
    if selection:
        lines.append(
            f"Selection rule: {selection['rule']} (best trial {selection['best_trial']}, "
            f"one-standard-error choice {selection['one_se_trial']})."
        )
    lambdas = ", ".join(f"{k}={refit[k]:.3g}" for k in ("l1", "l2") if refit.get(k))
    lines.append(
        f"Chosen: trial {refit['trial_number']} ({refit['penalty']}{', ' if lambdas else ''}"
        f"{lambdas}), CV accuracy {refit['cv_accuracy']:.4f}, refit for {refit['epochs']} "
        f"epochs: test accuracy {refit['test_accuracy']:.4f}."
    )
    if baseline:
        lines.append(
            f"Baseline: trial {baseline['trial_number']}, CV accuracy "
            f"{baseline['cv_accuracy']:.4f}: test accuracy {baseline['test_accuracy']:.4f}."
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import optuna

    from regsearch.results import trial_rows

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
            text = study_table(study, rows) if args.format == "table" else None
    except ConfigError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if text is None:
        text = to_csv(rows) if args.format == "csv" else to_json(rows)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
