"""A ``--config`` TOML file's options: keys as the long option names, values converted as their
flags are (:mod:`regsearch.options`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from regsearch.errors import ConfigError
from regsearch.options import OPTIONS, Option


def read_config_file(path: str) -> dict[str, Any]:
    """The options of a TOML file as ``{parameter: value}``, converted as their flags are.

    Raises:
        ConfigError: unreadable file, invalid TOML, unknown keys (all named), a bad choice or
            a value of the wrong kind.
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
    known = {o.name: o for o in OPTIONS if o.in_files}
    unknown = [key for key in data if key.replace("-", "_") not in known]
    if unknown:
        names = ", ".join(sorted(n.replace("_", "-") for n in known))
        raise ConfigError(
            f"--config {path} has unknown key(s): {', '.join(map(repr, unknown))}. "
            f"Known keys: {names}."
        )
    values: dict[str, Any] = {}
    for key, value in data.items():
        option = known[key.replace("-", "_")]
        if option.choices is not None and value not in option.choices:
            raise ConfigError(
                f"--config {path}: {key} must be one of {', '.join(option.choices)}, got {value!r}."
            )
        values[option.name] = _from_file(option, value)
    return values


def _from_file(option: Option, value: Any) -> Any:
    if option.listed and isinstance(value, list):
        return tuple(value)  # each item is checked by the config, as a flag's would be
    if option.parse is Path or (isinstance(value, str) and option.parse is not None):
        return option.parse(str(value))
    return value
