"""The study's outcome on held-out data: the refit models' test accuracy, and nested
cross-validation's outer folds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from regsearch import records
from regsearch.present.figures.canvas import new_figure, save


def test_accuracy(study: Any, out: Path) -> str | None:
    """The test accuracy of the refit chosen configuration beside the baseline's."""
    refit, baseline = records.refit_record(study), records.baseline_refit_record(study)
    if not refit:
        return None
    bars = [(f"chosen\n(trial {refit['trial_number']}, {refit['penalty']})", refit)]
    if baseline and baseline["trial_number"] != refit["trial_number"]:
        bars.append((f"baseline\n(trial {baseline['trial_number']}, none)", baseline))
    fig, [ax] = new_figure(5.0, 4.0)
    values = [b["test_accuracy"] for _, b in bars]
    ax.bar([label for label, _ in bars], values, color=["crimson", "grey"][: len(bars)])
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:.4f}", ha="center", va="bottom")
    low = min(values)
    ax.set_ylim(max(0.0, low - 0.05), min(1.0, max(values) + 0.02))
    ax.set_ylabel("test accuracy (fraction; y axis does not start at 0)")
    ax.set_title("Test set: chosen configuration vs baseline")
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
