"""Turn ``PROMPT[@VERSION|@LABEL]`` and variables into a gateway :class:`CallSpec`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from promptdeck.core.gateway.engine import CacheMode, CallSpec
from promptdeck.core.prompts.refs import resolve_prompt
from promptdeck.core.prompts.templating import render_prompt

if TYPE_CHECKING:
    from promptdeck.core.workspace.workspace import Workspace

__all__ = ["json_schema_of", "prompt_call"]


def json_schema_of(response_format: Any) -> dict[str, Any] | None:
    """The JSON schema a prompt's ``response_format`` asks for (None: free text).

    Accepts OpenAI's shapes (``{"type": "json_object"}``, ``{"type": "json_schema",
    "json_schema": {"schema": ...}}``) and llama.cpp's (``{"type": "json_object",
    "schema": ...}``); a bare JSON object request becomes ``{"type": "object"}``.
    """
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        inner = response_format.get("json_schema") or {}
        schema = inner.get("schema") if isinstance(inner, Mapping) else None
        return dict(schema) if isinstance(schema, Mapping) else {"type": "object"}
    if kind == "json_object":
        schema = response_format.get("schema")
        return dict(schema) if isinstance(schema, Mapping) else {"type": "object"}
    return None


def prompt_call(
    workspace: Workspace,
    ref: str,
    variables: Mapping[str, Any],
    *,
    model: str | None = None,
    cache: CacheMode = "read",
    repeat: int = 0,
    kind: str = "run",
    overrides: Mapping[str, Any] | None = None,
) -> CallSpec:
    """Resolve and render a stored prompt version into a call.

    The model is ``model`` if given, else the prompt's own, else the workspace's
    ``default_model``. The prompt's ``params`` go under the model alias's;
    ``overrides`` (``--param``) over both.

    Raises:
        NotFoundError: Unknown prompt, version or label.
        VariableError: A variable is missing or invalid.
    """
    start = time.perf_counter()
    with workspace.session() as session:
        resolved = resolve_prompt(session, ref)
    rendered = render_prompt(
        resolved.file, variables, version=resolved.version, config=workspace.config
    )
    render_ms = (time.perf_counter() - start) * 1000
    params = dict(rendered.params)
    schema = json_schema_of(params.pop("response_format", None))
    return CallSpec(
        model=model or rendered.model or workspace.config.default_model,
        messages=rendered.messages,
        params=params,
        overrides=dict(overrides or {}),
        response_format=schema,
        repeat=repeat,
        cache=cache,
        prompt_name=resolved.name,
        prompt_version=resolved.version,
        prompt_version_id=resolved.version_id,
        name=f"{resolved.name}@{resolved.version}",
        kind=kind,
        render_ms=render_ms,
        variables=rendered.variables,
        guardrails=resolved.file.guardrails,
    )
