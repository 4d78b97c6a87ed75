"""Reading a stored study back for people: text (trial lines, the summary), rows
(``cv_results_``), tables (inspect) and figures (report)."""
