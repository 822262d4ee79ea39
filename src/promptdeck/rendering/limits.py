"""How much one render may produce and how long it may take: limits and their budget.

Every Jinja2 render runs against a :class:`Budget` held in a context variable for the
duration of the render: the sandbox's hooks (:mod:`.sandbox`) ask it before they build
a string, a sequence or a number, and charge it the text they emit, so a template is
refused *before* it allocates what it asks for, with one line saying what was refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from promptdeck.rendering.templates import VariableError

__all__ = [
    "DEFAULT_LIMITS",
    "Budget",
    "RenderLimits",
    "RenderRefusedError",
    "current_budget",
    "printed_size",
    "render_budget",
]

#: Python refuses to print integers with more digits than this (``sys.int_info``).
MAX_INT_DIGITS = 4300
#: Bits of an integer of MAX_INT_DIGITS decimal digits.
MAX_INT_BITS = int(MAX_INT_DIGITS * 3.3219280948873626) + 1


class RenderRefusedError(VariableError):
    """The template sandbox refused a render: too large, too long, or nested too deep."""


@dataclass(frozen=True)
class RenderLimits:
    """The bounds of one render (``[render]`` in ``promptdeck.toml``).

    Attributes:
        max_output_bytes: Bytes (UTF-8) one rendered message may have; also the
            largest string or sequence (in characters or items) an expression may build.
        timeout: Seconds one template may take to render.
        max_depth: Macro and call nesting allowed (recursion is refused past it).
    """

    max_output_bytes: int = 1_000_000
    timeout: float = 2.0
    max_depth: int = 40

    @property
    def max_produced(self) -> int:
        """Characters all output may total, counting text built in macros and blocks."""
        return 4 * self.max_output_bytes


DEFAULT_LIMITS = RenderLimits()

_BUDGET: ContextVar[Budget | None] = ContextVar("promptdeck_render_budget", default=None)


class Budget:
    """What one render has left: time, text and call depth."""

    __slots__ = ("_ticks", "deadline", "depth", "limits", "produced")

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.timeout
        self.produced = 0
        self.depth = 0
        self._ticks = 0

    def refuse(self, what: str) -> RenderRefusedError:
        """Return the error for a refusal (``what`` says what was refused)."""
        return RenderRefusedError(
            f"refused by the template sandbox: {what}",
            "templates are bounded in output, time and operand sizes "
            "([render] in promptdeck.toml; see docs/formats.md)",
        )

    def check_time(self) -> None:
        """Refuse once the render has run past its time limit."""
        if time.monotonic() > self.deadline:
            raise self.refuse(f"rendering took over {self.limits.timeout:g} s")

    def tick(self) -> None:
        """Count one step of a loop; look at the clock every 256 steps."""
        self._ticks += 1
        if not self._ticks & 0xFF:
            self.check_time()

    def check_size(self, size: int, what: str) -> None:
        """Refuse an operation that would build ``size`` characters or items."""
        limit = self.limits.max_output_bytes
        if size > limit:
            raise self.refuse(f"{what} would make {size:,} characters or items (limit {limit:,})")
        self.check_time()

    def check_count(self, count: int, what: str) -> None:
        """Refuse an argument asking for ``count`` repetitions, columns or items."""
        limit = self.limits.max_output_bytes
        if count > limit:
            raise self.refuse(f"{what} of {count:,} (limit {limit:,})")

    def check_structure(self, value: Any, what: str, times: int = 1) -> None:
        """Refuse a structure that would print as more than the produced-text limit."""
        limit = self.limits.max_produced
        size = printed_size(value, limit) * times
        if size > limit:
            raise self.refuse(f"{what} would print as over {limit:,} characters")

    def check_int_bits(self, bits: float, what: str) -> None:
        """Refuse an integer result of about ``bits`` bits (past Python's printable digits)."""
        if bits > MAX_INT_BITS:
            digits = int(bits * 0.30103)
            raise self.refuse(
                f"{what} would have about {digits:,} digits (limit {MAX_INT_DIGITS:,})"
            )

    def charge(self, size: int) -> None:
        """Count text produced anywhere in the template (output, macros, blocks)."""
        self.produced += size
        if self.produced > self.limits.max_produced:
            raise self.refuse(
                f"the template produced over {self.limits.max_produced:,} characters "
                "(counting macros and blocks)"
            )
        self.tick()


def current_budget() -> Budget:
    """Return the running render's budget (a default one outside a render)."""
    budget = _BUDGET.get()
    return budget if budget is not None else Budget(DEFAULT_LIMITS)


@contextmanager
def render_budget(limits: RenderLimits) -> Iterator[Budget]:
    """Run a render against a fresh budget of ``limits``."""
    budget = Budget(limits)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def printed_size(value: Any, limit: int) -> int:
    """Estimate the characters ``str(value)`` makes, stopping once past ``limit``.

    Containers are measured once each (a structure that shares itself, a list of
    itself doubled 40 times, is measured in as many steps as it has distinct parts,
    not printed) and a container met again inside itself counts as ``[...]``.
    """
    from jinja2.utils import Namespace

    sizes: dict[int, int] = {}
    stack: list[tuple[Any, list[Any], bool]] = []
    top = _children(value, Namespace)
    if top is None:
        return _scalar_size(value)
    stack.append((value, top, False))
    while stack:
        item, children, expanded = stack.pop()
        key = id(item)
        if expanded:
            total = 2 + 2 * len(children)
            for child in children:
                kind = type(child)
                if kind is str:
                    total += len(child)
                elif kind is int:
                    total += child.bit_length() * 30103 // 100000 + 2
                else:
                    known = sizes.get(id(child))
                    total += known if known is not None else _scalar_size(child)
                if total > limit:
                    break
            sizes[key] = min(total, limit + 1)
        elif key not in sizes:
            sizes[key] = 5  # met again while being measured: printed as [...]
            stack.append((item, children, True))
            for child in children:
                if type(child) not in _SCALARS and id(child) not in sizes:
                    grand = _children(child, Namespace)
                    if grand is not None:
                        stack.append((child, grand, False))
    return sizes[id(value)]


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _children(item: Any, namespace: type) -> list[Any] | None:
    if isinstance(item, str):
        return None
    if isinstance(item, list | tuple | set | frozenset):
        return list(item)
    if isinstance(item, dict):
        return [*item.keys(), *item.values()]
    if isinstance(item, namespace):
        attrs = object.__getattribute__(item, "_Namespace__attrs")
        return [*attrs.keys(), *attrs.values()]
    return None


def _scalar_size(item: Any) -> int:
    if isinstance(item, str):
        return len(item)
    if isinstance(item, bool) or item is None:
        return 5
    if isinstance(item, int):
        return item.bit_length() * 30103 // 100000 + 2
    if isinstance(item, float):
        return 24
    return 64
