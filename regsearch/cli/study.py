"""``python -m regsearch.study``: search the regularization of a network from the command line.

Parses the options (:mod:`regsearch.cli.arguments`) into a
:class:`~regsearch.config.StudyConfig`, runs the study through the library's one orchestration
(:class:`~regsearch.run.StudyRun`), and prints a line per trial and a summary
(:mod:`regsearch.present.text`). Every refused input exits with status 2 and one message,
before anything is stored.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from regsearch.cli.arguments import config_from_args, parse_args
from regsearch.config.data_settings import check_data_files
from regsearch.errors import EXIT_INTERRUPTED, RefitElsewhere, RegsearchError
from regsearch.options import flag

if TYPE_CHECKING:
    from regsearch.config import StudyConfig
    from regsearch.observe.base import Observer
    from regsearch.run.session import StudySession


def main(argv: Sequence[str] | None = None) -> int:
    parser, args = parse_args(argv)

    def fail(error: RegsearchError) -> int:
        print(f"{parser.prog}: error: {error.render(flag)}", file=sys.stderr)
        return error.exit_code

    try:
        config = config_from_args(args)
        # A missing data file is said before the line that announces the study.
        check_data_files(config.dataset, config.test_data)
    except RegsearchError as exc:
        return fail(exc)

    # The library (optuna, scikit-learn) loads only once the options are known to be valid.
    import functools

    import optuna

    from regsearch.interrupt import handle_stop_signals
    from regsearch.locations import redact_url
    from regsearch.observe import standard_observers
    from regsearch.observe.progress import StudyProgress
    from regsearch.present.dashboard import show_on_dashboard
    from regsearch.present.text import summary
    from regsearch.run import FrontDoor, StudyRun

    # regsearch prints its own line per trial; Optuna would add a traceback for Ctrl-C.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    print(header(config, redact_url(config.storage)), flush=True)

    def observers(session: StudySession) -> Observer:
        shown = session.config
        return standard_observers(
            shown,
            lines=not args.quiet,
            bar=StudyProgress.wanted(args.quiet) and shown.workers == 1 and not shown.refit_only,
            total=max(0, shown.trials - session.finished_trials()),
        )

    door = FrontDoor(
        log=functools.partial(print, flush=True),
        observers=observers,
        lines=not args.quiet,
        render=flag,
        publish=show_on_dashboard if config.dashboard else None,
    )
    run = StudyRun(config, door)
    try:
        with handle_stop_signals():
            result = run.execute()
    except RefitElsewhere as exc:
        print(f"Trials done. The refit is not this worker's: {exc.render(flag)}")
        return 0
    except RegsearchError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        done = ""
        with contextlib.suppress(Exception):  # the storage may be what was interrupted
            if run.session is not None:
                done = (
                    f"{run.session.finished_trials()} of {run.session.config.trials} trials of "
                    f"{run.session.config.name!r} are finished and "
                )
        print(
            f"\nInterrupted: {done}stored in {redact_url(config.storage)}; rerun the same "
            "command to resume.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    assert result is not None  # the door asks for the refit
    print(summary(result, config, name_of=flag))
    chosen = result.chosen
    if not all(math.isfinite(v) for v in (chosen.test_accuracy, chosen.test_loss)):
        return 1
    return 0


def header(config: StudyConfig, storage: str) -> str:
    """The run's first line: the study, where it is stored, and what it searches."""
    nested = (
        f", nested in {config.outer_folds} outer folds" if config.outer_folds is not None else ""
    )
    return (
        f"regsearch: study {config.name!r} in {storage}: backend "
        f"{config.backend}, {config.describe_splits()}, {config.trials} trials, penalties "
        f"{','.join(config.space.penalties)}, lambda in "
        f"[{config.space.lambda_min:g}, {config.space.lambda_max:g}], "
        + (
            f"weight_decay in [{config.space.decay_min:g}, {config.space.decay_max:g}], "
            if config.space.decays
            else ""
        )
        + f"pruner {config.pruner}"
        + (f", {config.workers} workers" if config.workers > 1 else "")
        + nested
    )
