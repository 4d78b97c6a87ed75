"""Which regularizer helps: each family's best configuration against the baseline, with the
corrected resampled t-test (:mod:`regsearch.cv.comparison`), and one sentence on top."""

from __future__ import annotations

import dataclasses

import optuna
from optuna.trial import FrozenTrial, TrialState

from regsearch import records
from regsearch.config import DEFAULT_ROPE_PP, NO_PENALTY, PENALTY_TYPES
from regsearch.cv.comparison import Comparison, corrected_resampled_t_test, signed_pp
from regsearch.cv.selection import select_best


def baseline_comparison(
    study: optuna.Study, chosen: int, baseline: int, rope_pp: float = DEFAULT_ROPE_PP
) -> Comparison | None:
    """The corrected resampled t-test of trial ``chosen`` against trial ``baseline`` on their
    shared splits (:mod:`regsearch.cv.comparison`), or ``None`` with fewer than 2 of them.
    Each split holds out 1 of k folds, so ``n_test / n_train = 1 / (k - 1)``; with repeated
    k-fold there are ``repeats * k`` splits at the same ratio; a study scored on a
    scikit-learn splitter's splits stores their mean ratio (:data:`records.SPLITTER`)."""
    a, b = study.trials[chosen].user_attrs, study.trials[baseline].user_attrs
    folds = records.study_folds(study) or len(records.fold_scores(study.trials[chosen]))
    splits = records.study_splits(study) or folds
    diffs = [
        x - y
        for x, y in zip(
            records.fold_values(a, "test_accuracy", splits),
            records.fold_values(b, "test_accuracy", splits),
            strict=True,
        )
        if x is not None and y is not None
    ]
    if len(diffs) < 2 or folds < 2:
        return None
    splitter = study.user_attrs.get(records.SPLITTER) or {}
    ratio = float(splitter.get("test_to_train", 1 / (folds - 1)))
    test = corrected_resampled_t_test(diffs, ratio, rope=rope_pp / 100)
    return dataclasses.replace(test, trial=chosen, baseline_trial=baseline)


def answer_comparison(
    study: optuna.Study, chosen: int, rope_pp: float = DEFAULT_ROPE_PP
) -> Comparison | None:
    """The study's answer as data: the chosen trial against the baseline where a penalty was
    chosen; where none was (the baseline, or with the learning rate searched another
    unregularized trial), the best regularized trial against the baseline, so that there is
    an answer every time. ``None`` without a baseline, a regularized trial or 2 shared splits."""
    baseline = records.baseline_trial(study)
    if baseline is None:
        return None
    if records.is_unregularized(study.trials[chosen]):
        best = best_regularized(study)
        if best is None:
            return None
        chosen = best.number
    return baseline_comparison(study, chosen, baseline.number, rope_pp)


def refit_decay_text(weight_decay: float, refit_weight_decay: float) -> str:
    """``, with weight_decay 1.23 (the folds' timescale: ...)`` where the refit decayed at
    another strength than the trial, else nothing."""
    if not weight_decay or not refit_weight_decay or refit_weight_decay == weight_decay:
        return ""
    return (
        f", with weight_decay {refit_weight_decay:.3g} (the folds' timescale: "
        f"{weight_decay:.3g} x fold rows / all rows)"
    )


def family_bests(study: optuna.Study) -> dict[str, FrozenTrial]:
    """Each penalty family's best complete trial (the highest mean CV score, the lowest
    number among equals), the unregularized family (``none``) first, then in
    :data:`~regsearch.config.PENALTY_TYPES` order."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    bests: dict[str, FrozenTrial] = {}
    for kind in (NO_PENALTY, *PENALTY_TYPES):
        members = [t for t in complete if records.penalty_kind(t) == kind]
        if members:
            bests[kind] = select_best(members)
    return bests


def best_regularized(study: optuna.Study) -> FrozenTrial | None:
    """The best complete regularized trial (by :func:`~regsearch.cv.selection.select_best`),
    ``None`` where no regularized trial completed."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    regularized = [t for t in complete if not records.is_unregularized(t)]
    return select_best(regularized) if regularized else None


FAMILY_COLUMNS = ("family", "trial", "configuration", "CV accuracy", "vs baseline",
                  "95% interval", "verdict")  # fmt: skip
