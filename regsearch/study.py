"""``python -m regsearch.study``: search the regularization of a network from the command line.

Parses the options into a :class:`~regsearch.config.StudyConfig`, runs the study, and prints a
line per trial and a summary. Every refused input exits with status 2 and one message, before
anything is stored.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regsearch.config import (
    BACKENDS,
    DATA_DIR_ENV,
    DEFAULT_PRUNER,
    DEFAULT_STORAGE,
    PENALTY_TYPES,
    PRUNERS,
    SELECTION_RULES,
    ConfigError,
    SearchSpace,
    StudyConfig,
    TrainSettings,
    parse_hidden,
    parse_penalties,
)

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

    from regsearch.backends import Fit
    from regsearch.penalty import Penalty
    from regsearch.runner import StudyResult

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.required:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    defaults_train, defaults_space = TrainSettings(), SearchSpace()
    parser = argparse.ArgumentParser(
        prog="python -m regsearch.study",
        description=(
            "Search the penalty type (L1, L2, L1+L2) and strength of a network's weight "
            "regularization with Optuna, scoring each configuration by stratified k-fold "
            "cross-validation; then retrain the best on the whole training set and test it once."
        ),
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--config",
        default=None,
        help="a TOML file of these options (keys as the long option names, e.g. "
        "lambda-min = 1e-6, hidden = [256, 128]); flags given here override it",
    )
    parser.add_argument("--backend", required=True, choices=BACKENDS, help="tf (Keras) or torch")
    parser.add_argument("--folds", type=int, default=5, help="k of the stratified k-fold CV")
    parser.add_argument(
        "--trials",
        type=int,
        default=20,
        help="finished trials the study should reach; a rerun adds only the missing ones",
    )
    parser.add_argument(
        "--penalties",
        default=",".join(PENALTY_TYPES),
        help="comma-separated penalty types the sampler may choose",
    )
    parser.add_argument(
        "--lambda-min",
        type=float,
        default=defaults_space.lambda_min,
        help="lower end of each lambda's log-uniform range (> 0)",
    )
    parser.add_argument(
        "--lambda-max",
        type=float,
        default=defaults_space.lambda_max,
        help="upper end of each lambda's log-uniform range",
    )
    parser.add_argument(
        "--dataset",
        default="mnist",
        help="mnist, digits (scikit-learn's 8x8 digits, offline) or a path to an .npz with "
        "x_train, y_train, x_test, y_test",
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(DATA_DIR_ENV, "data"),
        help=f"folder with MNIST's IDX .gz files (flat or MNIST/raw); env {DATA_DIR_ENV}",
    )
    parser.add_argument(
        "--epochs", type=int, default=defaults_train.epochs, help="maximum epochs per fold"
    )
    parser.add_argument(
        "--batch-size", type=int, default=defaults_train.batch_size, help="mini-batch size"
    )
    parser.add_argument("--lr", type=float, default=defaults_train.lr, help="Adam learning rate")
    parser.add_argument(
        "--hidden",
        default=",".join(map(str, defaults_train.hidden)),
        help="hidden layer widths, e.g. 256,128 for two layers",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=defaults_train.patience,
        help="epochs without a lower validation loss before a fold stops early",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="one seed for folds, sampler and model initialisation"
    )
    parser.add_argument(
        "--pruner",
        default=DEFAULT_PRUNER,
        choices=PRUNERS,
        help="stop hopeless configurations after a fold or two (none: score every fold)",
    )
    parser.add_argument(
        "--select",
        default="best",
        choices=SELECTION_RULES,
        help="which configuration to refit: best (highest mean CV accuracy) or one-se (the most "
        "strongly regularized within one standard error of the best)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes running trials at once on this machine, sharing the cores and the "
        "study (through --storage); the refit runs once, after all of them",
    )
    parser.add_argument(
        "--heartbeat-interval",
        type=int,
        default=60,
        help="seconds between a running trial's heartbeats in the storage",
    )
    parser.add_argument(
        "--grace-period",
        type=int,
        default=180,
        help="seconds without a heartbeat after which a running trial counts as dead: the next "
        "run marks it failed and retries its configuration once",
    )
    parser.add_argument(
        "--tensorboard",
        default=None,
        metavar="DIR",
        help="write each fold's per-epoch losses, accuracies and penalty term for TensorBoard "
        "(tensorboard --logdir DIR)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no line per trial; the summary only",
    )
    parser.add_argument(
        "--refit-only",
        action="store_true",
        help="run no trials: refit and test the chosen configuration of the stored study now "
        "(taking over from a worker that claimed the refit and died)",
    )
    parser.add_argument("--optimize-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="Optuna storage URL")
    parser.add_argument(
        "--study-name", default=None, help="study name; by default <dataset>-<backend>"
    )
    return parser


_NOT_IN_FILES = {"help", "config", "optimize_only", "worker_index", "refit_only"}


def read_config_file(path: str, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The options of a TOML file as parser defaults (``dest -> value``).

    Lists become the comma-separated text the flags take; values with choices are checked
    here, since argparse checks only what is typed on the command line.

    Raises:
        ConfigError: unreadable file, invalid TOML, unknown keys (all named) or a bad choice.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc.strerror}).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {path} is not valid TOML: {exc}.") from exc
    actions = {a.dest: a for a in parser._actions if a.dest not in _NOT_IN_FILES}
    unknown = [key for key in data if key.replace("-", "_") not in actions]
    if unknown:
        known = ", ".join(sorted(d.replace("_", "-") for d in actions))
        raise ConfigError(
            f"--config {path} has unknown key(s): {', '.join(map(repr, unknown))}. "
            f"Known keys: {known}."
        )
    values: dict[str, Any] = {}
    for key, value in data.items():
        action = actions[key.replace("-", "_")]
        if isinstance(value, list):
            value = ",".join(map(str, value))
        if action.choices is not None and value not in action.choices:
            raise ConfigError(
                f"--config {path}: {key} must be one of "
                f"{', '.join(map(str, action.choices))}, got {value!r}."
            )
        values[action.dest] = value
    return values


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """Parse the command line over the defaults of ``--config``'s file, if given."""
    parser = build_parser()
    peek = argparse.ArgumentParser(add_help=False)
    peek.add_argument("--config")
    path = peek.parse_known_args(argv)[0].config
    if path is not None:
        try:
            values = read_config_file(path, parser)
        except ConfigError as exc:
            parser.exit(EXIT_USAGE, f"{parser.prog}: error: {exc}\n")
        parser.set_defaults(**values)
        for action in parser._actions:
            if action.dest in values:
                action.required = False  # given by the file
    return parser, parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> StudyConfig:
    return StudyConfig(
        backend=args.backend,
        dataset=args.dataset,
        data_dir=Path(args.data_dir),
        folds=args.folds,
        trials=args.trials,
        seed=args.seed,
        storage=args.storage,
        study_name=args.study_name,
        pruner=args.pruner,
        heartbeat_interval=args.heartbeat_interval,
        grace_period=args.grace_period,
        select=args.select,
        space=SearchSpace(
            penalties=parse_penalties(args.penalties),
            lambda_min=args.lambda_min,
            lambda_max=args.lambda_max,
        ),
        train=TrainSettings(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            hidden=parse_hidden(args.hidden),
            patience=args.patience,
        ),
    )


