"""Scoring one configuration: the folds, the cross-validation objective, the pruning policy,
the selection rules and the refit."""