"""The family table's columns, as :func:`family_table` fills them."""


def family_table(
    study: optuna.Study, rope_pp: float = DEFAULT_ROPE_PP
) -> tuple[str, list[dict[str, str]]] | None:
    """``Which regularizer helps: ...`` (one sentence), and one row per family searched
    (:data:`FAMILY_COLUMNS`): its best trial, configuration, CV score and the corrected
    comparison with the baseline. Each family's best is a maximum over its trials, the
    baseline's too (with the learning rate searched, over the unregularized trials), so the
    comparison is like for like; ``None`` where the study has no baseline or no regularized
    trial."""
    bests = family_bests(study)
    baseline = records.baseline_trial(study)
    regularized = {k: t for k, t in bests.items() if k != NO_PENALTY}
    if baseline is None or not regularized:
        return None
    compared = {
        kind: baseline_comparison(study, t.number, baseline.number, rope_pp)
        for kind, t in regularized.items()
    }
    rows = []
    for kind, trial in bests.items():
        comparison = compared.get(kind)
        if kind == NO_PENALTY:
            versus, interval, verdict = "", "", f"the baseline (trial {baseline.number})"
        elif comparison is None:
            versus, interval, verdict = "", "", "too few splits to compare"
        else:
            versus = f"{signed_pp(comparison.gain)} pp"
            interval = f"[{signed_pp(comparison.low)}, {signed_pp(comparison.high)}]"
            verdict = comparison.verdict
        cells = (kind, str(trial.number), configuration_text(trial), f"{trial.value or 0.0:.4f}")
        rows.append(dict(zip(FAMILY_COLUMNS, (*cells, versus, interval, verdict), strict=True)))
    return _headline(regularized, compared, baseline), rows


def family_lines(study: optuna.Study, rope_pp: float = DEFAULT_ROPE_PP) -> list[str]:
    """:func:`family_table` for a terminal: the sentence, then the table in aligned columns."""
    found = family_table(study, rope_pp)
    if found is None:
        return []
    headline, rows = found
    widths = (13, 5, 34, 11, 11, 17, 0)
    right = {"trial", "CV accuracy", "vs baseline"}

    def line(cells: dict[str, str]) -> str:
        parts = [
            f"{cells[c]:>{w}}" if c in right else f"{cells[c]:<{w}}"
            for c, w in zip(FAMILY_COLUMNS, widths, strict=True)
        ]
        gaps = (" ", "  ", " ", "  ", "  ", " ")
        return ("  " + "".join(p + g for p, g in zip(parts, (*gaps, ""), strict=True))).rstrip()

    return [headline, line({c: c for c in FAMILY_COLUMNS}), *(line(r) for r in rows)]


def configuration_text(trial: FrozenTrial) -> str:
    """``l2=3.9e-06, lr=0.0021``: the trial's strengths and its sampled learning rate."""
    parts = [records.penalty_of(trial).lambdas(".2g")]
    lr = records.lr_of(trial)
    if lr is not None:
        parts.append(f"lr={lr:.2g}")
    return ", ".join(p for p in parts if p) or "-"


def _headline(
    regularized: dict[str, FrozenTrial],
    compared: dict[str, Comparison | None],
    baseline: FrozenTrial,
) -> str:
    """The one sentence: the family whose best gains most over the baseline, by how much,
    how sure."""
    measured = {k: c for k, c in compared.items() if c is not None}
    base = f"the best unregularized configuration (trial {baseline.number})"
    if not measured:
        return f"Which regularizer helps: too few splits to compare any family with {base}."
    kind = max(measured, key=lambda k: measured[k].gain)
    c = measured[kind]
    numbers = (
        f"{signed_pp(c.gain)} pp of CV accuracy over {base}, 95% interval "
        f"[{signed_pp(c.low)}, {signed_pp(c.high)}]"
    )
    odds = f"P(helps) {c.p_helps:.2f}"
    if c.verdict == "helps":
        return f"Which regularizer helps: {kind} most, {numbers} (helps; {odds})."
    return (
        f"Which regularizer helps: none surely; the best family, {kind} (trial "
        f"{regularized[kind].number}), is {numbers} ({c.verdict}; {odds})."
    )
