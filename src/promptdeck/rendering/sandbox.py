"""Jinja2's immutable sandbox, bounded in time and memory.

Jinja2's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` keeps templates away
from Python internals and the filesystem; :class:`BoundedEnvironment` adds bounds on
what they may build, through the sandbox's own hooks:

- ``call_binop`` (the intercepted ``*``, ``**``, ``%``, ``+``) measures the result
  before computing it: ``'a' * 10**9``, ``(1,) * 10**9``, ``2 ** 8000000000``,
  ``'%1000000000s' % x`` are refused, not attempted;
- ``call`` checks calls of string and integer methods (``ljust``, ``replace``,
  ``join``, ``to_bytes``…), ``dict``/``namespace`` and the nesting of macro calls
  (recursion is refused at :attr:`RenderLimits.max_depth`, not a ``RecursionError``);
- ``str.format`` runs through a formatter that adds up the widths it is asked for;
- the filters that can grow text (``center``, ``indent``, ``format``, ``join``,
  ``replace``, ``wordwrap``, ``batch``, ``slice``, ``sum``, ``string``, ``pprint``,
  ``tojson``) and ``lipsum`` are measured first (:mod:`.sandbox_filters`);
- its code generator makes every loop step, every ``~`` and every piece of output,
  including text built inside macros and blocks, pass through the render's
  :class:`~.limits.Budget`, which looks at the clock: a loop that prints nothing
  still stops at the time limit. Lists, tuples and dicts built in a template are
  measured as printed, so a structure that shares itself cannot double 40 times.

The size of the whole rendering is capped by :func:`.render` as it streams it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.utils import Namespace

from promptdeck.rendering.limits import Budget, current_budget, printed_size
from promptdeck.rendering.sandbox_filters import (
    guarded_filters,
    guarded_lipsum,
    percent_format_size,
)

__all__ = ["BoundedEnvironment"]

#: A format spec's width and precision.
_SPEC = re.compile(r"^(?:.?[<>=^])?[-+ ]?z?#?0?(\d+)?[,_]?(?:\.(\d+))?")


class _BoundedFormatter(SandboxedFormatter):
    """``str.format`` that adds up the widths and values it formats."""

    def __init__(self, env: BoundedEnvironment) -> None:
        super().__init__(env)
        self._budget = current_budget()
        self._size = 0

    def format_field(self, value: Any, format_spec: str) -> Any:
        budget = self._budget
        match = _SPEC.match(format_spec)
        for part in (match[1], match[2]) if match else ():
            if part:
                budget.check_count(int(part), "a format width or precision")
                self._size += int(part)
        self._size += printed_size(value, budget.limits.max_output_bytes)
        budget.check_size(self._size, "str.format")
        return super().format_field(value, format_spec)


def _str_method_size(text: str, name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> int:
    """Upper bound on what a string method returns, for the methods that can grow."""
    given = list(args) + list(kwargs.values())
    if name in ("ljust", "rjust", "center", "zfill") and given and isinstance(given[0], int):
        return max(len(text), given[0])
    if name == "expandtabs":
        tab = given[0] if given and isinstance(given[0], int) else 8
        return len(text) + text.count("\t") * max(tab, 0)
    if name == "replace" and len(given) >= 2 and all(isinstance(g, str) for g in given[:2]):
        old, new = given[0], given[1]
        count = given[2] if len(given) > 2 and isinstance(given[2], int) else -1
        hits = (text.count(old) if old else len(text) + 1) if count < 0 else count
        return len(text) + hits * max(0, len(new) - len(old))
    if name == "translate" and given and isinstance(given[0], Mapping):
        widest = max((len(v) for v in given[0].values() if isinstance(v, str)), default=1)
        return len(text) * max(widest, 1)
    return len(text)


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja2's code generator, routing loops, ``~``, literals and output through the budget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop_iterables: set[int] = set()

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) not in self._loop_iterables:
            return super().visit(node, *args, **kwargs)
        self._loop_iterables.discard(id(node))
        self.write("environment.pd_iter(")
        result = super().visit(node, *args, **kwargs)
        self.write(")")
        return result

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.pd_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _built(self, visit: Callable[[Any, Frame], None], node: Any, frame: Frame) -> None:
        if getattr(node, "ctx", "load") != "load":
            visit(node, frame)
            return
        self.write("environment.pd_built(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._built(super().visit_List, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        self._built(super().visit_Tuple, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._built(super().visit_Dict, node, frame)

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.pd_emit({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.pd_emit(")
        if finalize.src is not None:
            self.write(finalize.src)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write(")")
        if finalize.src is not None:
            self.write(")")


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with every render bounded by the running :class:`Budget`."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters.update(guarded_filters(self.filters))
        self.globals["lipsum"] = guarded_lipsum(self.globals["lipsum"])  # type: ignore[arg-type]
        self.globals["range"] = _bounded_range

    # -- operators -------------------------------------------------------------------

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Measure the result of ``*``, ``**``, ``%`` and ``+`` before computing it."""
        budget = current_budget()
        what = f"{_kind(left)} {operator} {_kind(right)}"
        if operator == "*":
            self._check_repeat(budget, left, right, what)
        elif operator == "**":
            if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
                budget.check_int_bits(right * math.log2(abs(left)), what)
        elif operator == "%" and isinstance(left, str):
            budget.check_size(percent_format_size(budget, left, right), what)
        elif operator == "+":
            if isinstance(left, str) and isinstance(right, str):
                budget.check_size(len(left) + len(right), what)
            elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
                budget.check_size(len(left) + len(right), what)
                budget.check_structure((left, right), what)
        try:
            return self.binop_table[operator](left, right)
        except (OverflowError, MemoryError) as exc:
            raise budget.refuse(f"{what}: {exc}") from exc

    @staticmethod
    def _check_repeat(budget: Budget, left: Any, right: Any, what: str) -> None:
        if _is_int(left) and _is_int(right):
            budget.check_int_bits(abs(left).bit_length() + abs(right).bit_length(), what)
            return
        seq, times = (left, right) if _is_int(right) else (right, left)
        if not _is_int(times) or not isinstance(seq, str | list | tuple | bytes):
            return
        budget.check_size(len(seq) * max(times, 0), what)
        if isinstance(seq, list | tuple) and times > 1:
            budget.check_structure(seq, what, times)

    # -- calls and str.format ----------------------------------------------------------

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Check a call's operands and nesting, then make it in the sandbox."""
        budget = current_budget()
        budget.check_time()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str) and not isinstance(__obj, type):
            if name == "join" and args:
                items = list(args[0])
                limit = budget.limits.max_output_bytes
                size = sum(printed_size(i, limit) for i in items) + len(owner) * len(items)
                budget.check_size(size, "str.join")
                args = (items, *args[1:])
            else:
                budget.check_size(_str_method_size(owner, name, args, kwargs), f"str.{name}")
        if isinstance(owner, int | str | bytes | list | tuple):
            for arg in (*args, *kwargs.values()):
                if _is_int(arg):
                    budget.check_count(abs(arg), f"an argument of {type(owner).__name__}.{name}")
        if __obj is dict or __obj is Namespace:
            budget.check_structure((args, kwargs), f"{name}(...)")
        budget.depth += 1
        try:
            if budget.depth > budget.limits.max_depth:
                raise budget.refuse(
                    f"calls nested deeper than {budget.limits.max_depth} levels "
                    "(a macro calling itself?)"
                )
            return super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Run ``str.format``/``format_map`` through a formatter that adds up widths."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text: str = value.__self__
        is_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                kwargs, args = args[0], ()
            return str(_BoundedFormatter(self).vformat(text, args, kwargs))

        return bounded

    # -- what the generated code calls -------------------------------------------------

    def pd_iter(self, iterable: Any) -> Iterator[Any]:
        """Step through a loop's iterable, one budget tick per step."""
        budget = current_budget()
        budget.check_time()
        for item in iterable:
            budget.tick()
            yield item

    def pd_emit(self, value: Any) -> str:
        """Turn one piece of output into text, charged to the budget."""
        budget = current_budget()
        if not isinstance(value, str):
            size = printed_size(value, budget.limits.max_produced)
            budget.charge(size)
            return str(value)
        budget.charge(len(value))
        return value

    def pd_concat(self, values: tuple[Any, ...]) -> str:
        """The ``~`` operator: measure the parts, then join them."""
        budget = current_budget()
        limit = budget.limits.max_output_bytes
        budget.check_size(sum(printed_size(v, limit) for v in values), "the ~ operator")
        return "".join(map(str, values))

    def pd_built(self, value: Any) -> Any:
        """Measure a list, tuple or dict built in the template, as it would print."""
        current_budget().check_structure(value, f"a {type(value).__name__} literal")
        return value


def _bounded_range(*args: int) -> range:
    """``range``, refusing more than Jinja2's ``MAX_RANGE`` items in one line."""
    from jinja2.sandbox import MAX_RANGE

    items = range(*args)
    if len(items) > MAX_RANGE:
        raise current_budget().refuse(f"a range of {len(items):,} items (limit {MAX_RANGE:,})")
    return items


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"a string of {len(value):,}" if len(value) > 20 else repr(value)
    if _is_int(value):
        return str(value) if value.bit_length() < 64 else f"an integer of {value.bit_length()} bits"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {len(value):,}"
    return type(value).__name__
