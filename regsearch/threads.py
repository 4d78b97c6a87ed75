"""How many threads the frameworks' kernels use, and how they wait: measured choices, and the
user's override (``--threads``).

Measured on this project's 2-core machine, one fold and a trial's 5 folds at once (3 epochs
on 12,000 MNIST images), each best of two, on a quiet machine and beside another busy PyTorch
process with PyTorch's defaults (``python -m regsearch.bench --backend torch --data-dir
../shared/data/mnist --n-train 12000 --epochs 3 --skip-tutorial --threads-probe``, two runs per
setting; seconds for the 5 folds at once)::

    setting                           quiet 1 thr  quiet 2 thr  busy 1 thr  busy 2 thr
    OpenMP default (threads spin)     2.0-2.4      1.3-1.6      3.3-5.3     5.7-53
    GOMP_SPINCOUNT=10000              2.4          1.5-2.0      3.5-3.7     4.6-5.6
    OMP_WAIT_POLICY=PASSIVE           1.9-2.6      1.7-1.9      3.7-4.7     2.8-3.6

Spinning threads win a little on a quiet machine and lose everything on a busy one: each
barrier of a tiny matmul waits for a thread the other process holds (53 s instead of 1.3).
Threads that sleep while they wait (``PASSIVE``) cost about a fifth on a quiet machine and
keep a busy one within 2x. So regsearch sets ``OMP_WAIT_POLICY=PASSIVE`` before PyTorch first
loads (unless the user set it, or PyTorch was already imported), and keeps the framework's own
thread count (the cores) unless told otherwise: ``--threads N``, or a share of the cores per
worker with ``--workers``. TensorFlow's kernels use its own thread pool, which does not spin
this way; ``--threads`` sets its intra-op pool.
"""

from __future__ import annotations

import os
import sys

WAIT_POLICY = "OMP_WAIT_POLICY"
PASSIVE = "PASSIVE"


def prepare_openmp() -> None:
    """Before PyTorch loads: OpenMP threads that sleep while they wait, unless the user chose
    otherwise. OpenMP reads the setting once, when PyTorch is first imported."""
    if "torch" not in sys.modules:
        os.environ.setdefault(WAIT_POLICY, PASSIVE)


def share_of_cores(workers: int) -> int:
    """The cores divided among ``workers`` processes, at least one each."""
    return max(1, (os.cpu_count() or 1) // workers)


def default_threads(workers: int = 1) -> int | None:
    """Threads per process: the framework's own default (``None``) for one process, else a
    share of the cores per worker, so that workers do not fight over them."""
    if workers == 1:
        return None
    return share_of_cores(workers)


def describe_waiting(framework: str) -> str:
    """How the framework's threads wait, for the run's ``Threads:`` line."""
    if framework != "torch":
        return ""
    policy = os.environ.get(WAIT_POLICY, "")
    if policy.upper() == PASSIVE:
        return ", sleeping while they wait (OMP_WAIT_POLICY=PASSIVE)"
    if policy:
        return f", waiting as OMP_WAIT_POLICY={policy} says"
    return (
        ", spinning while they wait (PyTorch was imported before regsearch could set "
        "OMP_WAIT_POLICY=PASSIVE; set it before importing torch)"
    )
