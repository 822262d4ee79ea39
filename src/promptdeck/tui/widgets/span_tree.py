"""The span tree of one trace, in the Traces screen's detail pane.

The trace is the root; its spans hang under it in the order they started, each
under its parent span when it has one (an ensemble's members under the ensemble).
When a call tried more than one model (retries after a failure, fallbacks), the
attempts are folded under one ``model`` node, so the steps of the call read as
steps and the attempts as attempts. Each label gives the span's kind, status, its
start after the trace's start and its length.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from promptdeck.store.tables import Span, Trace

__all__ = ["SpanTree", "fmt_ms", "span_label"]


def fmt_ms(value: float | None) -> str:
    """A length in at most 7 characters: ``35 ms``, ``2.4 s``, ``1.5 min`` (``0.4 ms``)."""
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.1f} ms"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return f"{value / 60_000:.1f} min"


def _status(status: str) -> tuple[str, str]:
    return (status, "green" if status == "ok" else "bold red")


def span_label(span: Span, origin: datetime | None) -> Text:
    """``chat gpt-4o  llm  ok  +1.5 ms · 812 ms``."""
    offset = ""
    if origin is not None:
        try:
            offset = f"+{fmt_ms((span.started_at - origin).total_seconds() * 1000)} · "
        except TypeError:  # one naive, one aware: no offset rather than a wrong one
            offset = ""
    return Text.assemble(
        (span.name, "bold" if span.kind == "llm" else ""),
        (f"  {span.kind}  ", "dim"),
        _status(span.status),
        (f"  {offset}{fmt_ms(span.duration_ms or 0.0)}", "dim"),
    )


def _origin(trace: Trace, spans: Sequence[Span]) -> datetime | None:
    """Where the offsets count from: the earliest start (rendering precedes the call)."""
    try:
        return min([trace.started_at, *(s.started_at for s in spans)])
    except TypeError:  # naive and aware mixed: no offsets rather than wrong ones
        return None


class SpanTree(Tree[Span | None]):
    """A trace and its spans as a tree (``show_trace``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("spans", id=id)
        self.show_root = True
        self.guide_depth = 3

    def show_trace(self, trace: Trace | None, spans: Sequence[Span]) -> None:
        """Show this trace's spans (None: an empty tree)."""
        self.clear()
        if trace is None:
            self.root.set_label("no trace")
            return
        self.root.set_label(
            Text.assemble(
                (trace.name, "bold"),
                "  ",
                _status(trace.status),
                (f"  {fmt_ms(trace.latency_ms)}", "dim"),
            )
        )
        origin = _origin(trace, spans)
        children: dict[int | None, list[Span]] = {}
        known = {s.id for s in spans}
        for span in spans:
            parent = span.parent_id if span.parent_id in known else None
            children.setdefault(parent, []).append(span)
        top = children.get(None, [])
        attempts = [s for s in top if s.kind == "llm" and s.id not in children]
        group: TreeNode[Span | None] | None = None
        seen: set[int | None] = set()
        for span in sorted(top, key=lambda s: s.started_at):
            parent_node = self.root
            if len(attempts) > 1 and span in attempts:
                if group is None:
                    failed = sum(1 for s in attempts if s.status != "ok")
                    label = Text.assemble(
                        ("model", "bold"), (f"  {len(attempts)} attempts, {failed} failed", "dim")
                    )
                    group = self.root.add(label, data=None, expand=True)
                parent_node = group
            self._add(parent_node, span, children, origin, seen)
        for span in spans:  # a parent loop in hostile data: still listed, at the top
            if span.id not in seen:
                self._add(self.root, span, {}, origin, seen)
        self.root.expand_all()

    def _add(
        self,
        parent: TreeNode[Span | None],
        span: Span,
        children: dict[int | None, list[Span]],
        origin: datetime | None,
        seen: set[int | None],
    ) -> None:
        seen.add(span.id)
        below = [c for c in children.get(span.id, []) if c.id not in seen]
        label = span_label(span, origin)
        if not below:
            parent.add_leaf(label, data=span)
            return
        node = parent.add(label, data=span, expand=True)
        for child in sorted(below, key=lambda s: s.started_at):
            self._add(node, child, children, origin, seen)
