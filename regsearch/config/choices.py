"""The values each setting may take, and the defaults that are not a field's own: the one place
a choice is listed (the option table, the checks and the help texts all read them here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackendModule:
    """Where a backend lives: the module that defines its ``BACKEND``, the packages it needs,
    and the extra that installs them."""

    module: str
    packages: tuple[str, ...]
    extra: str


BACKEND_MODULES: dict[str, BackendModule] = {
    "tf": BackendModule("regsearch.backends.tf", ("tensorflow", "keras"), "tf"),
    "torch": BackendModule("regsearch.backends.torch", ("torch", "torchvision"), "torch"),
}
"""The registry of backends, by name (see :func:`regsearch.backends.get_backend`); a new
backend is a module with a ``BACKEND`` object and a line here."""

BACKENDS: tuple[str, ...] = tuple(BACKEND_MODULES)

PENALTY_TYPES: tuple[str, ...] = ("l1", "l2", "l1_l2", "weight_decay")
"""Penalty types the sampler may choose: ``l1 * sum|W|``, ``l2 * sum W^2`` or both in the loss,
or decoupled ``weight_decay`` in the optimizer (see :mod:`regsearch.penalty`)."""
DEFAULT_PENALTIES: tuple[str, ...] = ("l1", "l2", "l1_l2")
"""The penalty types searched unless told otherwise (the loss penalties)."""
NO_PENALTY = "none"
"""The unregularized configuration's penalty type: the baseline's, and a family of its own
that the sampler may choose when the learning rate is searched."""

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
"""Where models train: ``auto`` (a CUDA GPU when the framework sees one, else the CPU)."""
PRUNERS: tuple[str, ...] = ("auto", "epochs", "median", "hyperband", "wilcoxon", "none")
"""Optuna pruners that may stop a trial between its folds, or (``epochs``) between the epochs
of its folds trained at once (see :mod:`regsearch.cv.pruning`); ``auto`` is ``epochs`` where
the model's folds train at once, else ``median`` (the faster of the two where both apply)."""
SELECTION_RULES: tuple[str, ...] = ("best", "one-se")
"""How the refit configuration is chosen; see :mod:`regsearch.cv.selection`."""
SCALINGS: tuple[str, ...] = ("auto", "standard", "minmax", "none")
"""``--scale`` choices; ``auto`` resolves per dataset (see
:func:`regsearch.data.scaling.resolve_scaling`)."""
DEFAULT_PRUNER = "auto"
DEFAULT_ROPE_PP = 0.1
"""The comparison with the baseline's region of practical equivalence, in percentage points
of accuracy (see :mod:`regsearch.cv.comparison`)."""
BUILTIN_DATASETS: tuple[str, ...] = ("mnist", "digits")
DATA_FILE_SUFFIXES: tuple[str, ...] = (".npz", ".csv")
DEFAULT_STORAGE = "sqlite:///studies/regsearch.db"
DATA_DIR_ENV = "REGSEARCH_DATA_DIR"
