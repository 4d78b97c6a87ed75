"""Observers of a running study: per-fold and per-trial hooks (:class:`Observer`), and the ones
regsearch runs with: the progress bar (:mod:`~regsearch.observe.progress`), a line per trial
(:mod:`~regsearch.observe.lines`) and TensorBoard curves (:mod:`~regsearch.observe.tensorboard`).
They only watch and never change the study."""

from regsearch.observe.base import Observer, Observers, Quiet
from regsearch.observe.lines import TrialLines, trial_line
from regsearch.observe.standard import standard_observers

__all__ = ["Observer", "Observers", "Quiet", "TrialLines", "standard_observers", "trial_line"]
