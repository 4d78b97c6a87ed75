"""Running many trials on a storage: the session, provenance checks, workers, the storage
itself and the refit claims. :func:`run_study` is the entry point."""

from regsearch.run.api import StudyResult, run_study

__all__ = ["StudyResult", "run_study"]