def _fmt_lambda(value: float) -> str:
    return f"{value:.2e}" if value else "-"


def _fmt_params(user_attrs: dict[str, Any], params: dict[str, Any]) -> str:
    kind = user_attrs.get("penalty", params.get("penalty", "?"))
    return (
        f"{kind:<6} l1={_fmt_lambda(params.get('l1', 0.0)):<9} "
        f"l2={_fmt_lambda(params.get('l2', 0.0)):<9}"
    )


def trial_line(trial: FrozenTrial) -> str:
    """One line for a finished trial: number, penalty, lambdas, score or reason, time."""
    from optuna.trial import TrialState

    seconds = trial.duration.total_seconds() if trial.duration else 0.0
    head = f"trial {trial.number:>3}  {_fmt_params(trial.user_attrs, trial.params)}"
    if trial.state == TrialState.COMPLETE:
        mean = trial.user_attrs["mean_test_accuracy"]
        std = trial.user_attrs["std_test_accuracy"]
        tail = "  (baseline, no penalty)" if trial.user_attrs.get("baseline") else ""
        return f"{head}  acc {mean:.4f} ± {std:.4f}  {seconds:6.1f} s{tail}"
    reason = trial.user_attrs.get("state_reason", trial.state.name.lower())
    return f"{head}  {reason}  ({seconds:.1f} s)"


