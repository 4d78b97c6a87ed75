"""Testing helpers, for regsearch's own tests and for whoever writes a backend or a model.

- :class:`FakeBackend`: a deterministic, framework-free backend for testing the orchestration.
  Its "model" is a ridge-regression classifier solved in closed form (so accuracy really
  depends on the data and on ``l2``); ``l1`` above ``diverge_above`` simulates a diverging run.
- :func:`synthetic_dataset`: tiny separable blobs in [0, 1].
- :func:`check_backend`: the contract every backend keeps (like scikit-learn's
  ``check_estimator``): each check in :data:`BACKEND_CHECKS` raises ``AssertionError`` with
  what went wrong.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from regsearch import interrupt
from regsearch.backends.base import (
    Backend,
    EpochHook,
    EpochLogs,
    Fit,
    FoldParallel,
    FoldsAsJobs,
    GroupJudge,
    Job,
    ModelFactory,
    Trainer,
)
from regsearch.config import TrainSettings
from regsearch.data import Dataset
from regsearch.data.scaling import fit_scaling
from regsearch.metrics import accuracy, cross_entropy
from regsearch.models import spec_of
from regsearch.models.summary import ModelSummary, Weight, fingerprint
from regsearch.penalty import Penalty


def synthetic_dataset(
    n_train: int = 240, n_test: int = 60, n_classes: int = 3, seed: int = 0
) -> Dataset:
    """Separable blobs in [0, 1], 8 features: a tiny stand-in for images."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.2, 0.8, size=(n_classes, 8))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(n) % n_classes
        x = np.clip(centers[y] + rng.normal(0, 0.3, size=(n, 8)), 0, 1).astype(np.float32)
        return x, y.astype(np.int64)

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    return Dataset("synthetic", x_train, y_train, x_test, y_test, n_classes=n_classes)


@dataclass
class Call:
    train_idx: np.ndarray
    val_idx: np.ndarray | None
    penalty: Penalty
    epochs: int
    seed: int


