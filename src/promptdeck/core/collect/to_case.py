"""Turn a stored trace (collected or promptdeck's own) into a suite case.

When the trace names a promptdeck prompt of this workspace and carries the values of
its variables, the case is those variables; otherwise it is the messages the model
was sent (``vars: {messages: [...]}``). The answer the model gave becomes the case's
``expected``, tagged ``review`` since nobody has checked it yet. The case is appended
to the suite file as text (:func:`promptdeck.core.evals.suite_cases.append_case`), so
what the file holds stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from promptdeck.core.evals.suite_cases import append_case
from promptdeck.errors import NotFoundError, UsageError
from promptdeck.paths import WorkspacePaths
from promptdeck.store.prompts_repo import get_prompt
from promptdeck.store.traces_repo import TraceDetail, find_trace

__all__ = ["TraceCase", "save_trace_case", "trace_case"]


@dataclass(frozen=True)
class TraceCase:
    """The case a trace makes.

    Attributes:
        trace_uid: The trace it comes from.
        prompt: The promptdeck prompt it names (None: a messages case).
        variables: The case's variables.
        expected: The observed answer, if any.
        description: Where it comes from.
    """

    trace_uid: str
    prompt: str | None
    variables: dict[str, Any]
    expected: str | None
    description: str


def trace_case(session: Session, detail: TraceDetail) -> TraceCase:
    """The case ``detail`` makes (see the module's docstring).

    Raises:
        UsageError: The trace holds no model call (nothing to make a case of).
    """
    trace, completion = detail.trace, detail.completion
    if completion is None:
        raise UsageError(
            f"trace {trace.uid[:12]} holds no model call to make a case of",
            "pick a trace with a model, prompt and answer (`promptdeck traces list`)",
        )
    request = dict(completion.request or {})
    name = trace.prompt_name or request.get("prompt")
    prompt = name if isinstance(name, str) and get_prompt(session, name) is not None else None
    variables = request.get("variables")
    where = f"trace {trace.uid[:12]}" + (f", {trace.model}" if trace.model else "")
    if prompt is not None and isinstance(variables, dict) and variables:
        return TraceCase(trace.uid, prompt, dict(variables), completion.text, f"from {where}")
    messages = [
        {"role": str(m.get("role", "user")), "content": str(m.get("content", ""))}
        for m in request.get("messages") or []
        if isinstance(m, dict)
    ]
    if not messages:
        raise UsageError(
            f"trace {trace.uid[:12]} recorded neither the prompt's variables nor the messages",
            "have the application record its messages (gen_ai.input.messages)",
        )
    return TraceCase(trace.uid, None, {"messages": messages}, completion.text, f"from {where}")


def save_trace_case(
    session: Session,
    paths: WorkspacePaths,
    trace_id: str,
    suite: str,
    *,
    prompt: str | None = None,
) -> tuple[Path, TraceCase]:
    """Append the case trace ``trace_id`` makes to ``suites/<suite>.suite.yaml``.

    Args:
        session: An open session.
        paths: The workspace's paths.
        trace_id: The trace's id (or a unique prefix of it).
        suite: The suite's name.
        prompt: The prompt a new suite runs (default: the one the trace names).

    Returns:
        The suite file, and the case written.

    Raises:
        NotFoundError: No such trace.
        UsageError: The trace makes no case, or a new suite would have no prompt.
    """
    detail = find_trace(session, trace_id)
    if detail is None:
        raise NotFoundError(f"no trace {trace_id!r}", "see `promptdeck --headless traces list`")
    case = trace_case(session, detail)
    path = paths.suites / f"{suite}.suite.yaml"
    runs = prompt or case.prompt
    if not path.exists() and runs is None:
        raise UsageError(
            f"suite {suite!r} does not exist and trace {detail.trace.uid[:12]} names no "
            "promptdeck prompt",
            "give --prompt NAME (a prompt taking a `messages` variable), or create the suite",
        )
    written = append_case(
        paths,
        suite,
        case.variables,
        description=case.description,
        prompts=[runs] if runs else [],
        expected=case.expected,
        tags=["from-trace", "review"],
        origin="traces",
    )
    return written, case
