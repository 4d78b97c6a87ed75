"""Signs that a study's answer means nothing, said in words with what to try.

A search always "chooses" something; these catch the cases where the choice is noise: a chosen
model no better than always predicting the most frequent class, and trials that all scored the
same (the penalty changed nothing, usually because nothing trained).
"""

from __future__ import annotations

from collections.abc import Sequence

from optuna.trial import FrozenTrial

from regsearch.cv.refit import RefitResult
from regsearch.errors import param

CHANCE_MARGIN = 0.01
"""A test accuracy within this of the majority-class rate counts as chance level."""


def doubts(complete: Sequence[FrozenTrial], chosen: RefitResult) -> list[str]:
    """Sentences (empty when nothing looks wrong) about the complete trials and the chosen
    configuration's refit."""
    found = []
    chance = chosen.majority_accuracy
    if chance is not None and chosen.test_accuracy <= chance + CHANCE_MARGIN:
        found.append(
            f"the chosen model's test accuracy {chosen.test_accuracy:.4f} is at chance level "
            f"(always predicting the most frequent class scores {chance:.4f}): it learned "
            f"nothing. Try a smaller {param('lr')} (divergence), more {param('epochs')}, and "
            "check the data: scaled features, the right labels."
        )
    values = [t.value for t in complete if t.value is not None]
    if len(values) >= 3 and max(values) - min(values) < 1e-9:
        found.append(
            f"all {len(values)} complete trials scored exactly {values[0]:.4f}, penalty or "
            "not: the choice among them is arbitrary. The models most likely did not train; "
            f"try another {param('lr')}, more {param('epochs')}, or scaled features."
        )
    return found
