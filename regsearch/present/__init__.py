"""Reading a stored study back for people: the closing summary (text), rows
(``cv_results_``), tables (inspect), figures (report) and the answer, note and figures for
optuna-dashboard. Nothing here needs a framework (an import-linter contract holds it)."""
