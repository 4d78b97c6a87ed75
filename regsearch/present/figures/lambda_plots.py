"""What each lambda did: the validation score and the weights' norm and sparsity against the
penalty's strength, one series per penalty type, the baseline as a line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from regsearch.present.figures.canvas import new_figure, save

PENALTY_COLOURS = {"l1": "tab:blue", "l2": "tab:orange", "l1_l2": "tab:green"}
PENALTY_LABELS = {"l1": "L1", "l2": "L2", "l1_l2": "L1+L2 (x = l1 + l2)"}


def lambda_of(row: dict[str, Any]) -> float:
    """The x position of a configuration: its lambda (``l1 + l2`` for L1+L2)."""
    return float(row["param_l1"] + row["param_l2"])


def accuracy_vs_lambda(rows: list[dict[str, Any]], selection: dict[str, Any], out: Path) -> str:
    """Mean validation accuracy against lambda, one series per penalty type, +/- 1 std bars."""
    fig, [ax] = new_figure()
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    for kind, colour in PENALTY_COLOURS.items():
        series = sorted((r for r in complete if r["param_penalty"] == kind), key=lambda_of)
        if series:
            ax.errorbar(
                [lambda_of(r) for r in series],
                [r["mean_test_accuracy"] for r in series],
                yerr=[r["std_test_accuracy"] for r in series],
                fmt="o-",
                color=colour,
                capsize=3,
                label=PENALTY_LABELS[kind],
            )
    # Pruned trials, faded at the score the pruner last saw: the searched region as it was.
    pruned = [r for r in rows if r.get("last_reported_score") is not None and lambda_of(r) > 0]
    for kind, colour in PENALTY_COLOURS.items():
        points = [
            (lambda_of(r), r["last_reported_score"]) for r in pruned if r["param_penalty"] == kind
        ]
        if points:
            ax.plot(
                *zip(*points, strict=True), "x", color=colour, alpha=0.45, markersize=7,
                label=f"{PENALTY_LABELS[kind]} pruned (last reported score)",
            )  # fmt: skip
    baseline = next((r for r in complete if r["baseline"]), None)
    if baseline is not None:
        ax.axhline(baseline["mean_test_accuracy"], color="grey", ls="--", label="baseline (none)")
    _mark_choices(ax, complete, selection)
    means = [r["mean_test_accuracy"] for r in complete] + [r["last_reported_score"] for r in pruned]
    if baseline is not None:
        # Keep the region that matters readable: trials far below the baseline (a penalty
        # that ruined training) would squash it, so they sit below the axis, counted.
        floor = baseline["mean_test_accuracy"] - 0.1
        below = [m for m in means if m < floor]
        if below:
            shown = [m for m in means if m >= floor]
            ax.set_ylim(min(shown) - 0.02, max(shown) + 0.01)
            ax.text(
                0.99,
                0.02,
                f"{len(below)} trial{'s' * (len(below) > 1)} below the axis "
                f"(down to {min(below):.3f})",
                transform=ax.transAxes,
                ha="right",
                fontsize=8,
            )
    ax.set_xscale("log")
    ax.set_xlabel("lambda (penalty strength, log scale)")
    ax.set_ylabel("mean validation accuracy (fraction)")
    ax.set_title("Validation accuracy against lambda (bars: ±1 std across folds)")
    ax.legend(fontsize=8)
    return save(fig, out / "accuracy_vs_lambda.png")


def _mark_choices(ax: Any, complete: list[dict[str, Any]], selection: dict[str, Any]) -> None:
    marks = (("best_trial", "*", "best", 16), ("one_se_trial", "D", "one-se choice", 9))
    for key, marker, label, size in marks:
        row = next((r for r in complete if r["trial"] == selection.get(key)), None)
        if row is None or row["baseline"]:
            continue
        ax.plot(
            lambda_of(row),
            row["mean_test_accuracy"],
            marker=marker,
            ms=size,
            mfc="none",
            mec="crimson",
            mew=1.8,
            ls="none",
            label=f"{label}: trial {row['trial']}",
        )


def weights_vs_lambda(rows: list[dict[str, Any]], out: Path) -> str:
    """Weight sparsity (fraction of |w| < 1e-3) and L2 norm against lambda, per penalty type."""
    fig, (left, right) = new_figure(5.0, 4.0, panels=2)
    measured = [r for r in rows if r["mean_weight_sparsity"] is not None and not r["baseline"]]
    for kind, colour in PENALTY_COLOURS.items():
        series = sorted((r for r in measured if r["param_penalty"] == kind), key=lambda_of)
        if not series:
            continue
        for ax, key in ((left, "mean_weight_sparsity"), (right, "mean_weight_l2")):
            ys = [r[key] for r in series]
            ax.plot(
                [lambda_of(r) for r in series], ys, "o-", color=colour, label=PENALTY_LABELS[kind]
            )
    baseline = next(
        (r for r in rows if r["baseline"] and r["state"] == "COMPLETE" and r["mean_weight_l2"]),
        None,
    )
    for ax, key in ((left, "mean_weight_sparsity"), (right, "mean_weight_l2")):
        if baseline is not None:
            ax.axhline(baseline[key], color="grey", ls="--", label="baseline (none)")
        ax.set_xscale("log")
        ax.set_xlabel("lambda (log scale)")
        ax.legend(fontsize=8)
    left.set_ylabel("fraction of weights with |w| < 1e-3")
    left.set_title("Sparsity (mean over folds)")
    right.set_ylabel("L2 norm of all weight matrices")
    right.set_title("Weight norm (mean over folds)")
    return save(fig, out / "weights_vs_lambda.png")
