"""What the study command prints when a study is done: the closing summary, and the commands
that show the study (a finished trial's own line is :mod:`regsearch.observe.lines`)."""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING

from optuna.trial import TrialState

from regsearch import records
from regsearch.cv.doubts import doubts
from regsearch.errors import render
from regsearch.locations import default_artifact_dir, redact_url
from regsearch.penalty import lambda_cell
from regsearch.present.families import family_lines, refit_decay_text
from regsearch.present.nested import nested_lines
from regsearch.present.tables import comparison_lines, cv_gap_lines, epoch_cap_lines

if TYPE_CHECKING:
    from regsearch.config import StudyConfig
    from regsearch.results import StudyResult


def summary(
    result: StudyResult,
    config: StudyConfig,
    top: int = 5,
    name_of: Callable[[str], str] = lambda name: name,
) -> str:
    """The closing table: best trials, baseline, chosen configuration, test results, commands."""

    study = result.study
    completed = sorted(
        study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
        key=lambda t: -(t.value or 0.0),
    )
    n_pruned = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    n_failed = len(study.get_trials(deepcopy=False, states=(TrialState.FAIL,)))
    # The decay's and the learning rate's columns only where searched.
    decays, rates = config.space.decays, config.space.lr_range is not None
    kind_width = 12 if decays else 6
    extra_head = (f" {'weight_decay':>12}" if decays else "") + (f" {'lr':>9}" if rates else "")
    lines = [
        "",
        f"Study {study.study_name!r}: {len(completed)} complete, {n_pruned} pruned, "
        f"{n_failed} failed trials; score = mean validation accuracy over "
        f"{config.describe_splits()}.",
        *(
            [
                f"Time budget: the timeout of {config.timeout:g} s ended the search with "
                f"{len(completed) + n_pruned + n_failed} of {config.trials} trials finished "
                f"({result.new_trials} in this run); rerun the same command to add the rest."
            ]
            if result.timed_out and config.timeout is not None
            else []
        ),
        "",
        f"{'rank':>4}  {'trial':>5}  {'penalty':<{kind_width}} {'l1':>12} {'l2':>12}{extra_head}  "
        f"{'accuracy':>16}  {'best epochs'}",
    ]
    for rank, t in enumerate(completed[:top], start=1):
        epochs = records.fold_values(records.attrs(t), "best_epoch", config.n_splits)
        penalty = records.penalty_of(t)
        lines.append(
            f"{rank:>4}  {t.number:>5}  {t.user_attrs.get(records.PENALTY, '?'):<{kind_width}} "
            f"{lambda_cell(penalty.l1):>12} {lambda_cell(penalty.l2):>12}"
            + (f" {lambda_cell(penalty.weight_decay):>12}" if decays else "")
            + (f" {records.lr_of(t) or 0.0:>9.2e}" if rates else "")
            + f"  {t.value:.4f} ± {t.user_attrs[records.STD_SCORE]:.4f}  "
            f"{','.join(str(e) for e in epochs)}"
        )
    chosen, baseline = result.chosen, result.baseline
    lines.append("")
    if baseline is not None:
        rank = next(i for i, t in enumerate(completed, 1) if t.number == baseline.trial_number)
        unregularized = [t for t in completed if records.is_unregularized(t)]
        among = (
            f", the best of {len(unregularized)} unregularized trials over the learning rate"
            if len(unregularized) > 1
            else ""
        )
        lines.append(
            f"Baseline (no penalty{among}): trial {baseline.trial_number}, CV accuracy "
            f"{baseline.cv_accuracy:.4f}, rank {rank} of {len(completed)}."
        )
    chosen_penalty = chosen.strengths
    penalty_text = (
        "no penalty: regularization did not beat the unregularized baseline"
        if chosen.penalty == "none"
        else ", ".join(filter(None, (chosen.penalty, chosen_penalty.lambdas(".3g"))))
    )
    rule = "" if config.select == "best" else ", by the one-standard-error rule"
    lines.append(
        f"Chosen{rule}: trial {chosen.trial_number} ({penalty_text}), CV accuracy "
        f"{chosen.cv_accuracy:.4f}; refit on all training data for {chosen.epochs} epochs"
        + refit_decay_text(chosen.weight_decay, chosen.refit_weight_decay)
        + "."
    )
    if math.isnan(chosen.test_accuracy):
        lines.append("Test accuracy: none measured (the data had no test set).")
    else:
        lines.append(
            f"Test accuracy: chosen {chosen.test_accuracy:.4f} (loss {chosen.test_loss:.4f})"
            + (
                f", baseline {baseline.test_accuracy:.4f} (loss {baseline.test_loss:.4f})"
                if baseline is not None
                else ""
            )
            + "."
        )
    if baseline is not None:
        lines += comparison_lines(study, chosen.trial_number, config.rope)
    lines += cv_gap_lines(study, chosen.trial_number, chosen.test_accuracy)
    lines += epoch_cap_lines(study, chosen.trial_number, name_of)
    lines += family_lines(study, config.rope)
    nested = study.user_attrs.get(records.NESTED)
    if nested:
        lines += ["", *nested_lines(nested), ""]
    for doubt in doubts(completed, chosen):
        lines.append(f"Warning: {render(doubt, name_of)}")
    if chosen.model_path:
        lines.append(f"Model saved to {chosen.model_path}")
    lines += [
        "",
        "Inspect the study:",
        *(f"  {c}" for c in next_commands(config, study.study_name)),
    ]
    return "\n".join(lines)


def next_commands(config: StudyConfig, study_name: str) -> list[str]:
    """The commands that show a finished study: inspect, report, and optuna-dashboard with
    the study's figures (:mod:`regsearch.present.dashboard`)."""
    storage = shlex.quote(redact_url(config.storage))
    name = shlex.quote(study_name)
    artifacts = shlex.quote(str(config.artifact_dir or default_artifact_dir(config.storage)))
    return [
        f"python -m regsearch.inspect --storage {storage} --study {name}",
        f"python -m regsearch.report --storage {storage} --study {name}",
        f"optuna-dashboard {storage} --artifact-dir {artifacts}",
    ]
