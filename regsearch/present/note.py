"""The study's answer and note for optuna-dashboard, as text: the one-line answer (the study's
first attribute), and the note's Markdown (the answer, how to read the page, the figures, how
to reproduce the study)."""

from __future__ import annotations

import math
import shlex
from collections.abc import Sequence
from typing import Any

import optuna

from regsearch import records
from regsearch.config import DEFAULT_ROPE_PP, describe_splits
from regsearch.penalty import Penalty
from regsearch.present.families import FAMILY_COLUMNS, family_table
from regsearch.present.tables import chosen_lines, comparison_lines

FIGURE_FILES = {
    "landscape.png": "each penalty family's CV accuracy over its strength (and learning rate)",
    "accuracy_vs_lambda.png": "CV accuracy against lambda, pruned trials faded, the baseline",
    "test_accuracy.png": "the test accuracy difference, chosen - baseline, with its interval",
    "loss_curves.png": "training and validation loss per epoch, chosen against baseline",
    "fold_spread.png": "each configuration's split scores",
    "history.png": "the optimisation history",
    "weights_vs_lambda.png": "weight norms and sparsity against lambda",
    "nested_cv.png": "nested cross-validation",
}
"""The report's figures regsearch uploads, with what each shows (the note lists them)."""


def answer(study: optuna.Study, rope_pp: float = DEFAULT_ROPE_PP) -> str:
    """``Chosen: l2, l2=0.00123 (trial 9), CV accuracy 0.9323; baseline 0.9173. Against the
    baseline: regularization helps: ... Test accuracy 0.9474, baseline 0.9379.``"""
    refit, baseline = records.refit_record(study), records.baseline_refit_record(study)
    if not refit:
        return records.NO_ANSWER
    penalty = Penalty.of(refit)
    chosen = ", ".join(filter(None, (refit["penalty"], penalty.lambdas(".3g"))))
    base = records.baseline_trial(study)  # refit only where there is a test set
    parts = [
        f"Chosen: {chosen} (trial {refit['trial_number']}), CV accuracy "
        f"{refit['cv_accuracy']:.4f}"
        + (f"; baseline {base.value:.4f}." if base is not None else ".")
    ]
    if base is not None:
        parts += comparison_lines(study, refit["trial_number"], rope_pp)
    if not math.isnan(refit.get("test_accuracy", math.nan)):
        parts.append(
            f"Test accuracy {refit['test_accuracy']:.4f}"
            + (f", baseline {baseline['test_accuracy']:.4f}." if baseline else ".")
        )
    return " ".join(parts)


def note(
    study: optuna.Study,
    figures: dict[str, str],
    reproduce: Sequence[str],
    rope_pp: float = DEFAULT_ROPE_PP,
) -> str:
    """The note's Markdown: the answer, how to read the page, the figures (``figures``: file
    name -> artifact id, shown inline), how to reproduce."""
    refit, baseline = records.refit_record(study), records.baseline_refit_record(study)
    lines = [f"# {_headline(study)}", ""]
    if refit:
        lines += [
            "| | trial | penalty | CV accuracy | test accuracy |",
            "| --- | --- | --- | --- | --- |",
            _row("**chosen**", refit),
        ]
        base = records.baseline_trial(study)
        if base is not None and base.number != refit.get("trial_number"):
            untested = {"trial_number": base.number, "penalty": "none", "cv_accuracy": base.value}
            lines.append(_row("baseline (no penalty)", baseline or untested))
        lines.append("")
    lines += [f"- {line}" for line in chosen_lines(study, rope_pp, families=False) if line]
    if found := family_table(study, rope_pp):
        headline, rows = found
        lines += ["", headline, "", "| " + " | ".join(FAMILY_COLUMNS) + " |"]
        lines.append("| " + " | ".join("---" for _ in FAMILY_COLUMNS) + " |")
        lines += ["| " + " | ".join(row[c] or " " for c in FAMILY_COLUMNS) + " |" for row in rows]
    data = study.user_attrs.get(records.DATASET_SUMMARY)
    splitter = (study.user_attrs.get(records.SPLITTER) or {}).get("splitter")
    folds, repeats = records.study_folds(study), records.study_repeats(study)
    splits = splitter or (describe_splits(folds, repeats) if folds else "")
    base = records.baseline_trial(study)
    baseline_is = "" if base is None else f" Trial {base.number} is the unregularized baseline."
    lines += [
        "",
        "## Reading this page",
        "",
        f"- **{records.METRIC_NAME}** (the objective): each trial's mean validation accuracy over "
        f"{splits or 'its splits'}; higher is better.{baseline_is}",
        f"- **Intermediate values**: {_intermediate_values(study)}",
        "- **User attributes** of a trial: its score on every split (`split{i}_test_accuracy`),"
        " their mean and standard deviation, its penalty. Per-epoch curves, best epochs, fit "
        "times and weight norms are kept in the study for `regsearch.inspect` and the report.",
    ]
    if data:
        lines.append(f"- **Data**: {data}.")
    if model := records.model_line(study):
        lines.append(f"- **{model.split(':', 1)[0]}**:{model.split(':', 1)[1]}")
    if figures:
        lines += [
            "",
            "## Figures",
            "",
            "Also on the study's main page, under Study Artifacts (optuna-dashboard started "
            "with `--artifact-dir`).",
            "",
        ]
        for name, artifact_id in figures.items():
            caption = FIGURE_FILES.get(name, name)
            url = f"/artifacts/{study._study_id}/{artifact_id}"
            lines += [f"**{caption}** (`{name}`)", "", f"![{caption}]({url})", ""]
    if reproduce:
        wrapped = [wrap_command(command) for command in reproduce]
        lines += ["", "## Reproduce", "", "```", *wrapped, "```"]
    return "\n".join(lines) + "\n"


