"""The figures' common canvas: headless matplotlib axes side by side, saved as PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def new_figure(width: float = 7.0, height: float = 4.2, panels: int = 1) -> tuple[Any, list[Any]]:
    """A figure of ``panels`` axes side by side, ``width`` inches each; ``(figure, axes)``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, panels, figsize=(width * panels, height), layout="constrained", squeeze=False
    )
    return fig, list(axes[0])


def save(fig: Any, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name
