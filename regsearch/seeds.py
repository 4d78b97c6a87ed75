"""Every random stream of a study, derived from its one seed.

``derive_seed(study_seed, STREAM, ...)`` gives each use its own independent stream, so adding a
use never shifts another's numbers. The streams:

- :data:`FOLD_STREAM`: fold ``i``'s initial weights and batch order (:func:`fold_seed`);
- :data:`REFIT_STREAM`: the refit on the whole training set (:func:`refit_seed`);
- :data:`SAMPLER_STREAM`: the sampler of worker ``w > 0`` (:func:`sampler_seed`).

The folds themselves come from scikit-learn's ``StratifiedKFold(random_state=study_seed)``.
"""

from __future__ import annotations

import numpy as np

FOLD_STREAM = 0
REFIT_STREAM = 1
SAMPLER_STREAM = 2


def derive_seed(*keys: int) -> int:
    """A 31-bit seed from ``keys`` (e.g. study seed, stream, index) via NumPy's SeedSequence."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0] >> 1)


def fold_seed(study_seed: int, fold: int) -> int:
    """Seed of fold ``fold``'s initial weights and batch order.

    It depends on the study seed and the fold only, not on the trial: every trial's fold ``i``
    starts from the same weights and sees batches in the same order (common random numbers), so
    differences between configurations are not initialisation noise, and a rerun of the same
    configuration reproduces the same fold scores.
    """
    return derive_seed(study_seed, FOLD_STREAM, fold)


def refit_seed(study_seed: int) -> int:
    """Seed of the refit's initial weights and batch order (the same for every refit)."""
    return derive_seed(study_seed, REFIT_STREAM)


def sampler_seed(study_seed: int, worker: int) -> int:
    """The sampler seed of worker ``worker``: the study seed itself for the first (``0``), so
    one worker alone is reproducible by ``seed``; a stream of its own for each other, or all
    workers would propose the same parameters."""
    return study_seed if worker == 0 else derive_seed(study_seed, SAMPLER_STREAM, worker)
