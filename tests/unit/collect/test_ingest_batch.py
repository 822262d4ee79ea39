"""One request holding new traces and the rest of a trace stored before: all rows in one go."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import select

from promptdeck.core.collect.genai import read_llm_call
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.tables import CompletionRow, Span, Trace
from tests.unit.collect.spans import llm_span, store


def test_new_traces_and_a_late_model_call_of_a_stored_trace(workspace: Workspace) -> None:
    late = llm_span(3, "where is order 3?", "on its way")
    root = replace(
        late,
        span_id="00000000000000aa",
        name="POST /ask",
        kind="server",
        attributes={"http.route": "/ask"},
        start_ns=late.start_ns - 1000,
        end_ns=late.end_ns + 1000,
    )
    store(workspace, [root])  # the root first, its model call in a later request
    child = replace(late, parent_id=root.span_id)
    store(
        workspace,
        [
            llm_span(1, "where is order 1?", "shipped"),
            replace(root, trace_id=f"{2:032x}", span_id="00000000000000bb"),
            child,
        ],
    )
    with workspace.session() as session:
        traces = {t.uid: t for t in session.exec(select(Trace))}
        completions = {c.id: c for c in session.exec(select(CompletionRow))}
        spans = {s.span_uid: s for s in session.exec(select(Span))}
    assert sorted(traces) == [f"{n:032x}" for n in (1, 2, 3)]
    first, plain, joined = (traces[f"{n:032x}"] for n in (1, 2, 3))
    assert plain.completion_id is None and plain.model is None
    assert completions[first.completion_id].text == "shipped"
    assert completions[joined.completion_id].text == "on its way"
    assert joined.model == "gpt-4o-mini" and joined.name == "POST /ask"
    assert spans[child.span_id].parent_id == spans[root.span_id].id
    assert spans[child.span_id].kind == "llm" and spans[root.span_id].kind == "server"


def test_every_way_a_span_says_it_is_a_model_call_is_still_read() -> None:
    """Spans without any attribute the reader reads are skipped early; these are not."""
    for attributes in (
        {"gen_ai.request.model": "m"},
        {"llm.model_name": "m"},
        {"openinference.span.kind": "LLM"},
        {"input.value": "question"},
        {"output.value": "answer"},
    ):
        assert read_llm_call(attributes, []) is not None, attributes
    event = {"name": "gen_ai.choice", "time_ns": 1, "attributes": {"message": "hi"}}
    assert read_llm_call({"http.route": "/ask"}, [event]) is not None
    assert read_llm_call({"http.route": "/ask", "promptdeck.prompt.name": "p"}, []) is None
