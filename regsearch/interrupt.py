"""Stopping a study cleanly on Ctrl-C (SIGINT) or SIGTERM.

Python raises ``KeyboardInterrupt`` wherever the signal lands, and inside TensorFlow's tracing
code it can be swallowed, so training would go on. While :func:`handle_stop_signals` is active,
a signal only sets a flag, and :func:`check` raises ``KeyboardInterrupt`` at the next epoch
boundary, in regsearch's own code: Optuna then records the running trial as failed. A second
Ctrl-C interrupts at once. SIGTERM (which would otherwise kill the process and leave the trial
RUNNING) is treated like Ctrl-C.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

_requested = threading.Event()


def requested() -> bool:
    """Whether a stop signal arrived (and is waiting for the next :func:`check`)."""
    return _requested.is_set()


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a stop signal arrived."""
    if _requested.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def handle_stop_signals() -> Iterator[None]:
    """Defer SIGINT and SIGTERM to the next :func:`check` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if _requested.is_set():  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        _requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    _requested.clear()
    try:
        yield
        check()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _requested.clear()
