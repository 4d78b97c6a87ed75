"""Nested cross-validation's outcome in words: each outer fold's choice and score, the nested
estimate beside the non-nested one and the test score, and how stable the choice is (the
record is :func:`regsearch.run.nested.summarize`'s)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from regsearch.penalty import STRENGTHS, Penalty

if TYPE_CHECKING:
    from regsearch.results import StudyResult


def outer_line(result: StudyResult) -> str:
    """One inner study's answer: its choice, inner CV score and held-out accuracy."""
    chosen, baseline = result.chosen, result.baseline
    base = "" if baseline is None else f", the baseline's {baseline.test_accuracy:.4f}"
    choice = configuration_text(chosen.penalty, chosen.strengths)
    return (
        f"{result.study.study_name}: chose {choice}"
        f" (inner CV accuracy {chosen.cv_accuracy:.4f}); its refit scored "
        f"{chosen.test_accuracy:.4f} on the held-out part{base}."
    )


def nested_lines(record: dict[str, Any]) -> list[str]:
    """The stored ``nested`` record as sentences and a table: each outer fold's choice and
    score, the nested estimate beside the non-nested best CV score and the test score, and
    how stable the chosen penalty is across the outer folds."""
    k, outer = record["outer_folds"], record["outer"]
    lines = [
        f"Nested cross-validation ({k} outer folds, each an inner study of the whole search, "
        "scored on its held-out part):",
        f"  {'outer':>5}  {'chosen':<28} {'inner CV':>8}  {'held-out':>8}  {'baseline':>8}",
    ]
    for o in outer:
        chosen = configuration_text(o["penalty"], Penalty.of(o))
        base = o["baseline_accuracy"]
        lines.append(
            f"  {o['fold']:>5}  {chosen:<28} {o['inner_cv_accuracy']:>8.4f}  "
            f"{o['accuracy']:>8.4f}  {'-' if base is None else f'{base:.4f}':>8}"
        )
    gain = ""
    if record.get("baseline_nested_accuracy") is not None:
        diff = 100 * (record["nested_accuracy"] - record["baseline_nested_accuracy"])
        gain = (
            f"; the baseline's, alike: {record['baseline_nested_accuracy']:.4f} "
            f"({diff:+.2f} pp for the search)"
        )
    lines += [
        f"Nested estimate of the search: {record['nested_accuracy']:.4f} ± "
        f"{record['nested_std']:.4f} (mean ± std over {k} outer folds){gain}.",
        f"Non-nested best CV score: {record['cv_accuracy']:.4f} (optimistic: the same folds "
        f"chose and scored it; {100 * (record['cv_accuracy'] - record['nested_accuracy']):+.2f}"
        f" pp above the nested estimate); test set: {record['test_accuracy']:.4f}.",
        "Chosen across outer folds: " + stability(record) + ".",
        f"Inner studies, in the same storage: {outer[0]['study']} to {outer[-1]['study']}.",
    ]
    return lines


def stability(record: dict[str, Any]) -> str:
    """How often each penalty type was chosen across the outer folds, and the range of each
    chosen lambda as ``low to high (a factor of high / low)``, beside the main study's."""
    outer = record["outer"]
    kinds: dict[str, int] = {}
    for o in outer:
        kinds[o["penalty"]] = kinds.get(o["penalty"], 0) + 1
    parts = [
        f"{kind} in {count} of {len(outer)}"
        for kind, count in sorted(kinds.items(), key=lambda kc: -kc[1])
    ]
    for name in STRENGTHS:
        values = [o.get(name, 0.0) for o in outer if o.get(name, 0.0) > 0]
        if len(values) >= 2:
            low, high = min(values), max(values)
            parts.append(f"{name} from {low:.2g} to {high:.2g} (a factor of {high / low:.3g})")
        elif values:
            parts.append(f"{name} {values[0]:.2g} once")
    main = configuration_text(record["penalty"], Penalty.of(record))
    return f"{'; '.join(parts)}; on all training data: {main}"


def configuration_text(penalty: str, strengths: Penalty) -> str:
    """``l2 l2=0.00012``, or ``none`` for the baseline."""
    lambdas = strengths.lambdas(".2g")
    return f"{penalty} {lambdas}" if lambdas else penalty
