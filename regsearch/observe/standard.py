"""The observers the study command (and every worker) runs with."""

from __future__ import annotations

from regsearch.config import StudyConfig
from regsearch.observe.base import Observer, Observers
from regsearch.observe.lines import TrialLines
from regsearch.observe.progress import StudyProgress
from regsearch.observe.tensorboard import TensorBoardLogger


def standard_observers(
    config: StudyConfig, *, lines: bool, bar: bool, total: int, prefix: str = ""
) -> Observers:
    """What the study command shows: a progress bar (``bar``, for ``total`` trials), a line
    per trial (``lines``, above the bar) and TensorBoard curves (``config.tensorboard``)."""
    progress = StudyProgress(total, config.n_splits, enabled=bar)
    observers: list[Observer] = [progress]
    if lines:
        observers.append(TrialLines(progress.print, prefix))
    if config.tensorboard is not None:
        observers.append(TensorBoardLogger(config.tensorboard))
    return Observers(observers)
