"""The report's figures (matplotlib, headless) and the HTML page that shows them.

The page links the PNGs by relative path and loads nothing from the network. Every name taken
from the storage is HTML-escaped.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from regsearch import records
from regsearch.config import describe_splits
from regsearch.errors import ConfigError
from regsearch.present.nested import nested_lines
from regsearch.present.rows import trial_rows
from regsearch.present.tables import chosen_lines

PENALTY_COLOURS = {"l1": "tab:blue", "l2": "tab:orange", "l1_l2": "tab:green"}
PENALTY_LABELS = {"l1": "L1", "l2": "L2", "l1_l2": "L1+L2 (x = l1 + l2)"}


def lambda_of(row: dict[str, Any]) -> float:
    """The x position of a configuration: its lambda (``l1 + l2`` for L1+L2)."""
    return float(row["param_l1"] + row["param_l2"])


def _new_figure(width: float = 7.0, height: float = 4.2, panels: int = 1) -> tuple[Any, list[Any]]:
    """A figure of ``panels`` axes side by side, ``width`` inches each; ``(figure, axes)``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, panels, figsize=(width * panels, height), layout="constrained", squeeze=False
    )
    return fig, list(axes[0])


def _save(fig: Any, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def accuracy_vs_lambda(rows: list[dict[str, Any]], selection: dict[str, Any], out: Path) -> str:
    """Mean validation accuracy against lambda, one series per penalty type, +/- 1 std bars."""
    fig, [ax] = _new_figure()
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
    baseline = next((r for r in complete if r["baseline"]), None)
    if baseline is not None:
        ax.axhline(baseline["mean_test_accuracy"], color="grey", ls="--", label="baseline (none)")
    _mark_choices(ax, complete, selection)
    means = [r["mean_test_accuracy"] for r in complete]
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
    return _save(fig, out / "accuracy_vs_lambda.png")


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


def optimisation_history(study: Any, out: Path) -> str:
    """Trial number against score, with the best-so-far line. Pruned trials have no score over
    every fold (their partial means are not comparable, and often look better than they
    are): they are marked on the axis's bottom edge, not on the score scale."""
    from matplotlib.ticker import MaxNLocator
    from optuna.trial import TrialState

    fig, [ax] = _new_figure()
    done, pruned, best, best_line = [], [], -math.inf, []
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            done.append((trial.number, trial.value))
            best = max(best, trial.value)
            best_line.append((trial.number, best))
        elif trial.state == TrialState.PRUNED:
            pruned.append(trial.number)
    if done:
        ax.plot(*zip(*done, strict=True), "o", color="tab:blue", label="complete trial")
        ax.step(*zip(*best_line, strict=True), where="post", color="crimson", label="best so far")
    if pruned:
        ax.plot(
            pruned,
            [0.0] * len(pruned),
            "|",
            ms=14,
            color="grey",
            transform=ax.get_xaxis_transform(),  # x in data, y on the axes' bottom edge
            clip_on=False,
            label="pruned trial (no full-CV score)",
        )
    ax.set_xlabel("trial number")
    ax.set_ylabel("mean validation accuracy (fraction)")
    title = "Optimisation history"
    floor = best - 0.2  # collapsed runs (e.g. 0.1 = chance) would flatten everything else
    if any(score < floor for _, score in done):
        ax.set_ylim(bottom=floor)
        title += f" (y axis cut at {floor:.2f})"
    ax.set_title(title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # Below the axes: the best trials crowd the top, the pruned ticks the bottom.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
    return _save(fig, out / "history.png")


def fold_spread(rows: list[dict[str, Any]], folds: int, out: Path, top: int = 8) -> str:
    """Box plots of the fold scores of the top configurations (and the baseline)."""
    complete = sorted(
        (r for r in rows if r["state"] == "COMPLETE"), key=lambda r: r["rank_test_accuracy"]
    )
    shown = complete[:top]
    baseline = next((r for r in complete if r["baseline"]), None)
    if baseline is not None and baseline not in shown:
        shown.append(baseline)
    fig, [ax] = _new_figure(8.0, 4.2)
    data = [[r[records.fold_key(i, "test_accuracy")] for i in range(folds)] for r in shown]
    labels = [f"#{r['trial']}\n{_short(r)}" for r in shown]
    ax.boxplot(data, tick_labels=labels, showmeans=True)
    for i, scores in enumerate(data, start=1):
        ax.plot([i] * len(scores), scores, ".", color="tab:blue", alpha=0.6)
    ax.set_xlabel("configuration (trial number, penalty and lambda), best first")
    ax.set_ylabel("validation accuracy per fold (fraction)")
    ax.set_title(f"Spread of the {folds} fold scores (triangle: mean)")
    ax.tick_params(axis="x", labelsize=7)
    return _save(fig, out / "fold_spread.png")


def _short(row: dict[str, Any]) -> str:
    if row["baseline"]:
        return "baseline"
    return f"{row['param_penalty']} {lambda_of(row):.1e}"


def loss_curves(study: Any, trials: dict[str, int | None], folds: int, out: Path) -> str:
    """Training and validation loss per epoch, every fold, of the chosen and baseline trials."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    panels: dict[int, str] = {}
    for label, number in trials.items():
        if number is not None:
            panels[number] = f"{panels[number]} = {label}" if number in panels else label
    fig, axes = _new_figure(5.0, 4.0, panels=len(panels))
    colours = plt.get_cmap("tab10")
    for ax, (number, label) in zip(axes, panels.items(), strict=True):
        attrs = records.attrs(study.trials[number])
        # Up to 5 splits get a legend entry each; more would hide the curves, so then one
        # entry per line style says which is which (the colours still tell splits apart).
        named = folds <= 5
        for i in range(folds):
            history = records.fold_value(attrs, i, "history")
            if not history:
                continue
            epochs = range(1, len(history["loss"]) + 1)
            first = i == 0
            train_label = f"fold {i} training" if named else ("training" if first else None)
            ax.plot(epochs, history["loss"], "--", color=colours(i % 10), label=train_label)
            if "val_loss" in history:
                val_label = f"fold {i} val." if named else ("validation" if first else None)
                ax.plot(epochs, history["val_loss"], "-", color=colours(i % 10), label=val_label)
        ax.set_title(f"{label}: trial {number}" + ("" if named else f" ({folds} splits)"))
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("penalized cross-entropy loss (nats)")
        ax.legend(fontsize=6 if named else 8, ncol=2 if named else 1)
    return _save(fig, out / "loss_curves.png")


def weights_vs_lambda(rows: list[dict[str, Any]], out: Path) -> str:
    """Weight sparsity (fraction of |w| < 1e-3) and L2 norm against lambda, per penalty type."""
    fig, (left, right) = _new_figure(5.0, 4.0, panels=2)
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
    return _save(fig, out / "weights_vs_lambda.png")


def test_accuracy(study: Any, out: Path) -> str | None:
    """The test accuracy of the refit chosen configuration beside the baseline's."""
    refit, baseline = records.refit_record(study), records.baseline_refit_record(study)
    if not refit:
        return None
    bars = [(f"chosen\n(trial {refit['trial_number']}, {refit['penalty']})", refit)]
    if baseline and baseline["trial_number"] != refit["trial_number"]:
        bars.append((f"baseline\n(trial {baseline['trial_number']}, none)", baseline))
    fig, [ax] = _new_figure(5.0, 4.0)
    values = [b["test_accuracy"] for _, b in bars]
    ax.bar([label for label, _ in bars], values, color=["crimson", "grey"][: len(bars)])
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:.4f}", ha="center", va="bottom")
    low = min(values)
    ax.set_ylim(max(0.0, low - 0.05), min(1.0, max(values) + 0.02))
    ax.set_ylabel("test accuracy (fraction; y axis does not start at 0)")
    ax.set_title("Test set: chosen configuration vs baseline")
    return _save(fig, out / "test_accuracy.png")


def nested_cv(study: Any, out: Path) -> str | None:
    """Nested cross-validation (the stored ``nested`` record): each outer fold's held-out
    accuracy of the search's refit and of the baseline, beside the nested estimate, the
    non-nested best CV score and the test score; and the lambda each outer fold chose."""
    record = study.user_attrs.get(records.NESTED)
    if not record:
        return None
    outer = record["outer"]
    folds = [o["fold"] for o in outer]
    fig, (left, right) = _new_figure(5.5, 4.2, 2)
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
    return _save(fig, out / "nested_cv.png")


FIGURES = (
    ("accuracy_vs_lambda", "Validation accuracy against lambda"),
    ("history", "Optimisation history"),
    ("fold_spread", "Fold scores of the top configurations"),
    ("loss_curves", "Training and validation loss per epoch (over-fitting picture)"),
    ("weights_vs_lambda", "Weight sparsity and norm against lambda"),
    ("test_accuracy", "Test accuracy"),
    ("nested_cv", "Nested cross-validation"),
)


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
