"""``python -m regsearch.report``: an HTML page with PNG figures of one study.

The page and its figures (:mod:`regsearch.present.figures`) are written to ``--out`` (default:
``<study file stem>-report/`` beside a SQLite storage, else under ``./studies``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from regsearch.config import DEFAULT_STORAGE
from regsearch.errors import EXIT_USAGE, ConfigError


def default_out(url: str, study_name: str) -> Path:
    from regsearch.locations import artifacts_dir, safe_file_stem

    return artifacts_dir(url) / f"{safe_file_stem(study_name)}-report"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m regsearch.report",
        description="Write an HTML report with figures of one study; prints the page's path.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="Optuna storage URL")
    parser.add_argument("--study", required=True, help="the study to report on")
    parser.add_argument(
        "--out", default=None, help="folder for the page and figures (default: beside the study)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import optuna

    from regsearch.present.reading import load_study_for_reading

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study = load_study_for_reading(args.storage, args.study)
        out = Path(args.out) if args.out else default_out(args.storage, args.study)
        from regsearch.present.figures import write_report

        path = write_report(study, out)
    except ModuleNotFoundError as exc:
        print(
            f"{parser.prog}: error: the report needs {exc.name}: pip install 'regsearch[report]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(path)
    return 0
