"""Replay pruning rules on a finished, unpruned study: which trials each rule would have
stopped, how much training it saves, and whether it keeps the study's choice.

Every fold record holds its per-epoch ``val_loss`` and ``val_accuracy``, so the score a trial
would have reported after any epoch (the mean over folds of each fold's validation accuracy at
its best epoch so far, as :class:`~regsearch.cv.objective.EpochJudge` reports it) and after any
fold (the running mean of the fold scores) can be recomputed. Each rule runs as Optuna's own
pruner on an in-memory study fed those reports in the stored order: ``batch`` trials at a time
report epoch by epoch side by side, as a population trains them, and the others count only once
finished. What the replay cannot show is how the sampler would have moved with other pruned
trials: later trials are the stored ones.

A smaller training budget replays too (``--cap C --patience P``): a fold's stored curves are
the first epochs of the same deterministic training under any budget whose cap and patience
are no larger than the stored run's, so early stopping is re-run on them (the rule of
:class:`~regsearch.backends.loop.EarlyStopping`) and each fold's score becomes its validation
accuracy at the best epoch of the shorter run.

Savings are counted in fold-epochs (a fold trained for one epoch), the unit both paths pay per
model: a pruned trial keeps the epochs its folds trained up to the epoch (or fold) it stopped at.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from regsearch import records
from regsearch.cv.pruning import MEDIAN_STARTUP_TRIALS
from regsearch.errors import ArgumentError, ConfigError, RegsearchError

SCORE = "test_accuracy"
"""A fold record's score (scikit-learn's ``split{i}_test_score``, as regsearch names it)."""


@dataclass(frozen=True)
class ReplayedTrial:
    number: int
    score: float
    epoch_reports: list[float]
    """The mean over folds of each fold's score if training ended after epoch ``e`` (index
    ``e - 1``), up to the last epoch any fold trained."""
    fold_scores: list[float]
    fold_epochs: list[int]
    """Epochs each fold trained (early stopping may end one before the cap)."""


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    pruned: int
    fold_epochs: int
    chosen: int
    chosen_score: float


@dataclass(frozen=True)
class Budget:
    """A training budget to replay: at most ``cap`` epochs, ``patience`` epochs without a
    lower validation loss before a fold stops (``None``: the stored run's)."""

    cap: int | None = None
    patience: int | None = None

    def epochs_trained(self, val_loss: list[float]) -> int:
        """How many of the stored epochs a fold trains under this budget."""
        if self.patience is None:
            return min(len(val_loss), self.cap or len(val_loss))
        best, wait = np.inf, 0
        for epoch, loss in enumerate(val_loss[: self.cap], start=1):
            wait += 1
            if loss < best:
                best, wait = loss, 0
            elif wait >= self.patience:
                return epoch
        return min(len(val_loss), self.cap or len(val_loss))


def replayable_trials(study: optuna.Study, budget: Budget | None = None) -> list[ReplayedTrial]:
    """The study's complete trials, in number order, with the reports a pruner would see
    (under ``budget``, a smaller one than the stored run's: see the module's docstring).

    Raises:
        ArgumentError: the study has pruned trials (their later epochs are unknown) or fold
            records without per-epoch histories.
        ConfigError: ``budget`` exceeds the stored run's.
    """
    pruned = [t.number for t in study.trials if t.state == TrialState.PRUNED]
    if pruned:
        raise ArgumentError(
            f"a replay needs a study run without pruning (--pruner none); trials "
            f"{', '.join(map(str, pruned[:5]))} of {study.study_name!r} were pruned"
        )
    stored = records.study_config(study).get("train") or {}
    if budget is not None and (
        (budget.cap or 0) > stored.get("epochs", 0)
        or (budget.patience or 0) > stored.get("patience", 0)
    ):
        raise ConfigError(
            f"a replayed budget must not exceed the stored run's (epochs "
            f"{stored.get('epochs')}, patience {stored.get('patience')}), got cap "
            f"{budget.cap} and patience {budget.patience}"
        )
    folds = records.study_splits(study)
    return [
        _replayed(t, folds, budget or Budget())
        for t in sorted(study.trials, key=lambda t: t.number)
        if t.state == TrialState.COMPLETE
    ]


def _replayed(trial: FrozenTrial, folds: int, budget: Budget) -> ReplayedTrial:
    histories = records.fold_values(records.attrs(trial), "history", folds)
    if any(h is None or "val_loss" not in h for h in histories):
        raise ArgumentError(f"trial {trial.number} has folds without per-epoch histories")
    trained = [budget.epochs_trained(h["val_loss"]) for h in histories]
    curves = [
        _score_if_stopped(h["val_loss"][:n], h["val_accuracy"][:n])
        for h, n in zip(histories, trained, strict=True)
    ]
    last = max(len(c) for c in curves)
    # A fold that stopped early keeps its final score for the later epochs.
    padded = [c + [c[-1]] * (last - len(c)) for c in curves]
    fold_scores = [c[-1] for c in curves]
    return ReplayedTrial(
        number=trial.number,
        score=float(np.mean(fold_scores)),
        epoch_reports=[float(np.mean(column)) for column in zip(*padded, strict=True)],
        fold_scores=fold_scores,
        fold_epochs=[len(c) for c in curves],
    )


def _score_if_stopped(val_loss: list[float], val_accuracy: list[float]) -> list[float]:
    """After each epoch: the validation accuracy at the lowest validation loss so far (the
    epoch whose weights early stopping would restore; ties keep the earlier epoch)."""
    scores, best_loss, best_score = [], np.inf, np.nan
    for loss, acc in zip(val_loss, val_accuracy, strict=True):
        if loss < best_loss:
            best_loss, best_score = loss, acc
        scores.append(float(best_score))
    return scores


def replay_epochs_rule(
    trials: list[ReplayedTrial], pruner: optuna.pruners.BasePruner, batch: int
) -> tuple[set[int], int]:
    """Run ``pruner`` over epoch reports, ``batch`` trials at a time; returns the pruned
    trial numbers and the fold-epochs trained."""
    study = optuna.create_study(direction="maximize", pruner=pruner)
    pruned: set[int] = set()
    cost = 0
    for begin in range(0, len(trials), batch):
        group = trials[begin : begin + batch]
        live = {t.number: study.ask() for t in group}
        stopped_at: dict[int, int] = {}
        epochs = max(len(t.epoch_reports) for t in group)
        for epoch in range(1, epochs + 1):
            for t in group:
                if t.number in stopped_at or epoch > len(t.epoch_reports):
                    continue
                trial = live[t.number]
                trial.report(t.epoch_reports[epoch - 1], step=epoch)
                if epoch < len(t.epoch_reports) and trial.should_prune():
                    stopped_at[t.number] = epoch
        for t in group:
            if t.number in stopped_at:
                pruned.add(t.number)
                cost += sum(min(e, stopped_at[t.number]) for e in t.fold_epochs)
                study.tell(live[t.number], state=TrialState.PRUNED)
            else:
                cost += sum(t.fold_epochs)
                study.tell(live[t.number], t.score)
    return pruned, cost


def replay_folds_rule(
    trials: list[ReplayedTrial], pruner: optuna.pruners.BasePruner
) -> tuple[set[int], int]:
    """Run ``pruner`` over running means after each fold, one trial at a time (the
    sequential path); returns the pruned trial numbers and the fold-epochs trained."""
    study = optuna.create_study(direction="maximize", pruner=pruner)
    pruned: set[int] = set()
    cost = 0
    for t in trials:
        trial = study.ask()
        k = len(t.fold_scores)
        for i in range(k):
            cost += t.fold_epochs[i]
            trial.report(float(np.mean(t.fold_scores[: i + 1])), step=i)
            if i + 1 < k and trial.should_prune():
                pruned.add(t.number)
                break
        if t.number in pruned:
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, t.score)
    return pruned, cost


