"""The Traces screen's span tree, by keys only: the trace at the root, spans nested
under their parents, a call's model attempts folded together."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Static

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.calls_repo import SpanRecord, write_calls
from promptdeck.tui.screens.traces import TracesScreen
from promptdeck.tui.widgets.span_tree import SpanTree
from tests.tui.gateway_data import T0, _record
from tests.tui.helpers import make_app, settle


def _ms(value: float) -> timedelta:
    return timedelta(milliseconds=value)


def _fill(workspace: Workspace) -> None:
    record = _record(9, model="ens", prompt="summarize", text="- ok", latency=900)
    start = record.trace["started_at"]
    record.spans = [
        # Rendering ends as the call (the trace) begins: offsets count from its start.
        SpanRecord("render", "render", "ok", start - _ms(1.5), start),
        SpanRecord("cache.lookup", "cache", "ok", start + _ms(2), start + _ms(2.4)),
        SpanRecord("chat openai/a", "llm", "error", start + _ms(3), start + _ms(40)),
        SpanRecord("chat openai/b", "llm", "ok", start + _ms(41), start + _ms(500)),
        SpanRecord("ensemble ens", "ensemble", "ok", start + _ms(500), start + _ms(900)),
        SpanRecord("member x", "llm", "ok", start + _ms(501), start + _ms(880), parent=4),
        SpanRecord("judge", "judge", "ok", start + _ms(881), start + _ms(899), parent=4),
    ]
    with workspace.session() as session:
        write_calls(session, [record])
    assert start == T0 + timedelta(minutes=9)


def _labels(node: object) -> list[str]:
    return [str(child.label).split("  ")[0] for child in node.children]  # type: ignore[attr-defined]


async def test_spans_are_a_tree_under_their_trace(workspace: Workspace) -> None:
    _fill(workspace)
    app = make_app(workspace, screen="traces")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TracesScreen)
        tree = screen.query_one("#span-tree", SpanTree)
        root = str(tree.root.label)
        assert root.startswith("summarize@1") and "900 ms" in root
        assert _labels(tree.root) == ["render", "cache.lookup", "model", "ensemble ens"]
        model, ensemble = tree.root.children[2], tree.root.children[3]
        assert "2 attempts, 1 failed" in str(model.label)
        assert _labels(model) == ["chat openai/a", "chat openai/b"]
        assert _labels(ensemble) == ["member x", "judge"]
        assert "+0.0 ms · 1.5 ms" in str(tree.root.children[0].label)
        assert "+3.5 ms · 0.4 ms" in str(tree.root.children[1].label)
        # Keys: into the tree, down to the cache lookup: its attributes show.
        for _ in range(8):
            if app.focused is tree:
                break
            await pilot.press("tab")
        assert app.focused is tree
        await pilot.press("down", "down")
        await pilot.pause()
        assert str(screen.query_one("#span-attributes", Static).render()).startswith("cache.lookup")


async def test_a_parent_loop_still_lists_every_span(workspace: Workspace) -> None:
    from promptdeck.store.tables import Span, Trace

    tree = SpanTree()
    trace = Trace(uid="x", name="t", kind="run", status="ok", started_at=T0, latency_ms=5)
    spans = [
        Span(id=1, trace_id=1, parent_id=2, name="a", kind="k", status="ok", started_at=T0),
        Span(id=2, trace_id=1, parent_id=1, name="b", kind="k", status="ok", started_at=T0),
    ]
    tree.show_trace(trace, spans)
    assert _labels(tree.root) == ["a", "b"]