@dataclass
class FakeTrainer(FoldsAsJobs):
    x: np.ndarray
    y: np.ndarray
    n_classes: int
    settings: TrainSettings
    diverge_above: float = 1e9
    batched: bool = True
    spec: str = "mlp"
    device: str = "cpu"
    scaling: str = "none"
    calls: list[Call] = field(default_factory=list)
    batched_calls: int = 0
    population_sizes: list[int] = field(default_factory=list)
    judged: list[int] = field(default_factory=list)

    @property
    def fold_parallel(self) -> FoldParallel | None:
        return self if self.batched else None

    @property
    def fold_parallel_reason(self) -> str:
        return "folds train at once (fake)" if self.batched else "folds train one at a time"

    @property
    def model_summary(self) -> ModelSummary:
        """The ridge classifier's weights ``w`` (penalized) and ``b``; the fingerprint is the
        spec's, so a study made with another ``--model`` refuses to resume."""
        features = int(np.prod(self.x.shape[1:]))
        return ModelSummary(
            spec=self.spec,
            framework="fake",
            input_shape=tuple(self.x.shape[1:]),
            outputs="logits",
            penalized=(Weight("w", (features, self.n_classes)),),
            not_penalized=(Weight("b", (self.n_classes,)),),
            fingerprint=fingerprint([self.spec], [("w", (features, self.n_classes), True)]),
        )

    def fit(
        self,
        train_idx: np.ndarray,
        val_idx: np.ndarray | None,
        penalty: Penalty,
        epochs: int,
        seed: int,
        on_epoch: EpochHook | None = None,
        on_epoch_end: EpochLogs | None = None,
    ) -> Fit:
        for epoch in range(1, epochs + 1):  # where a real loop checks for Ctrl-C
            interrupt.check()
            if on_epoch is not None:
                on_epoch(epoch)
        self.calls.append(
            Call(
                np.array(train_idx),
                None if val_idx is None else np.array(val_idx),
                penalty,
                epochs,
                seed,
            )
        )
        if penalty.l1 > self.diverge_above:
            return Fit(
                model=None,
                history={"loss": [float("nan")]},
                diverged="training loss became nan in epoch 1",
            )
        rows = self.x[train_idx].reshape(len(train_idx), -1)
        scaling = fit_scaling(self.scaling, rows)
        if scaling is not None:
            rows = scaling.apply(rows)
        x = np.hstack([rows, np.ones((len(train_idx), 1))])
        targets = np.eye(self.n_classes)[self.y[train_idx]]
        ridge = penalty.l2 * len(train_idx) + 1e-6
        w = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ targets)
        if scaling is not None:  # built in: ((x - shift) / scale) @ W + b on raw rows
            w[:-1] = w[:-1] / scaling.scale[:, None]
            w[-1] -= scaling.shift @ w[:-1]
        best = min(epochs, 2)
        losses = [1.0 / (e + 1) for e in range(epochs)]
        penalty_term = penalty.value([w[:-1]])
        history = {"loss": losses, "accuracy": [0.5] * epochs, "penalty": [penalty_term] * epochs}
        if val_idx is not None:
            # Every epoch scores what the fit returns: what a pruner judges is the final score.
            scores = self.predict_logits(w, self.x[val_idx]).argmax(1) == self.y[val_idx]
            history.update(val_loss=losses, val_accuracy=[float(np.mean(scores))] * epochs)
        if on_epoch_end is not None:  # after the fact: the fake solves in one step
            for epoch in range(1, epochs + 1):
                on_epoch_end(0, epoch, {key: values[epoch - 1] for key, values in history.items()})
        return Fit(model=w, history=history, best_epoch=best, fit_time=0.01)

    def fit_many(
        self,
        jobs: Any,
        epochs: int,
        on_epoch: EpochHook | None = None,
        judges: Mapping[int, GroupJudge] | None = None,
        on_epoch_end: EpochLogs | None = None,
    ) -> list[Fit]:
        """The population's contract, computed job by job (``fit_folds`` too); counted in
        ``batched_calls``
        (one per call) and ``population_sizes``. A diverging job stops the later jobs of its
        group, which are not trained: their fits hold no model and say so in ``diverged``
        (the objective prunes the trial at the first diverged fold and never reads them).
        ``judges`` hear each epoch's scores (the fits' constant ``val_accuracy``) after the
        training; the epoch at which one stopped its group is appended to ``judged``."""
        self.batched_calls += 1
        self.population_sizes.append(len(jobs))
        if on_epoch is not None:
            for epoch in range(1, epochs + 1):
                on_epoch(epoch)
        fits: list[Fit] = []
        stopped: set[int] = set()
        for i, job in enumerate(jobs):
            if job.group in stopped:
                fits.append(Fit(model=None, history={}, diverged="stopped with its group"))
                continue
            logs = None if on_epoch_end is None else functools.partial(_as_job, on_epoch_end, i)
            fit = self.fit(job.train_idx, job.val_idx, job.penalty, epochs, job.seed, None, logs)
            if fit.diverged is not None:
                stopped.add(job.group)
            fits.append(fit)
        for epoch in range(1, epochs + 1):
            for group, judge in (judges or {}).items():
                if group in stopped:
                    continue
                members = [f for f, job in zip(fits, jobs, strict=True) if job.group == group]
                if judge(epoch, [f.history["val_accuracy"][epoch - 1] for f in members]):
                    stopped.add(group)
                    self.judged.append(epoch)
        return fits

    def predict_logits(self, model: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(np.hstack([x.reshape(len(x), -1), np.ones((len(x), 1))]) @ model)

    def kernels(self, model: Any) -> list[np.ndarray]:
        return [model[:-1]]

    def save(self, model: Any, path: Path) -> Path:
        path = path.with_suffix(".npy")
        np.save(path, model)
        return path


def _as_job(on_epoch_end: EpochLogs, job: int, _: int, epoch: int, logs: dict[str, float]) -> None:
    """A fit's epoch logs (job 0) as job ``job``'s."""
    on_epoch_end(job, epoch, logs)


@dataclass
class FakeBackend:
    """A :class:`~regsearch.backends.Backend` whose trainers are :class:`FakeTrainer`; it
    keeps them in ``trainers`` for inspection. ``batched=False`` disables the fold-parallel
    path."""

    name: str = "torch"
    diverge_above: float = 1e9
    batched: bool = True
    trainers: list[FakeTrainer] = field(default_factory=list)
    threads: int | None = None

    def trainer(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        settings: TrainSettings,
        model: ModelFactory,
        device: str = "cpu",
        scaling: str = "none",
    ) -> FakeTrainer:
        trainer = FakeTrainer(
            x,
            y,
            n_classes,
            settings,
            self.diverge_above,
            self.batched,
            spec=spec_of(model),
            scaling=scaling,
        )
        self.trainers.append(trainer)
        return trainer

    def versions(self) -> dict[str, str]:
        return {"fake": "1"}

    def use_threads(self, threads: int | None) -> str:
        self.threads = threads
        return f"{threads or 'the default'} intra-op thread(s)"

    def download_mnist(self, data_dir: Path) -> str:
        raise OSError("offline")


# The backend contract. Each check makes its own trainers on synthetic data.

CHECK_DATA = synthetic_dataset(n_train=300, n_test=90)


def _trainer(
    backend: Backend,
    model: ModelFactory | None,
    device: str,
    x: np.ndarray | None = None,
    scaling: str = "none",
    **settings: Any,
) -> Trainer:
    from regsearch.models import model_factory

    train = TrainSettings(**{"epochs": 4, "batch_size": 32, "lr": 1e-2, **settings})
    data = CHECK_DATA
    factory = model or model_factory("mlp", backend.name, train.hidden)
    x = data.x_train if x is None else x
    return backend.trainer(x, data.y_train, data.n_classes, train, factory, device, scaling)


def raw_scales(x: np.ndarray) -> np.ndarray:
    """``x`` with its features on scales from 1e-3 to 1e3 and offsets up to 1e3, as raw
    measurements are: what a scaling must undo."""
    features = x.reshape(len(x), -1).shape[1]
    scales = np.logspace(-3, 3, features).reshape(x.shape[1:])
    offsets = np.linspace(-1e3, 1e3, features).reshape(x.shape[1:])
    return (x * scales + offsets).astype(np.float32)


def check_fit_learns_restores_best_epoch_and_is_deterministic(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """A fit learns, keeps the best epoch's weights (their penalized validation loss is the
    history's minimum), and the same seed repeats it exactly while another seed differs."""
    data, penalty = CHECK_DATA, Penalty(l2=1e-3)
    trainer = _trainer(backend, model, device, epochs=6, patience=1)
    train, val = np.arange(0, 240), np.arange(240, 300)
    fit = trainer.fit(train, val, penalty, epochs=6, seed=3)
    assert fit.diverged is None and fit.fit_time > 0, fit
    assert set(fit.history) == {"loss", "accuracy", "penalty", "val_loss", "val_accuracy"}
    assert all(p > 0 for p in fit.history["penalty"]), "the L2 term, epoch by epoch"
    n_epochs = len(fit.history["val_loss"])
    assert 1 <= fit.best_epoch <= n_epochs <= 6
    assert fit.best_epoch == int(np.argmin(fit.history["val_loss"])) + 1
    logits = trainer.predict_logits(fit.model, data.x_train[val])
    assert accuracy(logits, data.y_train[val]) > 0.7, "chance is 1/3"
    restored = cross_entropy(logits, data.y_train[val]) + penalty.value(trainer.kernels(fit.model))
    assert math.isclose(restored, min(fit.history["val_loss"]), rel_tol=1e-4), restored
    first = trainer.kernels(fit.model)
    again = trainer.fit(train, val, penalty, epochs=6, seed=3)
    assert all(
        np.array_equal(a, b) for a, b in zip(first, trainer.kernels(again.model), strict=True)
    ), "the same seed must give the same weights"
    assert again.history == fit.history
    other = trainer.fit(train, val, penalty, epochs=6, seed=4)
    assert not np.array_equal(first[0], trainer.kernels(other.model)[0]), "seed 4 == seed 3"


def check_early_stopping_sees_only_the_validation_rows(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """Training rows and validation rows are kept apart: a validation part made of another
    class's rows gives a poor score, which would not happen if it were trained on."""
    data = CHECK_DATA
    trainer = _trainer(backend, model, device, epochs=3)
    train = np.flatnonzero(data.y_train != 2)
    val = np.flatnonzero(data.y_train == 2)
    fit = trainer.fit(train, val, Penalty(), epochs=3, seed=0)
    assert accuracy(trainer.predict_logits(fit.model, data.x_train[val]), data.y_train[val]) < 0.2


def check_divergence_is_reported_not_raised(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    trainer = _trainer(backend, model, device, lr=1e30)
    told: list[dict[str, float]] = []
    fit = trainer.fit(
        np.arange(240),
        np.arange(240, 300),
        Penalty(l2=1e-2),
        epochs=3,
        seed=0,
        on_epoch_end=lambda _, __, logs: told.append(logs),
    )
    assert fit.diverged is not None and "loss became" in fit.diverged, fit.diverged
    assert told and all("loss" in logs for logs in told), told  # the diverged epoch is told


def check_epochs_are_told_as_they_end(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """``on_epoch_end`` hears each epoch's values after it ends and before the next begins,
    the same values the history keeps, from ``fit`` and (where offered) ``fit_many``."""
    trainer = _trainer(backend, model, device, epochs=3, patience=5)
    told: list[tuple[Any, ...]] = []
    fit = trainer.fit(
        np.arange(240),
        np.arange(240, 300),
        Penalty(l2=1e-3),
        epochs=3,
        seed=0,
        on_epoch=lambda epoch: told.append(("begins", epoch)),
        on_epoch_end=lambda job, epoch, logs: told.append(("ends", job, epoch, logs)),
    )
    assert [t[:3] for t in told] == [
        ("begins", 1), ("ends", 0, 1), ("begins", 2), ("ends", 0, 2), ("begins", 3), ("ends", 0, 3)
    ], told  # fmt: skip
    for _, _, epoch, logs in (t for t in told if t[0] == "ends"):
        assert logs == {key: values[epoch - 1] for key, values in fit.history.items()}, logs
    if trainer.fold_parallel is None:
        return
    ended: list[tuple[int, int]] = []
    folds = [(np.arange(0, 200), np.arange(200, 300)), (np.arange(100, 300), np.arange(0, 100))]
    trainer.fold_parallel.fit_folds(
        folds, Penalty(), 2, [0, 1], on_epoch_end=lambda job, epoch, _: ended.append((job, epoch))
    )
    assert sorted(ended) == [(0, 1), (0, 2), (1, 1), (1, 2)], ended


def check_fold_parallel_matches_one_by_one(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """Where a trainer offers ``fold_parallel``: the same initial weights and batch order per
    fold as ``fit``, each model on its own rows, early stopping per fold, divergence in the
    first fold it hits; only float rounding may differ."""
    data = CHECK_DATA
    trainer = _trainer(backend, model, device, epochs=6, patience=1)
    if trainer.fold_parallel is None:
        return
    order = np.random.default_rng(0).permutation(300)
    folds = [(np.setdiff1d(order, part), part) for part in np.array_split(order, 3)]
    penalty = Penalty(l1=1e-4, l2=1e-3)
    batched = trainer.fold_parallel.fit_folds(folds, penalty, 6, seeds=[0, 1, 2])
    for seed, (many, (tr, va)) in enumerate(zip(batched, folds, strict=True)):
        # Compared at once: a trainer may hand every ``fit`` the same model object.
        one = trainer.fit(tr, va, penalty, 6, seed)
        assert many.diverged is None
        assert set(many.history) == set(one.history)
        _assert_same_fit(trainer, many, one, data.x_train[va])
    # Each model sees only its own rows: model 0 never sees class 2.
    others = np.flatnonzero(data.y_train != 2)
    apart = [(others, np.flatnonzero(data.y_train == 2)), (np.arange(200), np.arange(200, 300))]
    fits = trainer.fold_parallel.fit_folds(apart, Penalty(), 3, seeds=[0, 1])
    first = trainer.predict_logits(fits[0].model, data.x_train[apart[0][1]])
    assert accuracy(first, data.y_train[apart[0][1]]) < 0.2
    second = trainer.predict_logits(fits[1].model, data.x_train[apart[1][1]])
    assert accuracy(second, data.y_train[apart[1][1]]) > 0.5  # chance is 1/3
    diverging = _trainer(backend, model, device, lr=1e30)
    assert diverging.fold_parallel is not None
    parts = [(np.arange(200), np.arange(200, 300)), (np.arange(100, 300), np.arange(100))]
    fits = diverging.fold_parallel.fit_folds(parts, Penalty(l2=1e-2), 3, seeds=[0, 1])
    assert fits[0].diverged is not None and "loss became" in fits[0].diverged


def _assert_same_fit(trainer: Trainer, batched: Fit, alone: Fit, x_val: np.ndarray) -> None:
    """A model trained batched is the one ``fit`` trained alone, up to float rounding: the
    same best epoch, the same curves, the same predictions on its validation rows."""
    assert batched.best_epoch == alone.best_epoch, (batched.best_epoch, alone.best_epoch)
    for key, values in alone.history.items():
        np.testing.assert_allclose(batched.history[key], values, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(
        trainer.predict_logits(batched.model, x_val),
        trainer.predict_logits(alone.model, x_val),
        rtol=1e-3,
        atol=1e-3,
    )


def check_population_matches_one_by_one(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """Where a trainer offers ``fold_parallel``: the folds of several trials with different
    penalties (none among them) trained as one population give each model what ``fit``
    gives it alone; a trial whose penalty diverges stops its own folds, not the others'."""
    data = CHECK_DATA
    trainer = _trainer(backend, model, device, epochs=4, patience=1)
    if trainer.fold_parallel is None:
        return
    order = np.random.default_rng(1).permutation(300)
    folds = [(np.setdiff1d(order, part), part) for part in np.array_split(order, 3)]
    penalties = [Penalty(), Penalty(l1=1e-3), Penalty(l2=1e-2), Penalty(l1=1e-4, l2=1e-3)]
    jobs = [
        Job(tr, va, penalty, seed=10 * group + i, group=group)
        for group, penalty in enumerate(penalties)
        for i, (tr, va) in enumerate(folds)
    ]
    many = trainer.fold_parallel.fit_many(jobs, 4)
    for job, fit in zip(jobs, many, strict=True):
        alone = trainer.fit(job.train_idx, job.val_idx, job.penalty, 4, job.seed)
        assert fit.diverged is None, (job.penalty, fit)
        _assert_same_fit(trainer, fit, alone, data.x_train[job.val_idx])
    # A judge stops trial 1 after epoch 2: its models leave the stack, the others train on
    # unchanged, and its fits are those of 2 epochs alone.
    told: dict[int, list[tuple[int, list[float]]]] = {0: [], 1: []}

    def judge(group: int) -> GroupJudge:
        def decide(epoch: int, scores: list[float]) -> bool:
            told[group].append((epoch, scores))
            return group == 1 and epoch == 2

        return decide

    judged = trainer.fold_parallel.fit_many(jobs, 4, judges={0: judge(0), 1: judge(1)})
    assert [epoch for epoch, _ in told[1]] == [1, 2]
    assert told[0] and all(len(scores) == len(folds) for _, scores in told[0])
    for job, fit in zip(jobs, judged, strict=True):
        epochs = 2 if job.group == 1 else 4
        alone = trainer.fit(job.train_idx, job.val_idx, job.penalty, epochs, job.seed)
        _assert_same_fit(trainer, fit, alone, data.x_train[job.val_idx])
        if job.group == 0:  # told each epoch the accuracy of the best epoch so far
            best = alone.history["val_accuracy"][alone.best_epoch - 1]
            assert abs(told[0][-1][1][job.seed] - best) <= 1e-4
    exploding = [Job(*folds[0], Penalty(l2=1e38), seed=0, group=0)] + [
        Job(tr, va, Penalty(l2=1e-3), seed=i, group=1) for i, (tr, va) in enumerate(folds)
    ]
    fits = trainer.fold_parallel.fit_many(exploding, 3)
    assert fits[0].diverged is not None and "loss became" in fits[0].diverged
    assert all(fit.diverged is None for fit in fits[1:]), [fit.diverged for fit in fits]
    assert all(len(fit.history["loss"]) >= 2 for fit in fits[1:]), "the other trial goes on"


def check_scaling_is_fitted_on_training_rows_only(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """With ``scaling="standard"`` on raw-scale features, a model learns, and an extreme value
    in rows it does not train on (its validation rows, and rows outside the fold) changes
    nothing of its training: the scaling is fitted on the training rows only, on the
    one-by-one and on the batched path."""
    data = CHECK_DATA
    x = raw_scales(data.x_train)
    poisoned = x.copy()
    train, val, outside = np.arange(0, 200), np.arange(200, 260), np.arange(260, 300)
    poisoned[val[:3]] = 1e6
    poisoned[outside[:3]] = -1e6
    clean = _trainer(backend, model, device, x=x, scaling="standard", epochs=3, patience=5)
    dirty = _trainer(backend, model, device, x=poisoned, scaling="standard", epochs=3, patience=5)
    alone = clean.fit(train, val, Penalty(l2=1e-3), epochs=3, seed=0)
    again = dirty.fit(train, val, Penalty(l2=1e-3), epochs=3, seed=0)
    logits = clean.predict_logits(alone.model, x[val])
    assert accuracy(logits, data.y_train[val]) > 0.7, "scaled raw features are learnable"
    for key in ("loss", "accuracy", "penalty"):
        np.testing.assert_allclose(again.history[key], alone.history[key], rtol=1e-6)
    # Without early stopping (whose best epoch the validation rows choose), the same
    # training rows give the same model.
    final = clean.fit(train, None, Penalty(l2=1e-3), epochs=2, seed=0)
    final_dirty = dirty.fit(train, None, Penalty(l2=1e-3), epochs=2, seed=0)
    np.testing.assert_allclose(
        dirty.predict_logits(final_dirty.model, x[train]),
        clean.predict_logits(final.model, x[train]),
        rtol=1e-5,
        atol=1e-5,
        err_msg="the same training rows must give the same model",
    )
    if dirty.fold_parallel is not None:
        folds = [(train, val), (np.arange(100, 300), np.arange(100))]
        fits = dirty.fold_parallel.fit_folds(folds, Penalty(l2=1e-3), 3, seeds=[0, 1])
        for key in ("loss", "accuracy"):
            np.testing.assert_allclose(fits[0].history[key], alone.history[key], rtol=1e-3)


def check_saved_model_takes_raw_rows(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """A model fitted with a scaling and saved, then loaded with
    :func:`regsearch.load_model`, gives the trainer's own outputs on raw rows."""
    import tempfile

    from regsearch.backends.saved import load_model, predict_proba

    data = CHECK_DATA
    x = raw_scales(data.x_train)
    trainer = _trainer(backend, model, device, x=x, scaling="minmax", epochs=2)
    fit = trainer.fit(np.arange(240), None, Penalty(l1=1e-4), epochs=2, seed=1)
    expected = trainer.predict_logits(fit.model, x[240:])
    with tempfile.TemporaryDirectory() as scratch:
        path = trainer.save(fit.model, Path(scratch) / "model")
        loaded = load_model(path)
        probabilities = predict_proba(loaded, x[240:])
    softmax = np.exp(expected - expected.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    np.testing.assert_allclose(probabilities, softmax, rtol=1e-4, atol=1e-5)


BACKEND_CHECKS: tuple[Callable[[Backend, ModelFactory | None, str], None], ...] = (
    check_fit_learns_restores_best_epoch_and_is_deterministic,
    check_early_stopping_sees_only_the_validation_rows,
    check_divergence_is_reported_not_raised,
    check_epochs_are_told_as_they_end,
    check_fold_parallel_matches_one_by_one,
    check_population_matches_one_by_one,
    check_scaling_is_fitted_on_training_rows_only,
    check_saved_model_takes_raw_rows,
)


def check_backend(backend: Backend, model: ModelFactory | None = None, device: str = "cpu") -> None:
    """Run every check of :data:`BACKEND_CHECKS` on ``backend`` (with ``model``, or the
    built-in MLP) on ``device``; raises ``AssertionError`` at the first broken promise."""
    for check in BACKEND_CHECKS:
        check(backend, model, device)