def epoch_rules(epochs: int) -> list[tuple[str, Callable[[], optuna.pruners.BasePruner]]]:
    """The epoch rules compared: the median from epoch 2, 3, 4, 5, 6, 8, 10 or 12 on (those
    before the last epoch, at least epoch 2), and the stricter 25th percentile (keep the top
    quarter) from the latest of them."""
    firsts = [e for e in (2, 3, 4, 5, 6, 8, 10, 12) if e < epochs] or [2]
    rules: list[tuple[str, Callable[[], optuna.pruners.BasePruner]]] = [
        (f"epochs: median from epoch {first}", functools.partial(_percentile, 50.0, first))
        for first in firsts
    ]
    last = firsts[-1]
    rules.append((f"epochs: top 25% from epoch {last}", functools.partial(_percentile, 25.0, last)))
    return rules


def _percentile(percentile: float, first: int) -> optuna.pruners.BasePruner:
    """Optuna's pruner keeping the top ``percentile`` % of finished trials from epoch
    ``first`` on (50: ``MedianPruner``, the ``epochs`` pruner's rule)."""
    if percentile == 50.0:
        return optuna.pruners.MedianPruner(
            n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=first
        )
    return optuna.pruners.PercentilePruner(
        percentile, n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=first
    )


def replay(study: optuna.Study, batch: int, budget: Budget | None = None) -> list[RuleOutcome]:
    """Every rule's outcome on ``study`` (under ``budget``), after no pruning's (``none``)."""
    trials = replayable_trials(study, budget)
    if not trials:
        raise ArgumentError(f"study {study.study_name!r} has no complete trials to replay")
    epochs = max(len(t.epoch_reports) for t in trials)
    outcomes = [_outcome("none (the stored study)", trials, set(), sum(_all_epochs(trials)))]
    for name, make in epoch_rules(epochs):
        pruned, cost = replay_epochs_rule(trials, make(), batch)
        outcomes.append(_outcome(name, trials, pruned, cost))
    pruned, cost = replay_folds_rule(
        trials,
        optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=0),
    )
    outcomes.append(_outcome("median over folds (sequential)", trials, pruned, cost))
    return outcomes


