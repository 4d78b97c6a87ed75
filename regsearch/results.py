"""What a study's run returns, a floor below everything that shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from regsearch.cv.comparison import Comparison
from regsearch.cv.refit import RefitResult

if TYPE_CHECKING:
    import optuna


@dataclass(frozen=True)
class StudyResult:
    """What :func:`regsearch.run_study` returns: the study, the chosen configuration's refit
    and test (:class:`~regsearch.cv.refit.RefitResult`), the baseline's (``None`` where it was
    not refit: no baseline trial, or no test set to score it on), how many trials this run
    finished, and the answer as data (:class:`~regsearch.cv.comparison.Comparison`: the
    chosen configuration against the baseline, or where no penalty was chosen the best
    regularized one; ``None`` with nothing to compare), and whether the time budget
    (``StudyConfig.timeout``) ended the search before ``trials`` finished."""

    study: optuna.Study
    chosen: RefitResult
    baseline: RefitResult | None
    new_trials: int
    comparison: Comparison | None = None
    timed_out: bool = False
