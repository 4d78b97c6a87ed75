"""Keras on TensorFlow, imported once and quietly: every module that uses Keras imports it from
here, so that ``KERAS_BACKEND`` and TensorFlow's log level are set before Keras' first import;
and the device TensorFlow trains on."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from regsearch.errors import BackendUnavailable, param

__all__ = ["keras", "tf"]


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for native start-up logs (oneDNN, CUDA probing) that
    TensorFlow writes before its log level applies; Python errors still surface afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# Keras picks its backend at its first import (KERAS_BACKEND is read then).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_requested = os.environ.get("KERAS_BACKEND")
if _requested not in (None, "", "tensorflow"):
    raise BackendUnavailable(
        f"{param('backend')} tf needs Keras on TensorFlow, but KERAS_BACKEND={_requested!r} "
        "is set. "
        "Unset it or set KERAS_BACKEND=tensorflow."
    )
os.environ["KERAS_BACKEND"] = "tensorflow"

with _quiet_native_stderr():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()  # probes devices now, while stderr is quiet

tf.get_logger().setLevel("ERROR")
if keras.backend.backend() != "tensorflow":  # keras was imported earlier with another backend
    raise BackendUnavailable(
        f"{param('backend')} tf needs Keras on TensorFlow, but Keras was already loaded with the "
        f"{keras.backend.backend()!r} backend. Set KERAS_BACKEND=tensorflow before starting."
    )


def use_device(requested: str) -> str:
    """Make TensorFlow train on ``requested`` (``auto``, ``cpu`` or ``cuda``) and describe it:
    ``cpu``, or ``gpu:0 (<name>)``. For ``cpu`` the GPUs are hidden from TensorFlow.

    Raises:
        BackendUnavailable: ``cuda`` without a GPU visible to TensorFlow, or ``cpu`` after
            TensorFlow has already started on a GPU in this process.
    """
    gpus = tf.config.list_physical_devices("GPU")
    if requested == "cuda" and not gpus:
        raise BackendUnavailable(
            f"{param('device')} cuda: TensorFlow {tf.__version__} sees no GPU "
            f"(tf.config.list_physical_devices('GPU') is empty). Use {param('device')} cpu, or "
            f"{param('device')} auto to take a GPU only where there is one."
        )
    if requested == "cpu" or not gpus:
        if gpus:
            try:
                tf.config.set_visible_devices([], "GPU")
            except RuntimeError as exc:
                raise BackendUnavailable(
                    f"{param('device')} cpu: TensorFlow has already started on the GPU in this "
                    f"process ({exc}); run the study in a new process."
                ) from exc
        return "cpu"
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    return f"gpu:0 ({name})"
