"""Collected spans for the tests: model calls as an application would export them."""

from __future__ import annotations

import json

from promptdeck.core.collect.decode import ReceivedSpan
from promptdeck.core.collect.ingest import store_spans
from promptdeck.core.workspace.workspace import Workspace

START = 1_763_661_600_000_000_000  # 2025-11-20 18:00 UTC


def llm_span(
    trace: int,
    question: str,
    answer: str,
    *,
    prompt: str | None = None,
    variables: dict[str, str] | None = None,
    offset_s: int = 0,
) -> ReceivedSpan:
    """One model-call span of trace number ``trace`` (its own root)."""
    attributes: dict[str, object] = {
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.input.messages": json.dumps(
            [
                {"role": "system", "parts": [{"type": "text", "content": "You help shoppers."}]},
                {"role": "user", "parts": [{"type": "text", "content": question}]},
            ]
        ),
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": answer}]}]
        ),
    }
    if prompt:
        attributes["promptdeck.prompt.name"] = prompt
    if variables is not None:
        attributes["promptdeck.prompt.variables"] = json.dumps(variables)
    start = START + offset_s * 1_000_000_000
    return ReceivedSpan(
        trace_id=f"{trace:032x}",
        span_id=f"{trace:016x}",
        parent_id=None,
        name="chat gpt-4o-mini",
        kind="client",
        start_ns=start,
        end_ns=start + 250_000_000,
        error=False,
        status_message=None,
        attributes=attributes,
        service="shop",
    )


def store(workspace: Workspace, spans: list[ReceivedSpan]) -> None:
    """Store spans as ``collect`` does (one transaction)."""
    with workspace.session() as session:
        assert store_spans(session, spans) == []
