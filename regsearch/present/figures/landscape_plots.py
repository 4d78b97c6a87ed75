"""The landscape of each penalty family: the mean CV score over the trials' (strength, learning
rate), or over the strength alone where the learning rate was fixed; one panel per family."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from regsearch.present.figures.canvas import new_figure, save

FAMILIES = {
    "l1": ("L1", "l1"),
    "l2": ("L2", "l2"),
    "l1_l2": ("L1+L2", "l1 + l2"),
    "weight_decay": ("weight decay (decoupled)", "weight_decay"),
}
"""Each regularized family's panel title and x axis."""


def strength_of(row: dict[str, Any]) -> float:
    """A configuration's strength on its family's axis (``l1 + l2`` for L1+L2)."""
    return float(row["param_l1"] + row["param_l2"] + row["param_weight_decay"])


def landscape(rows: list[dict[str, Any]], out: Path) -> str | None:
    """``landscape.png``: per family, the complete trials as points coloured by mean CV
    accuracy over (strength, lr), with a filled contour of the score where a family has six
    or more trials, its best trial starred; the unregularized trials over lr alone. Where
    the learning rate was fixed: the score against the strength. ``None`` without
    regularized trials."""
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    families = [k for k in FAMILIES if any(r["param_penalty"] == k for r in complete)]
    if not families:
        return None
    searched_lr = any(r.get("param_lr") for r in complete)
    scores = [r["mean_test_accuracy"] for r in complete]
    # The colours resolve the top 10 points of accuracy; a ruinous trial takes the floor's.
    high = max(scores)
    low = max(min(scores), high - 0.1)
    none = [r for r in complete if r["param_penalty"] == "none"]
    panels = len(families) + (1 if searched_lr and none else 0)
    fig, axes = new_figure(width=4.6, height=4.0, panels=panels)
    mappable = None
    for ax, kind in zip(axes, families, strict=False):
        title, axis = FAMILIES[kind]
        series = [r for r in complete if r["param_penalty"] == kind]
        x = [strength_of(r) for r in series]
        y = [r["mean_test_accuracy"] for r in series]
        best = max(series, key=lambda r: r["mean_test_accuracy"])
        if searched_lr:
            lr = [r["param_lr"] for r in series]
            if len(series) >= 6:
                ax.tricontourf(
                    np.log10(x), np.log10(lr), y, levels=12, cmap="viridis", vmin=low, vmax=high
                )
                ax.scatter(
                    np.log10(x), np.log10(lr), c="white", s=14, edgecolors="black", linewidths=0.5
                )
                ax.set_xlabel(f"log10 {axis}")
                ax.set_ylabel("log10 lr")
                ax.plot(np.log10(strength_of(best)), np.log10(best["param_lr"]), "r*", ms=14)
            else:
                mappable = ax.scatter(x, lr, c=y, cmap="viridis", vmin=low, vmax=high, s=40)
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_xlabel(axis)
                ax.set_ylabel("lr")
                ax.plot(strength_of(best), best["param_lr"], "r*", ms=14)
            mappable = mappable or ax.collections[0]
        else:
            ax.plot(x, y, "o", color="tab:blue")
            ax.plot(strength_of(best), best["mean_test_accuracy"], "r*", ms=14)
            ax.set_xscale("log")
            ax.set_xlabel(axis)
            ax.set_ylabel("mean CV accuracy")
            if none:
                ax.axhline(none[0]["mean_test_accuracy"], color="grey", ls="--", label="none")
                ax.legend(loc="lower left", fontsize=8)
        ax.set_title(f"{title}: best {best['mean_test_accuracy']:.4f} (trial {best['trial']})")
    if searched_lr and none:
        ax = axes[-1]
        ax.plot([r["param_lr"] for r in none], [r["mean_test_accuracy"] for r in none], "o")
        top = max(none, key=lambda r: r["mean_test_accuracy"])
        ax.plot(top["param_lr"], top["mean_test_accuracy"], "r*", ms=14)
        ax.set_xscale("log")
        ax.set_xlabel("lr")
        ax.set_ylabel("mean CV accuracy")
        ax.set_title(f"no regularization: best {top['mean_test_accuracy']:.4f}")
        from matplotlib.ticker import NullFormatter  # matplotlib is optional, as in canvas

        ax.xaxis.set_minor_formatter(NullFormatter())
    if searched_lr and mappable is not None:
        fig.colorbar(mappable, ax=axes, label="mean CV accuracy (colour)")
    return save(fig, out / "landscape.png")
