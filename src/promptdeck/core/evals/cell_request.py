"""What a cell asks its model: the request parts built from its rendered prompt and case.

One function for the runner (:class:`~promptdeck.core.evals.batches.CellPlanner`) and
for a new run's first calls sent before the store opens
(:mod:`~promptdeck.core.evals.early_start`): both must build the same request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promptdeck.core.gateway.spec import CacheMode, CallSpec
from promptdeck.core.prompts.templating import RenderedPrompt
from promptdeck.core.scorers.perplexity import needs_logprobs

__all__ = ["cell_call", "request_parts"]


def request_parts(
    rendered: RenderedPrompt, asserts: Sequence[Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """A cell's call parameters, its own overrides and the JSON schema its answer follows.

    Args:
        rendered: The cell's prompt, rendered for its case.
        asserts: The case's assertions (token logprobs are asked for only when one of
            them grades them).

    Returns:
        ``(params, overrides, schema)``: the prompt's parameters without
        ``response_format``, ``{"logprobs": True}`` or nothing, and the schema of a
        ``json_schema`` response format (else None).
    """
    params = dict(rendered.params)
    response_format = params.pop("response_format", None)
    schema = None
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        schema = response_format.get("json_schema", {}).get("schema")
    overrides: dict[str, Any] = {"logprobs": True} if needs_logprobs(asserts) else {}
    return params, overrides, schema


def cell_call(
    rendered: RenderedPrompt,
    asserts: Sequence[Any],
    *,
    model: str,
    repeat: int,
    cache: CacheMode,
    name: str,
    **record: Any,
) -> CallSpec:
    """A cell's call: its request (see :func:`request_parts`) and what its trace records.

    Args:
        rendered: The cell's prompt, rendered for its case.
        asserts: The case's assertions.
        model: The model (alias) asked.
        repeat: The repeat index.
        cache: The cache mode of the run's calls.
        name: The trace's name (``suite#case``).
        record: Further :class:`CallSpec` fields (the prompt's version, the run...).
    """
    params, overrides, schema = request_parts(rendered, asserts)
    return CallSpec(
        model=model,
        messages=rendered.messages,
        params=params,
        overrides=overrides,
        response_format=schema,
        repeat=repeat,
        cache=cache,
        name=name,
        kind="eval",
        **record,
    )