def wrap_command(command: str, width: int = 72) -> str:
    """A shell command over lines of at most about ``width`` characters, continued with
    ``\\`` between options (a long line makes the note's code block, and the page, wider
    than the window)."""
    chunks: list[str] = []  # words, an option together with its value
    for word in shlex.split(command):
        option = bool(chunks) and chunks[-1].startswith("--") and " " not in chunks[-1]
        if option and not word.startswith("--"):
            chunks[-1] += " " + shlex.quote(word)
        else:
            chunks.append(shlex.quote(word))
    lines = [chunks[0]]
    for chunk in chunks[1:]:
        if chunk.startswith("--") and len(lines[-1]) + 1 + len(chunk) > width:
            lines.append("    " + chunk)
        else:
            lines[-1] += " " + chunk
    return " \\\n".join(lines)


def _headline(study: optuna.Study) -> str:
    refit = records.refit_record(study)
    if not refit:
        return "Not finished: no refit yet"
    if refit.get("penalty") == "none":
        return "Answer: no penalty (the unregularized baseline scored best)"
    penalty = Penalty.of(refit)
    return f"Answer: {refit['penalty']}, {penalty.lambdas('.3g')}"


def _row(label: str, refit: dict[str, Any]) -> str:
    penalty = Penalty.of(refit)
    kind = refit.get("penalty", "?")
    lambdas = penalty.lambdas(".3g")
    test = refit.get("test_accuracy")
    tested = "no test set" if test is None or math.isnan(test) else f"{test:.4f}"
    return (
        f"| {label} | {refit.get('trial_number')} | {kind}{' ' + lambdas if lambdas else ''} | "
        f"{refit.get('cv_accuracy', float('nan')):.4f} | {tested} |"
    )


def _intermediate_values(study: optuna.Study) -> str:
    """What a trial reports between its steps: per split (steps from 0, pruners judged
    between splits) or per epoch (steps from 1, folds trained at once) -- a study resumed
    with another pruner may hold both."""
    reported = [t.intermediate_values for t in study.get_trials(deepcopy=False)]
    per_split = any(0 in values for values in reported)
    per_epoch = any(values and 0 not in values for values in reported)
    sentences = []
    if per_split:
        sentences.append(
            "at step i (from 0), the mean validation accuracy of splits 0..i; the pruner stops "
            "a trial that trails the other trials there."
        )
    if per_epoch:
        sentences.append(
            "at step e (from 1), the mean over the trial's folds (trained at once) of each "
            "fold's best validation accuracy up to epoch e; the epochs pruner stops a trial "
            "that trails the other trials' median there."
        )
    if not sentences:
        return "none: this study's trials reported nothing between their splits."
    return " With another pruner: ".join(sentences) + " A pruned trial has no CV accuracy."
