"""Workload W: the L2 search a scikit-learn user writes with skorch and ``GridSearchCV``,
against the same search with regsearch's parts, in one process; with the MLP (3 epochs) or
the built-in CNN (2 epochs)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from regsearch.config import TrainSettings
from regsearch.data import Dataset

W_TRAIN_ROWS = 12000
W_LAMBDAS = (1e-4, 1e-3, 1e-2)
W_FOLDS = 5
W_EPOCHS = 3
W_EPOCHS_OF = {"mlp": W_EPOCHS, "cnn": 2}
"""Epochs per fold of each model's workload."""


@dataclass(frozen=True)
class SearchTiming:
    name: str
    seconds: float
    cv_accuracy: float
    test_accuracy: float
    chosen_l2: float


def workload_w_regsearch(
    ds: Dataset, batch_size: int, lr: float, seed: int, model: str = "mlp"
) -> SearchTiming:
    """Workload W with regsearch's own parts: the same folds, objective, trainer and refit as a
    study, with the three lambdas enqueued (in memory, no baseline trial)."""
    import optuna

    from regsearch.backends import get_backend
    from regsearch.config import SearchSpace, StudyConfig
    from regsearch.cv.folds import make_folds
    from regsearch.cv.objective import CrossValidationObjective
    from regsearch.cv.pruning import PruningPolicy
    from regsearch.cv.refit import refit_and_test
    from regsearch.models import model_factory
    from regsearch.run.training_plan import auto_pruner

    start = time.perf_counter()
    epochs = W_EPOCHS_OF[model]
    settings = TrainSettings(epochs=epochs, batch_size=batch_size, lr=lr, patience=epochs)
    trainer = get_backend("torch").trainer(
        ds.x_train,
        ds.y_train,
        ds.n_classes,
        settings,
        model_factory(model, "torch", settings.hidden),
    )
    folds = make_folds(ds.y_train, W_FOLDS, seed)
    space = SearchSpace(penalties=("l2",), lambda_min=min(W_LAMBDAS), lambda_max=max(W_LAMBDAS))
    # The default path: folds at once with the epochs pruner where the model allows it.
    config = StudyConfig(
        backend="torch",
        folds=W_FOLDS,
        seed=seed,
        pruner=auto_pruner(trainer),
        space=space,
        train=settings,
    )
    objective = CrossValidationObjective(
        trainer, ds, folds, config, PruningPolicy(config.pruner, W_FOLDS, epochs)
    )
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize")
    for value in W_LAMBDAS:
        study.enqueue_trial({"penalty": "l2", "l2": value})
    study.optimize(objective, n_trials=len(W_LAMBDAS))
    refit = refit_and_test(trainer, ds, study.best_trial, seed)
    return SearchTiming(
        f"regsearch (batch {batch_size}, lr {lr:g})",
        time.perf_counter() - start,
        study.best_value,
        refit.test_accuracy,
        refit.l2,
    )


def workload_w_skorch(ds: Dataset, seed: int, model: str = "mlp") -> SearchTiming:
    """Workload W as a scikit-learn user writes it: ``GridSearchCV`` over a skorch
    ``NeuralNetClassifier`` whose ``get_loss`` adds the L2 penalty (batch 128), with the same
    network as regsearch's ``model``."""
    import torch
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from skorch import NeuralNetClassifier

    from regsearch.backends.torch_ops import penalized_weights
    from regsearch.models.cnn import torch_cnn
    from regsearch.models.mlp import torch_mlp

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if model == "cnn":
                height, width, channels = ds.example_shape
                self.net = torch_cnn((channels, height, width), ds.n_classes)
            else:
                self.net = torch_mlp(ds.example_shape, (128,), ds.n_classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if model == "cnn":
                x = x.permute(0, 3, 1, 2)  # the data's channels last, as PyTorch wants them
            return self.net(x)

    class L2Net(NeuralNetClassifier):
        def __init__(self, module: Any, lambda2: float = 0.0, **kwargs: Any) -> None:
            super().__init__(module, **kwargs)
            self.lambda2 = lambda2

        def get_loss(self, y_pred: Any, y_true: Any, X: Any = None, training: bool = False) -> Any:
            loss = super().get_loss(y_pred, y_true, X=X, training=training)
            return loss + self.lambda2 * sum(
                w.square().sum() for w in penalized_weights(self.module_)
            )

    torch.manual_seed(seed)
    net = L2Net(
        Net,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=W_EPOCHS_OF[model],
        batch_size=128,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )
    start = time.perf_counter()
    search = GridSearchCV(
        net,
        {"lambda2": list(W_LAMBDAS)},
        cv=StratifiedKFold(W_FOLDS, shuffle=True, random_state=seed),
        scoring="accuracy",
        refit=True,
    )
    search.fit(ds.x_train, ds.y_train)
    seconds = time.perf_counter() - start
    test_accuracy = float(np.mean(search.predict(ds.x_test) == ds.y_test))
    return SearchTiming(
        "skorch + GridSearchCV (batch 128)",
        seconds,
        float(search.best_score_),
        test_accuracy,
        float(search.best_params_["lambda2"]),
    )


def compare_with_skorch(
    full: Dataset, batch_size: int, lr: float, seed: int, model: str = "mlp"
) -> None:
    """Workload W with ``model``, both tools in this process, and a machine-readable line."""
    n = W_TRAIN_ROWS
    ds = Dataset(
        f"mnist[:{n}]",
        full.x_train[:n],
        full.y_train[:n],
        full.x_test,
        full.y_test,
        full.n_classes,
    )
    print(
        f"\nWorkload W ({model}): {ds.describe()}; L2 with lambda in {list(W_LAMBDAS)}, "
        f"{W_FOLDS} stratified folds, {W_EPOCHS_OF[model]} epochs, refit of the best on all "
        f"{n}, one test.",
        flush=True,
    )
    peer = workload_w_skorch(ds, seed, model)
    ours = workload_w_regsearch(ds, batch_size, lr, seed, model)
    print(f"{'tool':<34} {'wall s':>7} {'CV acc':>7} {'test acc':>9} {'chosen l2':>10}")
    for t in (peer, ours):
        print(
            f"{t.name:<34} {t.seconds:7.1f} {t.cv_accuracy:7.4f} {t.test_accuracy:9.4f} "
            f"{t.chosen_l2:10.0e}"
        )
    print(
        (f"w_model={model} " if model != "mlp" else "")
        + f"w_time_fraction={ours.seconds / peer.seconds:.3f} "
        f"w_cv_regsearch={ours.cv_accuracy:.4f} w_cv_skorch={peer.cv_accuracy:.4f}"
    )
