"""Several trials trained as one population: the folds of every trial that Optuna runs at once
(``study.optimize(n_jobs=B)``, one thread per trial, TPE with ``constant_liar=True``) are
gathered here and trained by one ``fit_many`` call of the trainer's batched path.

Each trial thread hands its folds to :meth:`Population.fit` and waits; the thread that
completes the gathering trains the whole population and hands every trial its fits. Optuna
keeps doing everything else per trial (sampling, heartbeats, retries, callbacks), so a trial
is recorded exactly as it would be alone, and its numbers equal one-by-one training.

Gathering ends when every trial in progress has handed in its folds and either the batch is
full, no more trials are due in this ``optimize`` call, or nobody joined for
:data:`GATHER_TIMEOUT_S` (a study stopped by another worker starts no more trials).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from regsearch.backends.base import EpochHook, Fit, FoldParallel, GroupJudge, Job

GATHER_TIMEOUT_S = 2.0


@dataclass
class _Request:
    jobs: Sequence[Job]
    on_epoch: EpochHook | None
    judge: GroupJudge | None
    fits: list[Fit] | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class Population:
    """Trains the folds of up to ``capacity`` concurrent trials as one population."""

    def __init__(self, parallel: FoldParallel, capacity: int, epochs: int):
        self.parallel = parallel
        self.capacity = capacity
        self.epochs = epochs
        self.sizes: list[int] = []
        """Trials per population trained so far (for the run's summary and tests)."""
        self._cond = threading.Condition()
        self._active = 0
        self._due = 0
        self._waiting: list[_Request] = []
        self._changed = time.monotonic()

    def expect(self, n_trials: int) -> None:
        """Trials the next ``optimize`` call will start: no batch waits for more."""
        with self._cond:
            self._due = n_trials

    @contextlib.contextmanager
    def member(self) -> Iterator[None]:
        """Around one trial's objective call: a trial in progress may still hand in folds."""
        with self._cond:
            self._active += 1
            self._due = max(self._due - 1, 0)
            self._changed = time.monotonic()
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._changed = time.monotonic()
                self._cond.notify_all()

    def fit(
        self,
        jobs: Sequence[Job],
        on_epoch: EpochHook | None = None,
        judge: GroupJudge | None = None,
    ) -> list[Fit]:
        """The fits of one trial's ``jobs`` (its folds), trained with the other trials';
        ``judge`` may stop them after any epoch (it is called from the training thread)."""
        request = _Request(jobs, on_epoch, judge)
        batch: list[_Request] = []
        with self._cond:
            self._waiting.append(request)
            self._changed = time.monotonic()
            self._cond.notify_all()
            # Until another thread trained it, or this one takes the complete population.
            while not request.done.is_set() and not batch:
                batch = self._take_if_ready()
                if not batch:
                    self._cond.wait(timeout=0.1)
        if batch:
            self._train(batch)
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.fits is not None
        return request.fits

    def _take_if_ready(self) -> list[_Request]:
        """The waiting requests, taken, if the population is complete (lock held)."""
        waiting = len(self._waiting)
        if not waiting or waiting < self._active:
            return []
        full = waiting >= self.capacity or self._due == 0
        quiet = time.monotonic() - self._changed >= GATHER_TIMEOUT_S
        if not (full or quiet):
            return []
        batch, self._waiting = self._waiting, []
        return batch

    def _train(self, batch: list[_Request]) -> None:
        jobs = [
            Job(job.train_idx, job.val_idx, job.penalty, job.seed, group=g)
            for g, request in enumerate(batch)
            for job in request.jobs
        ]
        hooks = [r.on_epoch for r in batch if r.on_epoch is not None]
        judges = {g: r.judge for g, r in enumerate(batch) if r.judge is not None}

        def on_epoch(epoch: int) -> None:
            for hook in hooks:
                hook(epoch)

        try:
            fits = self.parallel.fit_many(
                jobs, self.epochs, on_epoch if hooks else None, judges or None
            )
        except BaseException as exc:  # Ctrl-C included: every trial of the batch hears it
            for request in batch:
                request.error = exc
                request.done.set()
            return
        self.sizes.append(len(batch))
        start = 0
        for request in batch:
            request.fits = fits[start : start + len(request.jobs)]
            start += len(request.jobs)
            request.done.set()
