"""Running many trials on a storage: the session, provenance checks, workers, the storage
itself and the refit claims, driven by one orchestration (:class:`StudyRun`) that every front
door uses. :func:`run_study` is the library's entry point."""

from regsearch.results import StudyResult
from regsearch.run.api import run_study
from regsearch.run.study_run import FrontDoor, StudyRun

__all__ = ["FrontDoor", "StudyResult", "StudyRun", "run_study"]
