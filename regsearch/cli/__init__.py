"""The commands' logic: the study command (:mod:`~regsearch.cli.study`), inspect and report,
and the option table rendered as argparse and TOML (:mod:`~regsearch.cli.arguments`,
:mod:`~regsearch.cli.config_file`). ``python -m regsearch.study|inspect|report`` are thin entry
points onto them."""
