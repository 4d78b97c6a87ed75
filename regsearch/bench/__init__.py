"""The benchmark, ``python -m regsearch.bench``: see :mod:`regsearch.bench.cli`."""

from __future__ import annotations

from regsearch.bench.cli import main
from regsearch.bench.probes import epoch_gflop, matmul_peak_gflops

__all__ = ["epoch_gflop", "main", "matmul_peak_gflops"]
