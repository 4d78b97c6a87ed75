"""The report's figures (matplotlib, headless), by family: against lambda
(:mod:`~regsearch.present.figures.lambda_plots`), the trials
(:mod:`~regsearch.present.figures.trial_plots`), the outcome on held-out data
(:mod:`~regsearch.present.figures.outcome_plots`), and the HTML page that shows them
(:mod:`~regsearch.present.figures.page`)."""

from regsearch.present.figures.page import FIGURES, write_report

__all__ = ["FIGURES", "write_report"]
