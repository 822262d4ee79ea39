"""The ``python`` assertion type: a function in a workspace file grades the output.

``value: checks/answers.py:is_polite`` names a file inside the workspace and a
function in it, called as ``fn(output, case)``. It returns a bool, a number in
[0, 1] (passing at the threshold, default 0.5), or ``(score, reason)``. Since this
runs the workspace's code, it is opt-in: it is refused unless the workspace allows
it (``ScoringOptions.allow_python``).
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from promptdeck.core.scorers.base import AssertionContext, Outcome, ScoringOptions, assertion
from promptdeck.errors import ConfigError

__all__ = ["check_python", "load_function"]

_ALLOW_HINT = "allow workspace code in promptdeck.toml, or remove the `python` assertion"
_modules: dict[tuple[Path, int], ModuleType] = {}
_lock = threading.Lock()

MakeError = Callable[[str, str], ConfigError]


def _split(value: Any) -> tuple[str, str] | None:
    if not isinstance(value, str) or ":" not in value:
        return None
    file, _, name = value.rpartition(":")
    if not file.endswith(".py") or not name.isidentifier():
        return None
    return file, name


def _format(value: Any) -> str | None:
    if _split(value) is None:
        return "the value must be `path/to/file.py:function`"
    return None


def load_function(value: str, root: Path) -> Callable[..., Any]:
    """Import the function named by ``file.py:function`` from the workspace.

    The module is loaded once per file version (path and modification time).

    Raises:
        ValueError: When the value is malformed, the file lies outside the workspace
            or does not exist, or the name is not a function in it.
    """
    parts = _split(value)
    if parts is None:
        raise ValueError("the value must be `path/to/file.py:function`")
    file, name = parts
    path = (root / file).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"{file} lies outside the workspace")
    if not path.is_file():
        raise ValueError(f"{file} does not exist in the workspace")
    key = (path, path.stat().st_mtime_ns)
    with _lock:
        module = _modules.get(key)
        if module is None:
            spec = importlib.util.spec_from_file_location(f"promptdeck_check_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise ValueError(f"cannot load {file}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _modules[key] = module
    fn = getattr(module, name, None)
    if not callable(fn):
        raise ValueError(f"{file} has no function {name!r}")
    return fn  # type: ignore[no-any-return]


def check_python(value: Any, options: ScoringOptions, make_error: MakeError) -> None:
    """Refuse a ``python`` assertion the workspace does not allow, or whose function is missing.

    Raises:
        ConfigError: Built by ``make_error(problem, hint)``.
    """
    if not options.allow_python:
        raise make_error("runs workspace code, which this workspace does not allow", _ALLOW_HINT)
    if options.workspace_root is None:
        raise make_error("needs the workspace folder to find its file", "")
    try:
        load_function(value, options.workspace_root)
    except Exception as exc:  # the file's own import errors are the user's to fix
        raise make_error(str(exc), "check the file and the function name") from exc


def _outcome(result: Any, threshold: float) -> Outcome:
    reason = ""
    if isinstance(result, tuple) and len(result) == 2:
        result, reason = result[0], str(result[1])
    if isinstance(result, bool):
        return Outcome.check(result, reason or ("returned True" if result else "returned False"))
    if isinstance(result, int | float) and math.isfinite(result):
        value = min(1.0, max(0.0, float(result)))
        ok = value >= threshold
        return Outcome(value, ok, reason or f"returned {value:.3f} (threshold {threshold:g})")
    raise TypeError(f"the function returned {type(result).__name__}, not a bool or a number")


@assertion("python", value="required", threshold=0.5, check=_format)
def python(output: str, ctx: AssertionContext) -> Outcome:
    """A workspace function ``fn(output, case)`` returns a bool, a score or ``(score, reason)``."""
    options = ctx.options
    if not options.allow_python or options.workspace_root is None:
        raise ConfigError(
            f"{ctx.case.source}: assertion `{ctx.spec.type}` runs workspace code, "
            "which this workspace does not allow",
            _ALLOW_HINT,
        )
    fn = load_function(ctx.value, options.workspace_root)
    return _outcome(fn(output, ctx.case), ctx.threshold if ctx.threshold is not None else 0.5)
