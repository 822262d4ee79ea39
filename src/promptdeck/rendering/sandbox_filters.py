"""The Jinja2 filters that can grow text, measured before they run.

Each check takes the running :class:`~.limits.Budget` and the filter's arguments (after
the context Jinja2 passes some filters) and refuses what would be too large; ``join``
and ``sum`` get their iterable back as a list, measured once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from promptdeck.rendering.limits import Budget, current_budget, printed_size

__all__ = ["guarded_filters", "guarded_lipsum", "percent_format_size"]

#: A printf-style conversion: flags, width, precision, type.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])")

_Args = tuple[Any, ...]
_Check = Callable[[Budget, _Args, dict[str, Any]], _Args]


def _arg(args: _Args, kwargs: Mapping[str, Any], index: int, name: str, default: Any) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(budget: Budget, value: Any) -> int:
    return printed_size(value, budget.limits.max_output_bytes)


def percent_format_size(budget: Budget, template: str, args: Any) -> int:
    """Estimate what ``template % args`` makes (refusing a width or precision first)."""
    values: list[Any]
    if isinstance(args, tuple):
        values = list(args)
    elif isinstance(args, Mapping):
        values = list(args.values())
    else:
        values = [args]
    limit = budget.limits.max_output_bytes
    size = len(template)
    stars = iter(v for v in values if isinstance(v, int))
    for match in _PERCENT.finditer(template):
        for part in (match[1], match[2]):
            if part is None:
                continue
            width = next(stars, 0) if part == "*" else int(part)
            budget.check_count(abs(width), "a format width or precision")
            size += abs(width)
        if size > limit:
            break
    size += sum(printed_size(v, limit) for v in values)
    return size


def _center(budget: Budget, args: _Args, kwargs: dict[str, Any]) -> _Args:
    width = _int(_arg(args, kwargs, 1, "width", 80))
    budget.check_size(max(_text(budget, args[0]), width), "center")
    return args


def _indent(budget: Budget, args: _Args, kwargs: dict[str, Any]) -> _Args:
    text = str(args[0]) if isinstance(args[0], str) else ""
    width = _arg(args, kwargs, 1, "width", 4)
    step = len(width) if isinstance(width, str) else _int(width)
    budget.check_count(step, "indent width")
    budget.check_size(len(text) + (text.count("\n") + 1) * step, "indent")
    return args


def _format(budget: Budget, args: _Args, kwargs: dict[str, Any]) -> _Args:
    template = args[0] if isinstance(args[0], str) else str(args[0])
    size = percent_format_size(budget, template, kwargs or tuple(args[1:]))
    budget.check_size(size, "format")
    return args


def _replace(budget: Budget, args: _Args, kwargs: dict[str, Any]) -> _Args:
    text = args[0] if isinstance(args[0], str) else ""
    old, new = str(_arg(args, kwargs, 1, "old", "")), str(_arg(args, kwargs, 2, "new", ""))
    count = _arg(args, kwargs, 3, "count", None)
    hits = _int(count) if count is not None else (text.count(old) if old else len(text) + 1)
    budget.check_size(len(text) + hits * max(0, len(new) - len(old)), "replace")
    return args


def _join(budget: Budget, args: _Args, kwargs: dict[str, Any]) -> _Args:
    items = list(args[0])
    separator = str(_arg(args, kwargs, 1, "d", ""))
    size = len(separator) * len(items)
    for item in items:
        size += _text(budget, item)
        if size > budget.limits.max_output_bytes:
            break
    budget.check_size(size, "join")
    return (items, *args[1:])


def _wordwrap(budget: Budget, args: _Args, kwargs: dict[str, Any]) -> _Args:
    text = args[0] if isinstance(args[0], str) else ""
    width = max(_int(_arg(args, kwargs, 1, "width", 79)), 1)
    wrap = _arg(args, kwargs, 3, "wrapstring", None)
    lines = len(text.split()) + len(text) // width + 1
    budget.check_size(len(text) + lines * len(str(wrap or "\n")), "wordwrap")
    return args


def _count_at(index: int, name: str) -> _Check:
    def check(budget: Budget, args: _Args, kwargs: dict[str, Any]) -> _Args:
        budget.check_count(_int(_arg(args, kwargs, index, name, 0)), name)
        return args

    return check


def _sum(budget: Budget, args: _Args, kwargs: dict[str, Any]) -> _Args:
    start = _arg(args, kwargs, 2, "start", 0)
    if isinstance(start, int | float):
        return args
    items = list(args[0])
    budget.check_structure((start, items), "sum")
    budget.check_size(len(items) + (len(start) if isinstance(start, list | tuple) else 0), "sum")
    return (items, *args[1:])


def _printed(budget: Budget, args: _Args, kwargs: dict[str, Any]) -> _Args:
    budget.check_size(_text(budget, args[0]) if args else 0, "printing a value")
    return args


def _tojson(budget: Budget, args: _Args, kwargs: dict[str, Any]) -> _Args:
    indent = _arg(args, kwargs, 1, "indent", None)
    step = len(indent) if isinstance(indent, str) else _int(indent)
    if step > 16:
        raise budget.refuse(f"tojson indent of {step:,} (limit 16)")
    budget.check_size(_text(budget, args[0]) * (1 + step), "tojson")
    return args


_CHECKS: dict[str, _Check] = {
    "center": _center,
    "indent": _indent,
    "format": _format,
    "replace": _replace,
    "join": _join,
    "wordwrap": _wordwrap,
    "batch": _count_at(1, "linecount"),
    "slice": _count_at(1, "slices"),
    "truncate": _count_at(1, "length"),
    "sum": _sum,
    "string": _printed,
    "pprint": _printed,
    "urlencode": _printed,
    "tojson": _tojson,
}


def _guard(name: str, original: Callable[..., Any], check: _Check) -> Callable[..., Any]:
    passes_context = hasattr(original, "jinja_pass_arg")

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = current_budget()
        budget.check_time()
        head, rest = (args[:1], args[1:]) if passes_context else ((), args)
        if rest:
            rest = check(budget, rest, kwargs)
        return original(*head, *rest, **kwargs)

    return guarded


def guarded_filters(filters: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Return the growing filters of ``filters``, each measured before it runs."""
    return {name: _guard(name, filters[name], check) for name, check in _CHECKS.items()}


def guarded_lipsum(original: Callable[..., str]) -> Callable[..., str]:
    """Return ``lipsum`` refusing more paragraphs and words than the output may hold."""

    @functools.wraps(original)
    def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
        budget = current_budget()
        budget.check_size(_int(n) * _int(max) * 12, "lipsum")
        return original(n, html, min, max)

    return lipsum
