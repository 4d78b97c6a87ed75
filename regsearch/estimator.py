""":class:`RegularizationSearchCV`: the study as a scikit-learn estimator.

``RegularizationSearchCV(build, backend="torch", cv=5, n_trials=20).fit(X, y)`` runs the
study on the arrays (all of them: there is no held-out test set, as in ``GridSearchCV``; test
with ``score(X_test, y_test)``), then refits the chosen configuration on all rows. The results
read as ``GridSearchCV``'s (``best_params_``, ``cv_results_``, ...; ``predict`` through the
refit ``best_model_``, a Keras model or a PyTorch module); ``study_`` is the Optuna study as
the study command stores it, and ``comparison_`` the answer as data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from regsearch import records
from regsearch.backends import saved
from regsearch.config import DEFAULT_PENALTIES, SearchSpace, StudyConfig, study_train_settings
from regsearch.cv.folds import splitter_splits
from regsearch.cv.selection import select
from regsearch.data import Dataset
from regsearch.errors import ConfigError, DataError
from regsearch.models.spec import ModelSpec, model_label
from regsearch.observe import Observers, TrialLines
from regsearch.present.dashboard import show_on_dashboard
from regsearch.present.families import answer_comparison
from regsearch.present.note import answer
from regsearch.present.rows import cv_results
from regsearch.run import FrontDoor, StudyRun
from regsearch.run.session import silent
from regsearch.run.steps import optuna_quiet
from regsearch.run.temporary import kept_study, study_storage

__all__ = ["RegularizationSearchCV"]

_DEFAULT_TRAIN = study_train_settings()
_DEFAULT_SPACE = SearchSpace()


class RegularizationSearchCV(ClassifierMixin, BaseEstimator):
    """Search the penalty type (L1, L2, L1+L2) and its lambdas of a neural network classifier
    by cross-validation, beside an unregularized baseline, then refit the chosen configuration
    on all of ``X``.

    Parameters:
        model: ``"mlp"`` (the built-in MLP of ``hidden`` widths), ``"cnn"``, or a callable
            ``build(input_shape, n_classes)`` returning a fresh Keras model or PyTorch module
            (see :data:`regsearch.models.ModelFactory`).
        backend: ``"torch"`` or ``"tf"``.
        cv: the number of stratified folds, shuffled with ``random_state`` (regsearch's own
            splits, so one ``random_state`` gives the same splits in the study command), or a
            scikit-learn splitter (``KFold(3)``, ``ShuffleSplit(...)``, ...), whose splits
            every trial is scored on.
        n_trials: finished trials the study holds, the baseline included.
        penalties: the penalty types the sampler may choose (see
            :class:`~regsearch.config.SearchSpace`): ``l1``, ``l2``, ``l1_l2`` (by default
            these three) and ``weight_decay``.
        lambda_min: the lower end of each lambda's log-uniform range.
        lambda_max: the upper end of each lambda's log-uniform range.
        decay_min: the lower end of the ``weight_decay``'s log-uniform range.
        decay_max: the upper end of the ``weight_decay``'s log-uniform range.
        lr_range: ``(low, high)``: search Adam's learning rate log-uniformly in it, for every
            penalty family and the unregularized configuration alike (``lr`` is then unused);
            ``None``: train at ``lr``.
        epochs: the epoch cap of each fold; ``None``: the study's default (see
            :func:`~regsearch.config.study_train_settings`), as the command without ``--epochs``.
        batch_size: the mini-batch size.
        lr: Adam's learning rate.
        hidden: the hidden layer widths of ``model="mlp"`` (for that model only).
        patience: epochs without a lower validation loss before a fold stops.
        pruner: as the study command's ``--pruner``.
        select: as ``--select``: ``best`` or ``one-se``.
        scale: as ``--scale``: ``auto``, ``standard``, ``minmax`` or ``none``.
        device: as ``--device``: ``auto``, ``cpu`` or ``cuda``.
        threads: as ``--threads``.
        trial_batch: as ``--trial-batch``.
        timeout: a time budget for the search in seconds, as ``--timeout``; ``None``: none.
        n_jobs: worker processes running trials at once (``--workers``), as scikit-learn
            counts them: ``None`` 1, ``-1`` all cores (joblib's ``effective_n_jobs``).
        refit: refit the chosen configuration on all of ``X`` (``predict`` needs it).
        storage: an Optuna storage URL to keep (and resume) the study, e.g.
            ``"sqlite:///search.db"``; ``None``: the study runs in a temporary SQLite file
            and ends up in an in-memory Optuna storage (``study_``), with nothing left on disk.
        study_name: the study's name in ``storage``; ``None``: ``arrays[-<model>]-<backend>``.
        random_state: the seed of the splits, the sampler and every model's initialisation.
        verbose: print a line per trial and the progress sentences.

    Attributes (after ``fit``):
        best_params_: the chosen configuration, ``{"penalty": "l2", "l2": 0.0012}``
            (``{"penalty": "none"}`` for the baseline).
        best_score_: its mean CV accuracy.
        best_index_: its row in ``cv_results_``.
        comparison_: the answer as data (:attr:`regsearch.StudyResult.comparison`).
        cv_results_: scikit-learn's layout, one entry per finished (complete or pruned)
            trial: ``params``, ``param_penalty``, ``param_l1``, ``param_l2`` (masked where a
            trial has no such lambda), ``split{i}_test_score`` and ``mean_test_score``,
            ``std_test_score`` (masked where a pruned trial has no value),
            ``rank_test_score`` (pruned trials rank last), ``mean_fit_time``,
            ``std_fit_time``, and regsearch's ``trial_number``, ``state``, ``baseline``.
        refit_time_: seconds the refit trained (with ``refit``).
        best_model_: the refit model, taking rows as ``X`` (with ``refit``); where
            ``GridSearchCV`` has ``best_estimator_``: the refit model is the framework's.
        study_: the Optuna study.
        n_splits_: train/validation splits every trial was scored on.
        classes_: the class labels, sorted.
    """

    def __init__(
        self,
        model: ModelSpec = "mlp",
        *,
        backend: str = "torch",
        cv: Any = 5,
        n_trials: int = 20,
        penalties: tuple[str, ...] = DEFAULT_PENALTIES,
        lambda_min: float = _DEFAULT_SPACE.lambda_min,
        lambda_max: float = _DEFAULT_SPACE.lambda_max,
        decay_min: float = _DEFAULT_SPACE.decay_min,
        decay_max: float = _DEFAULT_SPACE.decay_max,
        lr_range: tuple[float, float] | None = None,
        epochs: int | None = None,
        batch_size: int = _DEFAULT_TRAIN.batch_size,
        lr: float = _DEFAULT_TRAIN.lr,
        hidden: tuple[int, ...] = _DEFAULT_TRAIN.hidden,
        patience: int = _DEFAULT_TRAIN.patience,
        pruner: str = "auto",
        select: str = "best",
        refit: bool = True,
        scale: str = "auto",
        device: str = "auto",
        threads: int | None = None,
        trial_batch: int = 1,
        timeout: float | None = None,
        n_jobs: int | None = None,
        storage: str | None = None,
        study_name: str | None = None,
        random_state: int = 0,
        verbose: bool = False,
    ):
        self.model = model
        self.backend = backend
        self.cv = cv
        self.n_trials = n_trials
        self.penalties = penalties
        self.lambda_min = lambda_min
        self.lambda_max = lambda_max
        self.decay_min = decay_min
        self.decay_max = decay_max
        self.lr_range = lr_range
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.hidden = hidden
        self.patience = patience
        self.pruner = pruner
        self.select = select
        self.refit = refit
        self.scale = scale
        self.device = device
        self.threads = threads
        self.trial_batch = trial_batch
        self.timeout = timeout
        self.n_jobs = n_jobs
        self.storage = storage
        self.study_name = study_name
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any, groups: Any = None) -> RegularizationSearchCV:
        """Run the study on ``X, y`` (or resume the one stored under ``storage`` and
        ``study_name``), then refit the chosen configuration on all rows (with ``refit``).
        ``groups`` go to a splitter that takes them (``GroupKFold``), as in ``GridSearchCV``.

        Raises:
            ValueError: bad settings or data (a :class:`~regsearch.errors.ConfigError` or
                :class:`~regsearch.errors.DataError` saying what must hold).
        """
        X, y = validate_data(self, X, y, allow_nd=True, dtype="numeric")
        check_classification_targets(y)
        if len(y) < 2:
            raise DataError(
                f"cross-validation needs at least 2 examples of every class, got n_samples="
                f"{len(y)}. Fit on more rows."
            )
        self.classes_, y_index = np.unique(y, return_inverse=True)
        y_index = y_index.astype(np.int64)
        if len(self.classes_) < 2:
            raise DataError(
                f"y must hold at least two classes to classify, got only {self.classes_[0]!r}."
            )
        for stale in ("best_model_", "refit_time_"):  # from an earlier fit with refit=True
            self.__dict__.pop(stale, None)
        x = _examples(X)
        dataset = Dataset(
            "arrays", x, y_index, x[:0], y_index[:0], len(self.classes_), pixels=X.dtype == np.uint8
        )  # all rows train; the test set is empty, as the caller tests
        splits = None
        folds = self.cv
        if not isinstance(self.cv, int) or isinstance(self.cv, bool):
            if isinstance(self.cv, str) or not hasattr(self.cv, "split"):
                raise ConfigError(
                    f"cv must be a number of folds (an int >= 2) or a scikit-learn splitter "
                    f"with a split(X, y) method, got {self.cv!r}. Example: cv=5 or cv=KFold(3)."
                )
            splits = splitter_splits(self.cv, x, y_index, groups)
            folds = len(splits.folds)
        with study_storage(self.storage) as url:
            config = self._config(url, folds)
            self._search(config, dataset, splits)
        return self

    def _config(self, storage: str, folds: int) -> StudyConfig:
        name = self.study_name
        if name is None:
            model = "" if self.model == "mlp" else f"-{model_label(self.model)}"
            name = f"arrays{model}-{self.backend}"
        return StudyConfig(
            backend=self.backend,
            model=self.model,
            folds=folds,
            trials=self.n_trials,
            seed=0 if self.random_state is None else self.random_state,
            storage=storage,
            study_name=name,
            pruner=self.pruner,
            select=self.select,
            device=self.device,
            scale=self.scale,
            threads=self.threads,
            trial_batch=self.trial_batch,
            timeout=self.timeout,
            workers=_workers(self.n_jobs),
            space=SearchSpace(
                tuple(self.penalties),
                self.lambda_min,
                self.lambda_max,
                self.decay_min,
                self.decay_max,
                # As given: SearchSpace checks it is two rates LOW < HIGH.
                None
                if self.lr_range is None
                else cast("tuple[float, float]", tuple(self.lr_range)),
            ),
            train=study_train_settings(
                self.epochs,
                batch_size=self.batch_size,
                lr=self.lr,
                hidden=tuple(self.hidden),
                patience=self.patience,
            ),
        )

    def _search(self, config: StudyConfig, dataset: Dataset, splits: Any) -> None:
        def publish(study: Any, config: StudyConfig, log: Callable[[str], None]) -> None:
            if self.storage is not None:  # a kept study: for optuna-dashboard
                show_on_dashboard(study, config, log, [f"{self!r}.fit(X, y)"])
            else:  # in memory: the answer line only (no figures, no note)
                study.set_user_attr(records.ANSWER, answer(study))

        door = FrontDoor(
            log=print if self.verbose else silent,
            observers=lambda _: Observers([TrialLines()] if self.verbose else []),
            lines=self.verbose,
            refit=self.refit,
            publish=publish if self.refit else None,
        )
        run = StudyRun(config, door, dataset=dataset, splits=splits)
        result = run.execute()
        session = run.session
        assert session is not None
        if result is not None:
            chosen = result.chosen
            self.refit_time_ = chosen.fit_time
            assert chosen.model_path is not None  # refit_once always saves the model
            builder = None if isinstance(self.model, str) else self.model
            self.best_model_ = saved.load_model(chosen.model_path, builder)
            chosen_number = chosen.trial_number
        else:
            chosen_number = select(session.complete_trials(), config.select).number
        with optuna_quiet():
            self.study_ = kept_study(session.study, session.storage, self.storage is None)
        self.n_splits_ = len(session.folds)
        self.cv_results_ = cv_results(self.study_, self.n_splits_)
        self.best_index_ = int(list(self.cv_results_["trial_number"]).index(chosen_number))
        self.best_params_ = dict(self.cv_results_["params"][self.best_index_])
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.comparison_ = answer_comparison(self.study_, chosen_number, config.rope)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` of the refit model, columns in the order
        of ``classes_``."""
        self._check_refit("predict_proba")
        X = validate_data(self, X, reset=False, allow_nd=True, dtype="numeric")
        return saved.predict_proba(self.best_model_, _examples(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, as a label of ``classes_``."""
        probabilities = self.predict_proba(X)  # first: it says when the search is not fit
        return np.asarray(self.classes_[np.argmax(probabilities, axis=1)])

    def _check_refit(self, method: str) -> None:
        check_is_fitted(self)
        if not hasattr(self, "best_model_"):
            raise AttributeError(
                f"{method} needs the refit model, but this search was fit with refit=False. "
                "Fit it with refit=True."
            )


def _workers(n_jobs: Any) -> int:
    """scikit-learn's ``n_jobs`` as a number of worker processes."""
    from joblib import effective_n_jobs

    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0
    ):
        raise ConfigError(
            f"n_jobs must be None, a positive number of processes or -1 (all cores), as in "
            f"scikit-learn, got {n_jobs!r}."
        )
    return int(effective_n_jobs(n_jobs))


def _examples(x: np.ndarray) -> np.ndarray:
    """Rows as regsearch's examples: float32, grey images ``(N, H, W)`` given ``C = 1``,
    uint8 pixels scaled by 1/255 (as the study command loads them)."""
    if x.ndim > 4:
        raise DataError(
            f"X must be shaped (N, F) for features, (N, H, W) or (N, H, W, C) for images "
            f"(channels last), got shape {x.shape}. Reshape it first."
        )
    scale = np.float32(1 / 255) if x.dtype == np.uint8 else np.float32(1)
    values = x.astype(np.float32) * scale
    return values[..., None] if values.ndim == 3 else values
