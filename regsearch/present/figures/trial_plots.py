"""The search's trials: the optimisation history, the spread of the top configurations' split
scores, and the chosen and baseline trials' loss curves per epoch."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from regsearch import records
from regsearch.present.figures.canvas import new_figure, save
from regsearch.present.figures.lambda_plots import lambda_of


def optimisation_history(study: Any, out: Path) -> str:
    """Trial number against score, with the best-so-far line. Pruned trials have no score over
    every fold (their partial means are not comparable, and often look better than they
    are): they are marked on the axis's bottom edge, not on the score scale."""
    from matplotlib.ticker import MaxNLocator
    from optuna.trial import TrialState

    fig, [ax] = new_figure()
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
    return save(fig, out / "history.png")


def fold_spread(rows: list[dict[str, Any]], folds: int, out: Path, top: int = 8) -> str:
    """Box plots of the fold scores of the top configurations (and the baseline)."""
    complete = sorted(
        (r for r in rows if r["state"] == "COMPLETE"), key=lambda r: r["rank_test_accuracy"]
    )
    shown = complete[:top]
    baseline = next((r for r in complete if r["baseline"]), None)
    if baseline is not None and baseline not in shown:
        shown.append(baseline)
    fig, [ax] = new_figure(8.0, 4.2)
    data = [[r[records.fold_key(i, "test_accuracy")] for i in range(folds)] for r in shown]
    labels = [f"#{r['trial']}\n{_short(r)}" for r in shown]
    ax.boxplot(data, tick_labels=labels, showmeans=True)
    for i, scores in enumerate(data, start=1):
        ax.plot([i] * len(scores), scores, ".", color="tab:blue", alpha=0.6)
    ax.set_xlabel("configuration (trial number, penalty and lambda), best first")
    ax.set_ylabel("validation accuracy per fold (fraction)")
    ax.set_title(f"Spread of the {folds} fold scores (triangle: mean)")
    ax.tick_params(axis="x", labelsize=7)
    return save(fig, out / "fold_spread.png")


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
    fig, axes = new_figure(5.0, 4.0, panels=len(panels))
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
    return save(fig, out / "loss_curves.png")