def _all_epochs(trials: list[ReplayedTrial]) -> list[int]:
    return [sum(t.fold_epochs) for t in trials]


def _outcome(rule: str, trials: list[ReplayedTrial], pruned: set[int], cost: int) -> RuleOutcome:
    kept = [t for t in trials if t.number not in pruned]
    best = max(kept, key=lambda t: t.score)
    return RuleOutcome(rule, len(pruned), cost, best.number, best.score)


def print_replay(outcomes: list[RuleOutcome], trials: int) -> str:
    """The table, and a machine-readable line of each rule's fold-epochs over the unpruned
    study's and its choice's CV accuracy minus the unpruned choice's, in pp."""
    base = outcomes[0]
    lines = [
        f"{'rule':<34} {'pruned':>6} {'fold-epochs':>11} {'of none':>7} {'chosen':>6} "
        f"{'its CV':>7} {'vs none pp':>10}"
    ]
    for o in outcomes:
        lines.append(
            f"{o.rule:<34} {o.pruned:6d} {o.fold_epochs:11d} "
            f"{100 * o.fold_epochs / base.fold_epochs:6.0f}% {o.chosen:6d} "
            f"{o.chosen_score:7.4f} {100 * (o.chosen_score - base.chosen_score):+10.2f}"
        )
    lines.append(f"({trials} trials replayed)")
    lines.append(
        "replay_work_fractions="
        + ",".join(f"{o.fold_epochs / base.fold_epochs:.3f}" for o in outcomes)
        + " replay_cv_deltas_pp="
        + ",".join(f"{100 * (o.chosen_score - base.chosen_score):+.2f}" for o in outcomes)
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m regsearch.bench.replay",
        description="Replay pruning rules on a finished study run with --pruner none.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--storage", required=True, help="the study's Optuna storage URL")
    parser.add_argument("--study", required=True, help="the study's name")
    parser.add_argument(
        "--batch", type=int, default=4, help="trials judged side by side (--trial-batch)"
    )
    parser.add_argument(
        "--cap", type=int, help="replay a smaller epoch cap than the stored run's --epochs"
    )
    parser.add_argument(
        "--patience", type=int, help="replay a smaller patience than the stored run's"
    )
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=args.study, storage=args.storage)
    budget = Budget(args.cap, args.patience)
    try:
        outcomes = replay(study, args.batch, budget)
    except RegsearchError as exc:
        print(f"regsearch.bench.replay: {exc}")
        return exc.exit_code
    print(print_replay(outcomes, len(replayable_trials(study, budget))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
