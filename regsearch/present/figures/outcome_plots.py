"""The study's outcome on held-out data: the refit models' test accuracy, and nested
cross-validation's outer folds."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from regsearch import records
from regsearch.config import DEFAULT_ROPE_PP
from regsearch.present.figures.canvas import new_figure, save


def test_accuracy(study: Any, out: Path) -> str | None:
    """The test comparison as what it is, one difference with its uncertainty: the chosen
    configuration's test accuracy minus the baseline's, in percentage points, with a 95%
    interval ``d +/- 1.96 sqrt(p1 (1 - p1) / n + p2 (1 - p2) / n)`` over the ``n`` test rows
    (the two models are scored on the same rows, which this unpaired variance ignores: the
    interval is wider than a paired one, never narrower), beside the region of practical
    equivalence; where the baseline itself was chosen, its accuracy with its own interval."""
    refit, baseline = records.refit_record(study), records.baseline_refit_record(study)
    if not refit or not math.isfinite(refit.get("test_accuracy", math.nan)):
        return None
    n = refit.get("test_examples")
    p1 = float(refit["test_accuracy"])
    fig, [ax] = new_figure(5.6, 3.0)
    compared = baseline and baseline["trial_number"] != refit["trial_number"]
    if compared:
        p2 = float(baseline["test_accuracy"])
        spread = math.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / n) if n else math.nan
        centre, what = 100 * (p1 - p2), "chosen - baseline"
        rope = DEFAULT_ROPE_PP
        ax.axvspan(-rope, rope, color="0.9", label=f"+/-{rope:g} pp (practical equivalence)")
        ax.axvline(0.0, color="black", linewidth=1)
        label = (
            f"chosen (trial {refit['trial_number']}, {refit['penalty']}) {p1:.4f}\n"
            f"baseline (trial {baseline['trial_number']}) {p2:.4f}"
        )
        ax.set_xlabel("test accuracy difference (percentage points)")
    else:
        spread = math.sqrt(p1 * (1 - p1) / n) if n else math.nan
        centre, what = 100 * p1, "test accuracy"
        label = f"the baseline was chosen (trial {refit['trial_number']}): {p1:.4f}"
        ax.set_xlabel("test accuracy (percent)")
    half = 196 * spread  # 1.96 sqrt(var), in percentage points
    ax.errorbar(
        [centre], [0], xerr=None if math.isnan(half) else [[half], [half]], fmt="o",
        color="crimson", capsize=6, markersize=8,
        label=what + ("" if math.isnan(half) else f" {centre:+.2f}, 95% interval +/-{half:.2f}"
                      if compared else f" {centre:.2f} +/- {half:.2f}"),
    )  # fmt: skip
    if not compared and not math.isnan(half):
        ax.set_xlim(max(0.0, centre - 4 * half), min(100.0, centre + 4 * half))
    elif compared:
        reach = max(abs(centre) + (0 if math.isnan(half) else half), 2 * DEFAULT_ROPE_PP)
        ax.set_xlim(-1.3 * reach, 1.3 * reach)
    ax.set_yticks([])
    ax.set_ylim(-1, 1.6)
    rows = f"{n:,} test rows" if n else "test rows not recorded: no interval"
    ax.set_title(f"Test set, once ({rows})\n{label}", fontsize="medium")
    ax.legend(loc="upper right", fontsize="small")
    return save(fig, out / "test_accuracy.png")


def nested_cv(study: Any, out: Path) -> str | None:
    """Nested cross-validation (the stored ``nested`` record): each outer fold's held-out
    accuracy of the search's refit and of the baseline, beside the nested estimate, the
    non-nested best CV score and the test score; and the lambda each outer fold chose."""
    record = study.user_attrs.get(records.NESTED)
    if not record:
        return None
    outer = record["outer"]
    folds = [o["fold"] for o in outer]
    fig, (left, right) = new_figure(5.5, 4.2, 2)
    left.plot(folds, [o["accuracy"] for o in outer], "o", color="crimson", label="search's refit")
    baselines = [(o["fold"], o["baseline_accuracy"]) for o in outer if o["baseline_accuracy"]]
    if baselines:
        left.plot(*zip(*baselines, strict=True), "s", color="grey", label="baseline's refit")
    for value, style, label in (
        (record["nested_accuracy"], "-", "nested estimate (mean)"),
        (record["cv_accuracy"], "--", "non-nested best CV score"),
        (record["test_accuracy"], ":", "test set (study on all data)"),
    ):
        label = f"{label} {value:.4f}"
        left.axhline(value, linestyle=style, color="black", linewidth=1, label=label)
    left.set_xticks(folds)
    left.set_xlabel("outer fold")
    left.set_ylabel("accuracy (y axis does not start at 0)")
    left.set_title("Held-out accuracy of each outer fold's search")
    left.legend(fontsize="small")
    for name, marker in (("l1", "^"), ("l2", "o")):
        points = [(o["fold"], o[name]) for o in outer if o[name] > 0]
        if points:
            right.plot(*zip(*points, strict=True), marker, markersize=8, label=name)
        if record[name] > 0:
            right.axhline(record[name], linestyle="--", linewidth=1, label=f"{name}, all data")
    right.set_yscale("log")
    space = records.study_config(study).get("space") or {}
    if space.get("lambda_min") and space.get("lambda_max"):
        # The searched range, so that the spread reads against what could have been chosen.
        right.set_ylim(space["lambda_min"], space["lambda_max"])
    below = ("data", "axes fraction")  # x at the fold, y near the bottom whatever the scale
    for o in outer:
        if o["penalty"] == "none":
            right.annotate("none", (o["fold"], 0.04), xycoords=below, ha="center")
    right.set_xticks(folds)
    right.set_xlim(min(folds) - 0.5, max(folds) + 0.5)
    right.set_xlabel("outer fold")
    right.set_ylabel("chosen lambda (log scale, the searched range)")
    right.set_title("Stability of the chosen lambda")
    if right.get_legend_handles_labels()[0]:
        right.legend(fontsize="small")
    return save(fig, out / "nested_cv.png")
