"""The backend contract, training many models at once (where a trainer offers
``fold_parallel``): a trial's folds, and the folds of several trials as one population, each
give what ``fit`` gives that model alone, up to float rounding. A trainer without a batched
path passes these checks as they do not apply to it."""

from __future__ import annotations

import numpy as np

from regsearch.backends.base import Backend, FoldParallel, GroupJudge, Job, Trainer
from regsearch.metrics import accuracy
from regsearch.models.spec import ModelFactory
from regsearch.penalty import Penalty
from regsearch.testing.check_kit import CHECK_DATA, assert_same_fit, make_trainer


def _batched(trainer: Trainer) -> FoldParallel | None:
    return trainer.fold_parallel


def check_fold_parallel_matches_one_by_one(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """A trial's folds trained at once: the same initial weights and batch order per fold as
    ``fit``, early stopping per fold; only float rounding may differ. Both kinds of
    regularization: the penalty in the loss, and the decoupled decay of the weights (strong
    enough here to shrink them by a fifth over the epochs, so a batched path that skipped it
    would predict otherwise)."""
    data = CHECK_DATA
    trainer = make_trainer(backend, model, device, epochs=6, patience=1)
    if (batched := _batched(trainer)) is None:
        return
    order = np.random.default_rng(0).permutation(300)
    folds = [(np.setdiff1d(order, part), part) for part in np.array_split(order, 3)]
    for penalty in (Penalty(l1=1e-4, l2=1e-3), Penalty(weight_decay=0.5)):
        fits = batched.fit_folds(folds, penalty, 6, seeds=[0, 1, 2])
        for seed, (many, (tr, va)) in enumerate(zip(fits, folds, strict=True)):
            # Compared at once: a trainer may hand every ``fit`` the same model object.
            one = trainer.fit(tr, va, penalty, 6, seed)
            assert many.diverged is None, penalty
            assert set(many.history) == set(one.history), penalty
            assert_same_fit(trainer, many, one, data.x_train[va])


def check_fold_parallel_keeps_each_models_rows(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """Each model of a batch sees only its own rows: a model that never sees class 2 cannot
    predict it, while its neighbour, which sees every class, learns."""
    data = CHECK_DATA
    trainer = make_trainer(backend, model, device, epochs=6, patience=1)
    if (batched := _batched(trainer)) is None:
        return
    others = np.flatnonzero(data.y_train != 2)
    apart = [(others, np.flatnonzero(data.y_train == 2)), (np.arange(200), np.arange(200, 300))]
    fits = batched.fit_folds(apart, Penalty(), 3, seeds=[0, 1])
    first = trainer.predict_logits(fits[0].model, data.x_train[apart[0][1]])
    assert accuracy(first, data.y_train[apart[0][1]]) < 0.2
    second = trainer.predict_logits(fits[1].model, data.x_train[apart[1][1]])
    assert accuracy(second, data.y_train[apart[1][1]]) > 0.5  # chance is 1/3


def check_fold_parallel_reports_divergence(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """A fold that diverges while training at once says so, in the first fold it hits."""
    if _batched(make_trainer(backend, model, device, epochs=6, patience=1)) is None:
        return
    diverging = make_trainer(backend, model, device, lr=1e30)
    batched = _batched(diverging)
    assert batched is not None
    parts = [(np.arange(200), np.arange(200, 300)), (np.arange(100, 300), np.arange(100))]
    fits = batched.fit_folds(parts, Penalty(l2=1e-2), 3, seeds=[0, 1])
    assert fits[0].diverged is not None and "loss became" in fits[0].diverged


def _population() -> tuple[list[tuple[np.ndarray, np.ndarray]], list[Job]]:
    """Three folds of each of five trials with different penalties: none, the loss penalties,
    and the decoupled weight decay."""
    order = np.random.default_rng(1).permutation(300)
    folds = [(np.setdiff1d(order, part), part) for part in np.array_split(order, 3)]
    penalties = [
        Penalty(),
        Penalty(l1=1e-3),
        Penalty(l2=1e-2),
        Penalty(l1=1e-4, l2=1e-3),
        Penalty(weight_decay=0.5),
    ]
    jobs = [
        Job(tr, va, penalty, seed=10 * group + i, group=group)
        for group, penalty in enumerate(penalties)
        for i, (tr, va) in enumerate(folds)
    ]
    return folds, jobs


def check_population_matches_one_by_one(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """The folds of several trials with different penalties (none and the weight decay among
    them) trained as one population give each model what ``fit`` gives it alone."""
    data = CHECK_DATA
    trainer = make_trainer(backend, model, device, epochs=4, patience=1)
    if (batched := _batched(trainer)) is None:
        return
    _, jobs = _population()
    many = batched.fit_many(jobs, 4)
    for job, fit in zip(jobs, many, strict=True):
        alone = trainer.fit(job.train_idx, job.val_idx, job.penalty, 4, job.seed)
        assert fit.diverged is None, (job.penalty, fit)
        assert_same_fit(trainer, fit, alone, data.x_train[job.val_idx])


def check_population_judges_stop_their_group(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """A judge stops trial 1 after epoch 2: its models leave the stack, the others train on
    unchanged, and its fits are those of 2 epochs alone; each judge hears, every epoch, its
    folds' validation accuracy at their best epoch so far."""
    data = CHECK_DATA
    trainer = make_trainer(backend, model, device, epochs=4, patience=1)
    if (batched := _batched(trainer)) is None:
        return
    folds, jobs = _population()
    told: dict[int, list[tuple[int, list[float]]]] = {0: [], 1: []}

    def judge(group: int) -> GroupJudge:
        def decide(epoch: int, scores: list[float]) -> bool:
            told[group].append((epoch, scores))
            return group == 1 and epoch == 2

        return decide

    judged = batched.fit_many(jobs, 4, judges={0: judge(0), 1: judge(1)})
    assert [epoch for epoch, _ in told[1]] == [1, 2]
    assert told[0] and all(len(scores) == len(folds) for _, scores in told[0])
    for job, fit in zip(jobs, judged, strict=True):
        epochs = 2 if job.group == 1 else 4
        alone = trainer.fit(job.train_idx, job.val_idx, job.penalty, epochs, job.seed)
        assert_same_fit(trainer, fit, alone, data.x_train[job.val_idx])
        if job.group == 0:  # told each epoch the accuracy of the best epoch so far
            best = alone.history["val_accuracy"][alone.best_epoch - 1]
            assert abs(told[0][-1][1][job.seed] - best) <= 1e-4


def check_population_divergence_stops_only_its_trial(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """A trial whose penalty diverges stops its own folds, not the others'."""
    trainer = make_trainer(backend, model, device, epochs=4, patience=1)
    if (batched := _batched(trainer)) is None:
        return
    folds, _ = _population()
    exploding = [Job(*folds[0], Penalty(l2=1e38), seed=0, group=0)] + [
        Job(tr, va, Penalty(l2=1e-3), seed=i, group=1) for i, (tr, va) in enumerate(folds)
    ]
    fits = batched.fit_many(exploding, 3)
    assert fits[0].diverged is not None and "loss became" in fits[0].diverged
    assert all(fit.diverged is None for fit in fits[1:]), [fit.diverged for fit in fits]
    assert all(len(fit.history["loss"]) >= 2 for fit in fits[1:]), "the other trial goes on"
