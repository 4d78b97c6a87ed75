"""Text tables of stored studies for a terminal, and the rows as CSV or JSON for pandas."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from regsearch import records
from regsearch.config import DEFAULT_ROPE_PP
from regsearch.penalty import Penalty, lambda_cell
from regsearch.present.families import (
    answer_comparison,
    configuration_text,
    family_lines,
    refit_decay_text,
)
from regsearch.present.nested import nested_lines


def printable(text: str) -> str:
    """``text`` with control characters (terminal escape sequences) shown escaped, so a
    stored name cannot drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def study_rows(storage: Any) -> list[dict[str, Any]]:
    """One row per study: name, backend, dataset, trial counts, best CV score, test result."""
    rows = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        counts = {state: 0 for state in TrialState}
        for trial in study.get_trials(deepcopy=False):
            counts[trial.state] += 1
        config = records.study_config(study)
        complete = counts[TrialState.COMPLETE]
        refit = records.refit_record(study)
        rows.append(
            {
                "study": summary.study_name,
                "backend": config.get("backend"),
                "model": (study.user_attrs.get(records.MODEL_SUMMARY) or {}).get("spec"),
                "dataset": study.user_attrs.get(records.DATASET_SUMMARY, config.get("dataset")),
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


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain aligned text table of ``columns``."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def study_table(
    study: optuna.Study, rows: list[dict[str, Any]], rope_pp: float = DEFAULT_ROPE_PP
) -> str:
    """The trials table and the chosen configuration, for a terminal."""
    folds = records.study_splits(study)
    # Up to 5 splits each value; more (repeated CV) as their range, so a row stays readable.
    listed = folds <= _LISTED_SPLITS
    scores_column = "fold accuracies" if listed else f"accuracy min-max ({folds} splits)"
    epochs_column = "best epochs" if listed else "best epochs min-max"
    compact = []
    for row in rows:
        scores = [row.get(records.fold_key(i, "test_accuracy")) for i in range(folds)]
        epochs = [row.get(records.fold_key(i, "best_epoch")) for i in range(folds)]
        mean, std = row[records.MEAN_SCORE], row[records.STD_SCORE]
        compact.append(
            {
                "trial": row["trial"],
                "state": row["state"].lower(),
                "penalty": row["param_penalty"],
                "l1": lambda_cell(row["param_l1"]),
                "l2": lambda_cell(row["param_l2"]),
                "weight_decay": lambda_cell(row["param_weight_decay"]),
                "lr": lambda_cell(row["param_lr"] or 0.0),
                scores_column: _spread(scores, "{:.4f}", " "),
                "mean ± std": "-" if mean is None else f"{mean:.4f} ± {std:.4f}",
                "rank": row["rank_test_accuracy"],
                epochs_column: _spread(epochs, "{}", ","),
                # Optuna's trial duration covers all folds; this is one fold's training.
                "fit s/fold": None
                if row[records.MEAN_FIT_TIME] is None
                else f"{row[records.MEAN_FIT_TIME]:.1f}",
                "reason": _reason(row),
            }
        )
    name = printable(study.study_name)
    lines = [f"Study {name!r}: {study.user_attrs.get(records.DATASET_SUMMARY, '')}"]
    lines += [line for line in (records.model_line(study),) if line] + [""]
    columns = list(compact[0]) if compact else ["trial"]
    for key in ("weight_decay", "lr"):  # only where searched: a classic study's table stays
        if not any(row[f"param_{key}"] for row in rows):
            columns = [c for c in columns if c != key]
    lines.append(table(compact, columns))
    lines.append("")
    lines += chosen_lines(study, rope_pp)
    return "\n".join(lines)


_LISTED_SPLITS = 5


def _spread(values: list[Any], form: str, sep: str) -> str:
    """Each value (``-`` where missing) for up to :data:`_LISTED_SPLITS` of them, else
    ``min-max`` of those present."""
    if len(values) <= _LISTED_SPLITS:
        return sep.join("-" if v is None else form.format(v) for v in values)
    present = [v for v in values if v is not None]
    if not present:
        return "-"
    low, high = form.format(min(present)), form.format(max(present))
    return low if low == high else f"{low}-{high}"


def _reason(row: dict[str, Any]) -> str:
    reason = row[records.REASON] or ""
    if not row["baseline"]:
        return reason
    return f"baseline, no penalty; {reason}" if reason else "baseline, no penalty"


def chosen_lines(
    study: optuna.Study,
    rope_pp: float = DEFAULT_ROPE_PP,
    *,
    nested: bool = True,
    families: bool = True,
) -> list[str]:
    """The selection rule, the chosen configuration, the test results, the comparison with
    the baseline (``rope_pp``: its region of practical equivalence), the epoch cap's count,
    (with ``families``) the family table as text, and (with ``nested``) nested
    cross-validation's outcome, as sentences."""
    selection = records.selection_record(study)
    refit, baseline = records.refit_record(study), records.baseline_refit_record(study)
    if not refit:
        return ["No refit yet: the study has not finished (rerun the study command to finish)."]
    lines = []
    if selection:
        lines.append(
            f"Selection rule: {selection['rule']} (best trial {selection['best_trial']}, "
            f"one-standard-error choice {selection['one_se_trial']})."
        )
    lambdas = Penalty.of(refit).lambdas(".3g")
    lines.append(
        f"Chosen: trial {refit['trial_number']} ({refit['penalty']}{', ' if lambdas else ''}"
        f"{lambdas}), CV accuracy {refit['cv_accuracy']:.4f}, refit for {refit['epochs']} "
        f"epochs"
        + refit_decay_text(refit.get("weight_decay", 0.0), refit.get("refit_weight_decay", 0.0))
        + f": {_tested(refit)}."
    )
    if baseline:
        lines.append(
            f"Baseline: trial {baseline['trial_number']}, CV accuracy "
            f"{baseline['cv_accuracy']:.4f}: {_tested(baseline)}."
        )
        lines += comparison_lines(study, refit["trial_number"], rope_pp)
    elif (untested := records.baseline_trial(study)) is not None:  # no test set, no refit
        lines.append(f"Baseline: trial {untested.number}, CV accuracy {untested.value:.4f}.")
        lines += comparison_lines(study, refit["trial_number"], rope_pp)
    lines += cv_gap_lines(study, refit["trial_number"], refit.get("test_accuracy", math.nan))
    lines += epoch_cap_lines(study, refit["trial_number"], lambda name: f"--{name}")
    if families:
        lines += family_lines(study, rope_pp)
    record = study.user_attrs.get(records.NESTED)
    if nested and record:
        lines += ["", *nested_lines(record)]
    return lines


def _tested(refit: dict[str, Any]) -> str:
    """``test accuracy 0.9474``, or that there was no test set (NaN is stored then)."""
    value = refit.get("test_accuracy")
    if value is None or math.isnan(value):
        return "no test set"
    return f"test accuracy {value:.4f}"


def hit_epoch_cap(attrs: dict[str, Any], split: int, cap: int, patience: int) -> bool | None:
    """Whether split ``split`` trained all ``cap`` epochs with early stopping not yet ending it
    (its best epoch within the last ``patience``), ``None`` without a record. Such a fold was
    still improving when the cap ended it."""
    history = records.fold_value(attrs, split, "history")
    best = records.fold_value(attrs, split, "best_epoch")
    if not history or best is None:
        return None
    return len(history.get("loss", [])) >= cap and cap - int(best) < max(patience, 1)


def epoch_cap_lines(
    study: optuna.Study, chosen: int, name_of: Callable[[str], str] = lambda name: name
) -> list[str]:
    """How many folds of the chosen trial, and of all complete trials, the epoch cap ended
    (:func:`hit_epoch_cap`), and what to do when it ended most of the chosen one's."""
    train = records.study_config(study).get("train") or {}
    cap, patience = train.get("epochs"), train.get("patience", 0)
    splits = records.study_splits(study)
    if not cap or not splits:
        return []

    def capped(trial: FrozenTrial) -> list[bool]:
        hits = (hit_epoch_cap(records.attrs(trial), i, cap, patience) for i in range(splits))
        return [h for h in hits if h is not None]

    mine = capped(study.trials[chosen])
    every = [
        h
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        for h in capped(t)
    ]
    if not mine:
        return []
    line = (
        f"Epoch cap: {sum(mine)} of {len(mine)} folds of the chosen configuration "
        f"({sum(every)} of {len(every)} over all complete trials) were still improving when "
        f"the cap of {cap} epochs ended them"
    )
    line += "." if all(every) else f"; early stopping (patience {patience}) ended the rest."
    if 2 * sum(mine) > len(mine):
        line += f" A larger {name_of('epochs')} may find a better model."
    return [line]


def comparison_lines(study: optuna.Study, chosen: int, rope_pp: float) -> list[str]:
    """The study's answer (:func:`answer_comparison`) as a sentence, every time there are
    splits to compare on: ``Against the baseline: ...`` for a regularized choice; where no
    penalty was chosen, the best regularized configuration against the baseline, so that "no
    penalty helps here" is said with its interval as clearly as a gain."""
    comparison = answer_comparison(study, chosen, rope_pp)
    if comparison is None or comparison.trial is None:
        return []
    if comparison.trial == chosen:
        return [f"Against the baseline: {comparison.describe()}."]
    best = study.trials[comparison.trial]
    return [
        f"The best regularized configuration, trial {best.number} ({configuration_text(best)}), "
        f"against the baseline: {comparison.describe()}."
    ]


def cv_gap_lines(study: optuna.Study, chosen: int, test_accuracy: float) -> list[str]:
    """One sentence where the refit's test accuracy exceeds the chosen trial's CV accuracy by
    more than its splits' spread (their standard deviation): the CV score is not an estimate
    of the refit's accuracy, and a reader should not think the test set leaked."""
    trial = study.trials[chosen]
    spread = trial.user_attrs.get(records.STD_SCORE)
    if trial.value is None or spread is None or math.isnan(test_accuracy):
        return []
    gap = test_accuracy - trial.value
    if gap <= spread:
        return []
    folds = records.study_folds(study)
    share = f" ({(folds - 1) / folds:.0%} here)" if folds > 1 else ""
    return [
        f"Test accuracy above CV: +{100 * gap:.2f} pp, more than the splits' spread "
        f"(+/-{100 * spread:.2f} pp). Each fold trains on (k-1)/k of the training rows{share}, "
        "the refit on all of them, so the refit is usually the better model; the CV score "
        "compares configurations, it does not estimate the refit's accuracy."
    ]
