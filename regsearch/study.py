"""``python -m regsearch.study``: search the regularization of a network from the command line.

Parses the options (:mod:`regsearch.options`) into a :class:`~regsearch.config.StudyConfig`,
runs the study through the library (:mod:`regsearch.run`), and prints a line per trial and a
summary (:mod:`regsearch.present.text`). Every refused input exits with status 2 and one
message, before anything is stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import sys
from collections.abc import Sequence

from regsearch.errors import EXIT_INTERRUPTED, RefitElsewhere, RegsearchError
from regsearch.options import config_from_args, flag, parse_args


def main(argv: Sequence[str] | None = None) -> int:
    parser, args = parse_args(argv)

    def fail(error: RegsearchError) -> int:
        print(f"{parser.prog}: error: {error.render(flag)}", file=sys.stderr)
        return error.exit_code

    try:
        config = config_from_args(args)
    except RegsearchError as exc:
        return fail(exc)

    import optuna

    from regsearch.config import StudyConfig
    from regsearch.data import Dataset
    from regsearch.interrupt import handle_stop_signals
    from regsearch.locations import redact_url
    from regsearch.observe import standard_observers
    from regsearch.observe.progress import StudyProgress
    from regsearch.present.nested import outer_line
    from regsearch.present.text import summary
    from regsearch.run import StudyResult, api
    from regsearch.run.nested import outer_studies, summarize
    from regsearch.run.session import StudySession, load_study_data

    # regsearch prints its own line per trial; Optuna would add a traceback for Ctrl-C.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    nested = (
        f", nested in {config.outer_folds} outer folds" if config.outer_folds is not None else ""
    )
    print(
        f"regsearch: study {config.name!r} in {redact_url(config.storage)}: backend "
        f"{config.backend}, {config.describe_splits()}, {config.trials} trials, penalties "
        f"{','.join(config.space.penalties)}, lambda in "
        f"[{config.space.lambda_min:g}, {config.space.lambda_max:g}], pruner {config.pruner}"
        + (f", {config.workers} workers" if config.workers > 1 else "")
        + nested,
        flush=True,
    )
    say = functools.partial(print, flush=True)
    session: StudySession | None = None

    def run(config: StudyConfig, dataset: Dataset | None = None) -> StudyResult:
        nonlocal session
        session = api.open_session(config, dataset=dataset, log=say)
        missing = max(0, config.trials - session.finished_trials())
        observers = standard_observers(
            config,
            lines=not args.quiet,
            bar=StudyProgress.wanted(args.quiet) and config.workers == 1 and not config.refit_only,
            total=missing,
        )
        try:
            new_trials = api.optimize(
                session, observers, dataset=dataset, lines=not args.quiet, render=flag
            )
        finally:
            observers.close()
        chosen, baseline = api.refit(session)
        return StudyResult(session.study, chosen, baseline, new_trials)

    try:
        with handle_stop_signals():
            dataset = None
            if config.outer_folds is not None:
                dataset = load_study_data(config, None, say)
                for fold, inner, data in outer_studies(config, dataset):
                    say(
                        f"\nOuter fold {fold + 1} of {config.outer_folds}: the whole search, "
                        f"as study {inner.name!r}, on its training part ({len(data.y_train)} "
                        f"examples); its refit is tested on the held-out {len(data.y_test)}."
                    )
                    try:
                        outer = run(inner, data)
                    except RefitElsewhere as exc:
                        say(f"Trials done. The refit is not this worker's: {exc.render(flag)}")
                        continue
                    say(outer_line(outer))
                say(
                    f"\nThe search on all {len(dataset.y_train)} training examples, as study "
                    f"{config.name!r}."
                )
            result = run(config, dataset)
    except RefitElsewhere as exc:
        print(f"Trials done. The refit is not this worker's: {exc.render(flag)}")
        return 0
    except RegsearchError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        done = ""
        with contextlib.suppress(Exception):  # the storage may be what was interrupted
            if session is not None:
                done = (
                    f"{session.finished_trials()} of {session.config.trials} trials of "
                    f"{session.config.name!r} are finished and "
                )
        print(
            f"\nInterrupted: {done}stored in {redact_url(config.storage)}; rerun the same "
            "command to resume.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if config.outer_folds is not None:
        assert session is not None
        if summarize(config, result.study, session.storage) is None:
            print(
                "\nNested cross-validation: some inner studies are not refit yet (another "
                "worker refits them); rerun this command when they are to see the estimate."
            )
    try:
        if config.dashboard:
            main_config = dataclasses.replace(config, outer_folds=None)
            api.show_on_dashboard(result.study, main_config, say)
    except RegsearchError as exc:
        return fail(exc)
    print(summary(result, config, name_of=flag))
    chosen = result.chosen
    if not all(math.isfinite(v) for v in (chosen.test_accuracy, chosen.test_loss)):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