def summary(result: StudyResult, config: StudyConfig, top: int = 5) -> str:
    """The closing table: best trials, baseline, chosen configuration, test results, commands."""
    from optuna.trial import TrialState

    from regsearch.storage import redact_url

    study = result.study
    completed = sorted(
        study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
        key=lambda t: -(t.value or 0.0),
    )
    n_pruned = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    n_failed = len(study.get_trials(deepcopy=False, states=(TrialState.FAIL,)))
    lines = [
        "",
        f"Study {study.study_name!r}: {len(completed)} complete, {n_pruned} pruned, "
        f"{n_failed} failed trials; score = mean validation accuracy over {config.folds} folds.",
        "",
        f"{'rank':>4}  {'trial':>5}  {'penalty':<6} {'l1':>12} {'l2':>12}  "
        f"{'accuracy':>16}  {'best epochs'}",
    ]
    for rank, t in enumerate(completed[:top], start=1):
        epochs = [t.user_attrs.get(f"split{i}_best_epoch") for i in range(config.folds)]
        lines.append(
            f"{rank:>4}  {t.number:>5}  {t.user_attrs.get('penalty', '?'):<6} "
            f"{_fmt_lambda(t.params.get('l1', 0.0)):>12} {_fmt_lambda(t.params.get('l2', 0.0)):>12}"
            f"  {t.value:.4f} ± {t.user_attrs['std_test_accuracy']:.4f}  "
            f"{','.join(str(e) for e in epochs)}"
        )
    chosen, baseline = result.chosen, result.baseline
    lines.append("")
    if baseline is not None:
        rank = next(i for i, t in enumerate(completed, 1) if t.number == baseline.trial_number)
        lines.append(
            f"Baseline (no penalty): trial {baseline.trial_number}, CV accuracy "
            f"{baseline.cv_accuracy:.4f}, rank {rank} of {len(completed)}."
        )
    penalty_text = (
        "no penalty: regularization did not beat the unregularized baseline"
        if chosen.penalty == "none"
        else f"{chosen.penalty}"
        + (f", l1={chosen.l1:.3g}" if chosen.l1 else "")
        + (f", l2={chosen.l2:.3g}" if chosen.l2 else "")
    )
    rule = "" if config.select == "best" else ", by the one-standard-error rule"
    lines.append(
        f"Chosen{rule}: trial {chosen.trial_number} ({penalty_text}), CV accuracy "
        f"{chosen.cv_accuracy:.4f}; refit on all training data for {chosen.epochs} epochs."
    )
    lines.append(
        f"Test accuracy: chosen {chosen.test_accuracy:.4f} (loss {chosen.test_loss:.4f})"
        + (
            f", baseline {baseline.test_accuracy:.4f} (loss {baseline.test_loss:.4f})"
            if baseline is not None
            else ""
        )
        + "."
    )
    if baseline is not None and baseline.trial_number != chosen.trial_number:
        lines.append(_gain_over_baseline(study, chosen.trial_number, baseline.trial_number))
    chosen_epochs = [
        study.trials[chosen.trial_number].user_attrs.get(f"split{i}_best_epoch")
        for i in range(config.folds)
    ]
    if all(e == config.train.epochs for e in chosen_epochs):
        lines.append(
            f"Every fold of the chosen configuration was still improving at epoch "
            f"{config.train.epochs}; a larger --epochs may find a better model."
        )
    if chosen.model_path:
        lines.append(f"Model saved to {chosen.model_path}")
    storage = redact_url(config.storage)
    name = study.study_name
    lines += [
        "",
        "Inspect the study:",
        f"  python -m regsearch.inspect --storage {storage} --study {_shell_quote(name)}",
        f"  python -m regsearch.report --storage {storage} --study {_shell_quote(name)}",
        f"  optuna-dashboard {storage}",
    ]
    return "\n".join(lines)


