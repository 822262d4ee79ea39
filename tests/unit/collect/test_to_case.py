"""A trace becomes a suite case: variables of a named prompt, else messages; answer expected."""

from __future__ import annotations

import pytest
import yaml

from promptdeck.core.collect.to_case import save_trace_case
from promptdeck.core.evals.suites import load_suite
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import NotFoundError, UsageError
from tests.unit.collect.spans import llm_span, store

SUITE = """\
# Tickets the classifier must get right.
prompts: [classify-ticket]
cases:
  - description: double charge   # keep this comment
    vars: {ticket: I was charged twice}
    expected: billing
"""


def test_a_trace_of_a_named_prompt_gives_its_variables(workspace: Workspace) -> None:
    workspace.sync()
    store(
        workspace,
        [
            llm_span(
                1,
                "Ticket: my parcel is late",
                "shipping",
                prompt="classify-ticket",
                variables={"ticket": "my parcel is late"},
            )
        ],
    )
    path = workspace.paths.suites / "tickets.suite.yaml"
    path.write_text(SUITE)
    with workspace.session() as session:
        written, case = save_trace_case(session, workspace.paths, f"{1:032x}", "tickets")
    assert written == path
    text = path.read_text()
    assert text.startswith(SUITE)  # what was there is untouched, comments included
    added = yaml.safe_load(text)["cases"][-1]
    assert added["vars"] == {"ticket": "my parcel is late"}
    assert added["expected"] == "shipping"
    assert added["tags"] == ["from-trace", "review"]
    assert case.prompt == "classify-ticket"
    assert len(load_suite(path, workspace.paths).cases) == 2


def test_a_trace_without_a_known_prompt_gives_its_messages(workspace: Workspace) -> None:
    store(workspace, [llm_span(2, "Where is my order?", "It ships today.", prompt="not-here")])
    with workspace.session() as session:
        with pytest.raises(UsageError, match="names no promptdeck prompt"):
            save_trace_case(session, workspace.paths, f"{2:032x}", "fresh")
        path, case = save_trace_case(
            session, workspace.paths, f"{2:032x}", "fresh", prompt="classify-ticket"
        )
    data = yaml.safe_load(path.read_text())
    assert data["prompts"] == ["classify-ticket"]
    assert data["cases"][0]["vars"] == {
        "messages": [
            {"role": "system", "content": "You help shoppers."},
            {"role": "user", "content": "Where is my order?"},
        ]
    }
    assert data["cases"][0]["expected"] == "It ships today."
    assert case.prompt is None


def test_unknown_traces_and_traces_without_a_call(workspace: Workspace) -> None:
    span = llm_span(3, "q", "a")
    span.attributes = {"http.route": "/health"}
    store(workspace, [span])
    with workspace.session() as session:
        with pytest.raises(NotFoundError):
            save_trace_case(session, workspace.paths, "ffffffffffff", "x")
        with pytest.raises(UsageError, match="holds no model call"):
            save_trace_case(session, workspace.paths, f"{3:032x}", "x", prompt="p")
