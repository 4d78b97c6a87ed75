"""Nested cross-validation: an unbiased estimate of what the whole search achieves.

A study's best CV score is optimistic: the same folds chose the configuration and scored it.
Nested cross-validation (scikit-learn's example "Nested versus non-nested cross-validation")
splits the training set into K stratified outer folds. For each outer fold ``o`` an inner
study runs the whole search (sampling, pruning, selection, refit) on the other K - 1 parts, and
its refit model is scored once on part ``o``, which nothing in that search saw::

    nested = (1 / K) * sum_o accuracy(refit_o on outer part o)

Each inner study is a study like any other, stored beside the main one as
``<study>-outer<o>of<K>`` (resumable, inspectable), with its outer part as its test set, so its
baseline is scored there too. The main study, on all training data, gives the non-nested best
CV score and the one test-set score. :func:`summarize` reads all of it back from the storage
and writes the comparison into the main study as ``nested``; :mod:`regsearch.present.nested`
words it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import optuna

from regsearch import records
from regsearch.config import StudyConfig
from regsearch.cv.folds import make_folds
from regsearch.data import Dataset
from regsearch.penalty import Penalty


def outer_study_name(name: str, fold: int, outer_folds: int) -> str:
    """``<name>-outer<fold + 1>of<outer_folds>``: the inner study of outer fold ``fold``."""
    return f"{name}-outer{fold + 1}of{outer_folds}"


def outer_studies(
    config: StudyConfig, dataset: Dataset
) -> Iterator[tuple[int, StudyConfig, Dataset]]:
    """Each outer fold (0-based) and its inner study: the study's settings (``config`` under
    its own name, not nested again) and its data (the outer training part, with the held-out
    part as the test set).

    The outer folds are stratified and shuffled with ``config.seed``
    (:func:`~regsearch.cv.folds.make_folds`), so a rerun finds the same inner studies.
    """
    k = config.outer_folds
    if k is None:
        return
    splits = make_folds(dataset.y_train, k, config.seed, option="outer_folds")
    for fold, (train, held_out) in enumerate(splits):
        inner = dataclasses.replace(
            config, study_name=outer_study_name(config.name, fold, k), outer_folds=None
        )
        data = dataclasses.replace(
            dataset,
            x_train=dataset.x_train[train],
            y_train=dataset.y_train[train],
            x_test=dataset.x_train[held_out],
            y_test=dataset.y_train[held_out],
            held_out=(
                f"the held-out part of outer fold {fold + 1} of {k} of the "
                f"{len(dataset.y_train)} training examples"
            ),
            sampled=None,  # the outer split is said in held_out; a sample note would mislead
        )
        yield fold, inner, data


def summarize(
    config: StudyConfig, study: optuna.Study, storage: str | optuna.storages.BaseStorage
) -> dict[str, Any] | None:
    """Read the finished inner studies of ``config`` and the main ``study`` back from
    ``storage``, store the comparison in ``study`` as ``nested`` and return it; ``None`` (nothing
    stored) while an inner study or the main one has no refit yet.

    The record: ``outer`` (per outer fold: its study, chosen trial, penalty, lambdas, inner CV
    score, accuracy on its held-out part and the baseline's there), ``nested_accuracy`` and
    ``nested_std`` (mean and population standard deviation over the outer folds, as
    scikit-learn's ``std_test_score``), ``baseline_nested_accuracy``, and the main study's
    ``cv_accuracy`` (the non-nested score) and ``test_accuracy``.
    """
    k = config.outer_folds
    main = records.refit_record(study)
    if k is None or not main:
        return None
    outer = []
    for fold in range(k):
        name = outer_study_name(config.name, fold, k)
        try:
            inner = optuna.load_study(study_name=name, storage=storage)
        except KeyError:
            return None
        refit, baseline = records.refit_record(inner), records.baseline_refit_record(inner)
        if not refit:
            return None
        outer.append(
            {
                "fold": fold + 1,
                "study": name,
                "trial_number": refit["trial_number"],
                "penalty": refit["penalty"],
                **Penalty.of(refit).strengths(),
                "inner_cv_accuracy": refit["cv_accuracy"],
                "accuracy": refit["test_accuracy"],
                "baseline_accuracy": baseline.get("test_accuracy"),
            }
        )
    scores = [o["accuracy"] for o in outer]
    baselines = [o["baseline_accuracy"] for o in outer if o["baseline_accuracy"] is not None]
    record = {
        "outer_folds": k,
        "outer": outer,
        "nested_accuracy": float(np.mean(scores)),
        "nested_std": float(np.std(scores)),
        "baseline_nested_accuracy": float(np.mean(baselines)) if len(baselines) == k else None,
        "cv_accuracy": main["cv_accuracy"],
        "test_accuracy": main["test_accuracy"],
        "penalty": main["penalty"],
        **Penalty.of(main).strengths(),
    }
    study.set_user_attr(records.NESTED, record)
    return record
