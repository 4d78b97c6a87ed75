"""The report's HTML page of every figure.

The page links the PNGs by relative path and loads nothing from the network. Every name taken
from the storage is HTML-escaped.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from regsearch import records
from regsearch.config import describe_splits
from regsearch.errors import ConfigError
from regsearch.present.figures.lambda_plots import accuracy_vs_lambda, weights_vs_lambda
from regsearch.present.figures.landscape_plots import landscape
from regsearch.present.figures.outcome_plots import nested_cv, test_accuracy
from regsearch.present.figures.trial_plots import fold_spread, loss_curves, optimisation_history
from regsearch.present.nested import nested_lines
from regsearch.present.rows import trial_rows
from regsearch.present.tables import chosen_lines

FIGURES = (
    ("landscape", "Each penalty family's landscape: CV accuracy over strength and learning rate"),
    ("accuracy_vs_lambda", "Validation accuracy against lambda (pruned trials faded)"),
    ("test_accuracy", "Test set: the chosen configuration against the baseline, with its interval"),
    ("loss_curves", "Training and validation loss per epoch (over-fitting picture)"),
    ("fold_spread", "Fold scores of the top configurations"),
    ("history", "Optimisation history"),
    ("weights_vs_lambda", "Weight sparsity and norm against lambda"),
    ("nested_cv", "Nested cross-validation"),
)
"""The report's figures in reading order: the answer first (the search's landscape, the
held-out comparison), then how it came about."""


def write_report(study: Any, out: Path) -> Path:
    """Draw every figure into ``out`` and write ``out/index.html``; returns the page's path."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display, no network

    out.mkdir(parents=True, exist_ok=True)
    rows = trial_rows(study)
    folds = records.study_splits(study)
    if not any(r["state"] == "COMPLETE" for r in rows):
        raise ConfigError(
            f"study {study.study_name!r} has no complete trial yet: nothing to report. "
            "Run the study command until at least one trial finishes."
        )
    refit, baseline = records.refit_record(study), records.baseline_refit_record(study)
    # Studies refit before selection rules were recorded: the refit trial was the best.
    selection = records.selection_record(study) or {"best_trial": refit.get("trial_number")}
    baseline_trial = baseline.get(
        "trial_number",
        next((r["trial"] for r in rows if r["baseline"] and r["state"] == "COMPLETE"), None),
    )
    curves: dict[str, int | None] = {
        "chosen": refit.get("trial_number", selection.get("best_trial")),
        "baseline": baseline_trial,
    }
    files: dict[str, str | None] = {
        "landscape": landscape(rows, out),
        "accuracy_vs_lambda": accuracy_vs_lambda(rows, selection, out),
        "history": optimisation_history(study, out),
        "fold_spread": fold_spread(rows, folds, out),
        "loss_curves": loss_curves(study, curves, folds, out),
        "weights_vs_lambda": weights_vs_lambda(rows, out),
        "test_accuracy": test_accuracy(study, out),
        "nested_cv": nested_cv(study, out),
    }
    esc = html.escape
    title = f"regsearch report: {study.study_name}"
    sections = [
        f'<h2>{esc(heading)}</h2>\n<img src="{esc(file)}" alt="{esc(heading)}">'
        for key, heading in FIGURES
        if (file := files.get(key)) is not None
    ]
    if nested := study.user_attrs.get(records.NESTED):
        sections.append(f"<pre>{esc(chr(10).join(nested_lines(nested)))}</pre>")
    summary = "".join(f"<li>{esc(line)}</li>" for line in chosen_lines(study, nested=False))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:auto}}img{{max-width:100%}}</style>
</head><body>
<h1>{esc(title)}</h1>
<p>{esc(str(study.user_attrs.get(records.DATASET_SUMMARY, "")))}; score = mean validation accuracy
over {describe_splits(records.study_folds(study), records.study_repeats(study))}.</p>
<p>{esc(records.model_line(study))}</p>
<ul>{summary}</ul>
{chr(10).join(sections)}
</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
