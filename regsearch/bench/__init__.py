"""``python -m regsearch.bench``: the tutorial training loop against regsearch's fold trainer.

Same data, same model, same penalty, same epochs, one process, side by side. Prints seconds per
epoch, the speed ratio, each path's accuracy on the MNIST test images, and the fraction of this
machine's measured float32 matmul peak that regsearch reaches. The last line is machine-readable::

    ratio=<x> peak_fraction=<y> acc_delta_pp=<z>

with ``x`` = tutorial s/epoch / regsearch s/epoch, ``y`` = regsearch's GFLOP/s / matmul peak,
``z`` = regsearch's test accuracy - the tutorial's, in percentage points.
"""

from __future__ import annotations

from regsearch.bench.cli import main
from regsearch.bench.probes import epoch_gflop, matmul_peak_gflops

__all__ = ["epoch_gflop", "main", "matmul_peak_gflops"]