def _gain_over_baseline(study: optuna.Study, chosen: int, baseline: int) -> str:
    """The chosen configuration's CV gain over the baseline, against the fold noise.

    The noise is the standard error of the per-fold differences (paired: both trials use the
    same folds), ``std(diff) / sqrt(k)``.
    """
    a, b = study.trials[chosen].user_attrs, study.trials[baseline].user_attrs
    keys = sorted(k for k in a if k.endswith("_test_accuracy") and k.startswith("split"))
    diffs = [a[k] - b[k] for k in keys if k in b]
    gain = sum(diffs) / len(diffs)
    se = (sum((d - gain) ** 2 for d in diffs) / len(diffs)) ** 0.5 / len(diffs) ** 0.5
    verdict = (
        "larger than the fold-to-fold noise"
        if abs(gain) > 2 * se
        else "within the fold-to-fold noise: regularization made no clear difference"
    )
    return (
        f"Gain over the baseline: {100 * gain:+.2f} percentage points of CV accuracy "
        f"(paired standard error {100 * se:.2f}), {verdict}."
    )


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser, args = parse_args(argv)
    try:
        config = config_from_args(args)
        if args.workers < 1:
            raise ConfigError(f"workers must be an integer >= 1, got {args.workers}.")
    except ConfigError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    import optuna
    import sqlalchemy

    from regsearch.backends import BackendUnavailable
    from regsearch.data import DataError
    from regsearch.interrupt import handle_stop_signals
    from regsearch.refit import RefitError
    from regsearch.runner import (
        NothingToRefit,
        RefitElsewhere,
        StudyMismatch,
        StudyResult,
        StudySession,
    )
    from regsearch.storage import describe_storage_failure, redact_url

    # regsearch prints its own line per trial; Optuna would add a traceback for Ctrl-C.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    prefix = f"[worker {args.worker_index}] " if args.optimize_only else ""

    def run_trials(session: StudySession) -> int:
        """``session.optimize`` with the trial lines, the progress bar and TensorBoard."""
        from regsearch.progress import StudyProgress

        missing = max(0, config.trials - session.finished_trials())
        show_bar = not args.optimize_only and StudyProgress.wanted(args.quiet)
        progress = StudyProgress(missing, config.folds, enabled=show_bar)
        board = None
        if args.tensorboard:
            from regsearch.tensorboard import TensorBoardLogger

            board = TensorBoardLogger(Path(args.tensorboard), config.backend)

        def on_fold(number: int, fold: int, penalty: Penalty, fit: Fit) -> None:
            if board is not None:
                board(number, fold, penalty, fit)
            progress.on_fold(number, fold, penalty, fit)

        def on_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            progress.on_trial(study, trial)
            if not args.quiet:
                progress.print(prefix + trial_line(trial))

        try:
            return session.optimize(on_trial, on_fold)
        finally:
            progress.close()

    def log(message: str) -> None:
        if not args.optimize_only:
            print(message, flush=True)

    if not args.optimize_only:
        print(
            f"regsearch: study {config.name!r} in {redact_url(config.storage)}: backend "
            f"{config.backend}, {config.folds} folds, {config.trials} trials, penalties "
            f"{','.join(config.space.penalties)}, lambda in "
            f"[{config.space.lambda_min:g}, {config.space.lambda_max:g}], pruner {config.pruner}"
            + (f", {args.workers} workers" if args.workers > 1 else ""),
            flush=True,
        )
    try:
        with handle_stop_signals():
            session = StudySession.open(config, log=log, worker=args.worker_index)
            if args.optimize_only:
                run_trials(session)
                return 0
            if args.refit_only:
                new_trials = 0
            elif args.workers > 1:
                before = session.finished_trials()
                _run_workers(list(sys.argv[1:] if argv is None else argv), args.workers)
                new_trials = session.finished_trials() - before
            else:
                new_trials = run_trials(session)
            chosen, baseline = session.refit(take_over=args.refit_only)
    except RefitElsewhere as exc:
        print(f"Trials done. The refit is not this worker's: {exc}")
        return 0
    except (ConfigError, DataError, BackendUnavailable, StudyMismatch) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (NothingToRefit, RefitError, WorkerFailed) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    except (optuna.exceptions.StorageInternalError, sqlalchemy.exc.SQLAlchemyError) as exc:
        print(
            f"{parser.prog}: error: {describe_storage_failure(exc, config.storage)}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        done = ""
        with contextlib.suppress(Exception):  # the storage may be what was interrupted
            done = f"{session.finished_trials()} of {config.trials} trials are finished and "
        print(
            f"\nInterrupted: {done}stored in {redact_url(config.storage)}; rerun the same "
            "command to resume.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    result = StudyResult(session.study, chosen, baseline, new_trials)
    print(summary(result, config))
    if not all(math.isfinite(v) for v in (chosen.test_accuracy, chosen.test_loss)):
        return 1
    return 0


class WorkerFailed(RuntimeError):
    """A worker process of ``--workers`` exited with an error."""


def _run_workers(argv: list[str], workers: int) -> None:
    """Run ``workers`` copies of this command with ``--optimize-only``, each limited to its
    share of the cores, and wait for all of them; they print their own trial lines."""
    import subprocess

    threads = max(1, (os.cpu_count() or 1) // workers)
    env = {
        **os.environ,
        # Read by PyTorch (OpenMP) and TensorFlow at start-up: one share of the cores each,
        # so N workers do not fight over the same cores.
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "TF_NUM_INTRAOP_THREADS": str(threads),
        "TF_NUM_INTEROP_THREADS": "1",
    }
    command = [sys.executable, "-m", "regsearch.study", *argv, "--workers", "1", "--optimize-only"]
    procs = [
        subprocess.Popen([*command, "--worker-index", str(i + 1)], env=env) for i in range(workers)
    ]
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        for p in procs:  # they got the same Ctrl-C; let them record their trials as failed
            p.wait()
        raise
    failed = [code for code in codes if code != 0]
    if failed:
        raise WorkerFailed(
            f"{len(failed)} of {workers} workers failed (exit status {failed[0]}); finished "
            "trials are stored, rerun the same command to resume."
        )


if __name__ == "__main__":
    sys.exit(main())
