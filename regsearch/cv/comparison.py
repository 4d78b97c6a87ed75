"""Does the chosen penalty beat the unregularized baseline? The corrected resampled t-test.

Both trials are scored on the same J cross-validation splits, so the per-split differences
``d_j = score_chosen_j - score_baseline_j`` are paired. Their plain standard error
``s / sqrt(J)`` understates the variance, because the splits' training sets overlap; Nadeau and
Bengio (2003) correct it, as scikit-learn's example "Statistical comparison of models using grid
search" does::

    mean = sum(d_j) / J
    s^2  = sum((d_j - mean)^2) / (J - 1)
    var  = (1 / J + n_test / n_train) * s^2          # n_test / n_train = 1 / (k - 1) for k folds
    t    = mean / sqrt(var),   J - 1 degrees of freedom
    p    = 2 * P(T > |t|),     interval = mean +/- t_{1 - alpha/2, J-1} * sqrt(var)

A region of practical equivalence (``rope``, in accuracy units) turns the interval into an
answer: *helps* when the interval lies above zero and the gain exceeds the rope, *hurts* in the
mirror case, *equivalent* (no practical difference) when the whole interval lies inside
``[-rope, rope]``, and *undecided* otherwise (too few splits to tell).

The same numbers read as probabilities: the Bayesian correlated t-test (Benavoli, Corani,
Demsar & Zaffalon, "Time for a change", JMLR 2017; ``baycomp.CorrelatedTTest``) puts on the
true difference the posterior ``Student-t(J - 1, loc=mean, scale=sqrt(var))`` with the same
corrected ``var``, so that::

    P(helps)      = P(diff > rope)
    P(equivalent) = P(-rope <= diff <= rope)
    P(hurts)      = P(diff < -rope)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from regsearch.config import DEFAULT_ROPE_PP
from regsearch.errors import ArgumentError


def signed_pp(value: float) -> str:
    """``value`` (accuracy units) in signed percentage points, ``+1.23``; a value that rounds
    to zero reads ``+0.00``, never ``-0.00``."""
    points = round(100.0 * value, 2)
    return f"{points if points else 0.0:+.2f}"


@dataclass(frozen=True)
class Comparison:
    """The corrected resampled t-test of a configuration (trial ``trial``) against the
    baseline (trial ``baseline_trial``), as data: :attr:`verdict`, :attr:`difference`,
    :attr:`interval`, ``p_value``, :attr:`n_splits`, ``rope`` (in the metric's units) and the
    posterior probabilities; :meth:`record` is its JSON form, stored with the study."""

    gain: float
    low: float
    high: float
    t: float
    p_value: float
    splits: int
    rope: float
    confidence: float = 0.95
    p_helps: float = math.nan
    p_equivalent: float = math.nan
    p_hurts: float = math.nan
    metric: str = "accuracy"
    trial: int | None = None
    baseline_trial: int | None = None

    @property
    def difference(self) -> float:
        """The mean per-split difference, configuration minus baseline (the gain)."""
        return self.gain

    @property
    def interval(self) -> tuple[float, float]:
        """The ``confidence`` interval of the difference, ``(low, high)``."""
        return (self.low, self.high)

    @property
    def n_splits(self) -> int:
        return self.splits

    def record(self) -> dict[str, object]:
        """The comparison as JSON-ready data (NaN probabilities as ``None``)."""

        def number(value: float) -> float | None:
            return None if math.isnan(value) else value

        return {
            "verdict": self.verdict,
            "trial": self.trial,
            "baseline_trial": self.baseline_trial,
            "metric": self.metric,
            "difference": self.difference,
            "interval": list(self.interval),
            "confidence": self.confidence,
            "p_value": self.p_value,
            "t": self.t if math.isfinite(self.t) else None,
            "n_splits": self.n_splits,
            "rope": self.rope,
            "p_helps": number(self.p_helps),
            "p_equivalent": number(self.p_equivalent),
            "p_hurts": number(self.p_hurts),
        }

    @property
    def verdict(self) -> str:
        """``helps``, ``hurts``, ``equivalent`` (no practical difference) or ``undecided``."""
        if self.low > 0 and self.gain > self.rope:
            return "helps"
        if self.high < 0 and self.gain < -self.rope:
            return "hurts"
        if -self.rope <= self.low and self.high <= self.rope:
            return "equivalent"
        return "undecided"

    def describe(self) -> str:
        """One sentence with the numbers, in percentage points."""
        pp = 100.0
        numbers = (
            f"{signed_pp(self.gain)} pp of CV accuracy, {100 * self.confidence:.0f}% interval "
            f"[{signed_pp(self.low)}, {signed_pp(self.high)}] (Nadeau-Bengio corrected t-test "
            f"over {self.splits} splits, p = {self.p_value:.3g})"
        )
        rope = f"{pp * self.rope:.2g} pp"
        if not math.isnan(self.p_helps):
            numbers += f"; {self.probabilities()}"
        answers = {
            "helps": f"regularization helps: {numbers}",
            "hurts": f"regularization hurts: {numbers}",
            "equivalent": (
                f"regularization makes no practical difference (the interval lies within "
                f"+/-{rope}): {numbers}"
            ),
            "undecided": (
                f"undecided: {numbers}; the interval is too wide to tell a gain beyond "
                f"+/-{rope} from none (more folds would narrow it)"
            ),
        }
        return answers[self.verdict]

    def probabilities(self) -> str:
        """``P(helps) 0.12, P(equivalent) 0.80, P(hurts) 0.08 (rope +/-0.5 pp)``."""
        return (
            f"P(helps) {self.p_helps:.2f}, P(equivalent) {self.p_equivalent:.2f}, "
            f"P(hurts) {self.p_hurts:.2f} (Bayesian correlated t-test, rope "
            f"+/-{100 * self.rope:.2g} pp)"
        )


def corrected_resampled_t_test(
    differences: Sequence[float],
    test_to_train: float,
    rope: float = DEFAULT_ROPE_PP / 100,
    confidence: float = 0.95,
) -> Comparison:
    """The test on paired per-split ``differences`` (see the module), with ``test_to_train``
    the ratio of validation to training rows per split and ``rope`` in accuracy units.

    Raises:
        ArgumentError: fewer than 2 differences (no variance to estimate).
    """
    from scipy import stats

    j = len(differences)
    if j < 2:
        raise ArgumentError(f"the corrected t-test needs at least 2 paired splits, got {j}")
    mean = sum(differences) / j
    variance = sum((d - mean) ** 2 for d in differences) / (j - 1)
    sd = math.sqrt((1 / j + test_to_train) * variance)
    quantile = float(stats.t.ppf(0.5 + confidence / 2, j - 1))
    if sd == 0.0:  # identical differences: no spread to test against; the posterior is a point
        t = math.copysign(math.inf, mean) if mean else 0.0
        p_value = 0.0 if mean else 1.0
        p_helps, p_hurts = float(mean > rope), float(mean < -rope)
    else:
        t = mean / sd
        p_value = float(2 * stats.t.sf(abs(t), j - 1))
        posterior = stats.t(j - 1, loc=mean, scale=sd)
        p_helps, p_hurts = float(posterior.sf(rope)), float(posterior.cdf(-rope))
    return Comparison(
        gain=mean,
        low=mean - quantile * sd,
        high=mean + quantile * sd,
        t=t,
        p_value=p_value,
        splits=j,
        rope=rope,
        confidence=confidence,
        p_helps=p_helps,
        p_equivalent=max(0.0, 1.0 - p_helps - p_hurts),
        p_hurts=p_hurts,
    )
