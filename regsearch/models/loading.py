"""Turn a ``--model`` value into a model factory: ``mlp``, ``cnn``, ``package.module:function``,
``path/to/file.py:function``, or (in Python) any callable.

A study records a model by its *spec*: the text as given, or a callable's
``module:qualified_name``. A worker process or a resumed run finds the same model by loading
that spec again, so a callable must be importable there (a module-level function, not a lambda
or a function defined inside another).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from regsearch.errors import ModelError, param

BUILTIN_MODELS: tuple[str, ...] = ("mlp", "cnn")

ModelSpec = str | Callable[[tuple[int, ...], int], Any]
"""What ``--model`` / ``StudyConfig.model`` takes: a name, a ``module:function`` or
``file.py:function`` reference, or a callable ``build(input_shape, n_classes)``."""

_REFERENCE = re.compile(r"^(?P<where>.+):(?P<name>[A-Za-z_][\w.]*)$")


def spec_text(spec: ModelSpec) -> str:
    """How a study names its model: the text as given, or a callable's
    ``module:qualified_name``."""
    if isinstance(spec, str):
        return spec
    module = getattr(spec, "__module__", None) or type(spec).__module__
    name = getattr(spec, "__qualname__", None) or type(spec).__qualname__
    return f"{module}:{name}"


def model_label(spec: ModelSpec) -> str:
    """A short name for study names: ``cnn``, a file's stem or module's last part
    (``my_cnn``), or a callable's name."""
    if callable(spec):
        return str(getattr(spec, "__name__", type(spec).__name__))
    match = _REFERENCE.match(spec)
    if match is None:
        return spec
    where = match["where"]
    return Path(where).stem if where.endswith(".py") else where.rsplit(".", 1)[-1]


def importable(spec: ModelSpec) -> bool:
    """Whether :func:`spec_text` of a callable names it so that another process finds it."""
    if isinstance(spec, str):
        return True
    text = spec_text(spec)
    return "<locals>" not in text and "<lambda>" not in text


def check_spec(spec: ModelSpec) -> None:
    """Refuse a ``--model`` value that cannot name a model, before anything is loaded.

    Raises:
        ModelError: neither a built-in name, a ``where:function`` reference nor a callable.
    """
    if callable(spec):
        return
    if not isinstance(spec, str) or not (spec in BUILTIN_MODELS or _REFERENCE.match(spec)):
        raise ModelError(
            f"{param('model')} must be mlp, cnn, package.module:function or "
            f"path/to/file.py:function (in Python also a callable), got {spec!r}. Example: "
            f"{param('model')} models/my_cnn.py:build"
        )


def load_builder(spec: ModelSpec) -> Callable[[tuple[int, ...], int], Any]:
    """The user's ``build(input_shape, n_classes)`` named by a reference (or the callable).

    Raises:
        ModelError: the module or file cannot be found or imported, it has no such attribute,
            or the attribute is not callable.
    """
    check_spec(spec)
    if callable(spec):
        return spec
    assert isinstance(spec, str)
    match = _REFERENCE.match(spec)
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
