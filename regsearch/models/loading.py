"""Load a user's ``build(input_shape, n_classes)`` named by a ``--model`` reference,
``package.module:function`` or ``path/to/file.py:function`` (see :mod:`regsearch.models.spec`
for how a spec is written and checked), with errors that point into the user's code."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from regsearch.errors import ModelError, param
from regsearch.models.spec import BUILTIN_MODELS, REFERENCE, ModelFactory, ModelSpec, check_spec


def load_builder(spec: ModelSpec) -> ModelFactory:
    """The user's ``build(input_shape, n_classes)`` named by a reference (or the callable).

    Raises:
        ModelError: the module or file cannot be found or imported, it has no such attribute,
            or the attribute is not callable.
    """
    check_spec(spec)
    if callable(spec):
        return spec
    assert isinstance(spec, str)
    match = REFERENCE.match(spec)
    if match is None or spec in BUILTIN_MODELS:
        raise ModelError(f"{param('model')} {spec} is built in, not a reference to load.")
    where, name = match["where"], match["name"]
    module = _load_file(spec, Path(where)) if where.endswith(".py") else _import(spec, where)
    target: Any = module
    for part in name.split("."):
        if not hasattr(target, part):
            defined = sorted(
                n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
            )
            raise ModelError(
                f"{param('model')} {spec}: {where} has no {name!r}. Callables defined "
                f"there: {', '.join(defined[:12]) or 'none'}."
            )
        target = getattr(target, part)
    if not callable(target):
        raise ModelError(
            f"{param('model')} {spec}: {name} is a {type(target).__name__}, not a function. It "
            "must be a function build(input_shape, n_classes) that returns a new model."
        )
    return target


def _import(spec: str, module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise ModelError(
                f"{param('model')} {spec}: no module named {module_name!r} on the Python path "
                f"(from {Path.cwd()}). Install the package, run from the folder that holds it, "
                "or give the file's path: path/to/file.py:function."
            ) from exc
        raise ModelError(_raised(spec, f"importing {module_name}", exc)) from exc
    except Exception as exc:
        raise ModelError(_raised(spec, f"importing {module_name}", exc)) from exc


def _load_file(spec: str, path: Path) -> ModuleType:
    if not path.is_file():
        raise ModelError(
            f"{param('model')} {spec}: no such file {path} (from {Path.cwd()}). Give the path of "
            "the .py file that defines the function."
        )
    # A stable name per file, so that loading the same file again reuses the module.
    name = "regsearch_user_model_" + re.sub(r"\W", "_", str(path.resolve()))
    if name in sys.modules:
        return sys.modules[name]
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise ModelError(f"{param('model')} {spec}: {path} cannot be loaded as Python.")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]
        if not isinstance(exc, Exception):
            raise
        raise ModelError(_raised(spec, f"running {path}", exc)) from exc
    return module


def _raised(spec: str, doing: str, exc: BaseException) -> str:
    """``--model SPEC: DOING raised Type: message (at file:line)``, the line being the last
    one of the user's code in the traceback."""
    return f"{param('model')} {spec}: {doing} raised {describe_exception(exc)}."


def describe_exception(exc: BaseException) -> str:
    """``Type: message (at file:line)``, at the innermost frame outside regsearch and the
    frameworks' internals where possible."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [
        f
        for f in frames
        if "regsearch" not in Path(f.filename).parts[-3:-1]
        and "site-packages" not in f.filename
        and not f.filename.startswith("<frozen")
    ]
    where = f" (at {own[-1].filename}:{own[-1].lineno})" if own else ""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}{': ' + text if text else ''}{where}"
