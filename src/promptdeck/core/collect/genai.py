"""Read a model call out of a collected span: model, messages, answer, usage, finish reason.

Spans come from many instrumentations, each spelling the same facts its own way:

- OpenTelemetry's GenAI conventions: ``gen_ai.request.model``,
  ``gen_ai.usage.input_tokens``, ``gen_ai.response.finish_reasons``; the messages as
  ``gen_ai.input.messages`` / ``gen_ai.output.messages`` / ``gen_ai.system_instructions``
  (``{"role", "parts": [{"type": "text", "content"}]}``), or in the older forms as span
  events: ``gen_ai.system.message``, ``gen_ai.user.message``, ``gen_ai.assistant.message``,
  ``gen_ai.tool.message``, ``gen_ai.choice``, and before them ``gen_ai.content.prompt``
  (``gen_ai.prompt``) / ``gen_ai.content.completion`` (``gen_ai.completion``);
- OpenLLMetry (traceloop): ``gen_ai.prompt.N.role|content``, ``gen_ai.completion.N.content|
  finish_reason``, ``gen_ai.usage.prompt_tokens``, ``llm.usage.total_tokens``, and the older
  ``llm.prompts.N.*``, ``llm.request.model``;
- OpenInference (Phoenix): ``llm.model_name``, ``llm.input_messages.N.message.role|content``
  (or ``message.contents.M.message_content.text``), ``llm.output_messages.N…``,
  ``llm.token_count.prompt|completion|total``, ``llm.invocation_parameters``,
  ``llm.prompt_template.variables``, ``input.value`` / ``output.value``.

A span naming a promptdeck prompt carries ``promptdeck.prompt.name`` (and its variables
as ``promptdeck.prompt.variables``, a JSON object).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LlmCall", "read_llm_call"]

_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_INDEXED = re.compile(r"^(?P<prefix>.+?)\.(?P<index>\d+)\.(?P<rest>.+)$")
_READ_PREFIXES = ("gen_ai.", "llm.", "openinference.span.kind", "input.value", "output.value")
"""Every attribute :func:`read_llm_call` reads starts with one of these."""


@dataclass
class LlmCall:
    """What a span says about one model call (fields it does not say are None/empty)."""

    model: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)
    output: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    finish_reason: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    prompt_name: str | None = None
    variables: dict[str, Any] | None = None

    @property
    def tokens(self) -> int | None:
        """Total tokens: as reported, else input plus output."""
        if self.total_tokens is not None:
            return self.total_tokens
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)


def _json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        from promptdeck.safeload.answers import parse_answer_json

        try:
            return parse_answer_json(value)
        except ValueError:  # not JSON, or too deep or long to parse: kept as text
            return value
    return value


def _text(value: Any) -> str | None:
    """The text of a message content: a string, a list of parts, or a part."""
    value = _json(value)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = [t for t in (_text(v) for v in value) if t]
        return "\n".join(texts) if texts else None
    if isinstance(value, dict):
        for key in ("content", "text", "message_content.text", "result"):
            if key in value:
                return _text(value[key])
        if "parts" in value:
            return _text(value["parts"])
        if "message" in value:
            return _text(value["message"])
        return None
    return str(value)


def _message(value: Any, default_role: str = "user") -> dict[str, str] | None:
    value = _json(value)
    if isinstance(value, dict):
        role = str(value.get("role") or default_role)
        text = _text(value.get("parts") if "parts" in value else value.get("content"))
        if text is None and "message" in value:
            return _message(value["message"], default_role)
        return {"role": role, "content": text or ""}
    text = _text(value)
    return {"role": default_role, "content": text} if text is not None else None


def _messages(value: Any, default_role: str = "user") -> list[dict[str, str]]:
    value = _json(value)
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    items = value if isinstance(value, list) else [value]
    return [m for m in (_message(v, default_role) for v in items) if m is not None]


def _indexed(attributes: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """``prefix.N.rest`` attributes grouped by N, in order: ``[{rest: value}, ...]``."""
    groups: dict[int, dict[str, Any]] = {}
    start = prefix + "."
    for key, value in attributes.items():
        if not key.startswith(start):
            continue
        match = _INDEXED.match(key)
        if match and match.group("prefix") == prefix:
            groups.setdefault(int(match.group("index")), {})[match.group("rest")] = value
    return [groups[i] for i in sorted(groups)]


def _openinference_message(group: dict[str, Any]) -> dict[str, str]:
    role = str(group.get("message.role") or "user")
    text = _text(group.get("message.content"))
    if text is None:
        parts = _indexed(group, "message.contents")
        text = _text([p.get("message_content.text") for p in parts]) or ""
    return {"role": role, "content": text}


def _first(attributes: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return value
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _input_messages(a: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, str]]:
    if a.get("gen_ai.input.messages") is not None:
        found = _messages(a["gen_ai.input.messages"])
        system = _text(a.get("gen_ai.system_instructions"))
        return ([{"role": "system", "content": system}] if system else []) + found
    for prefix in ("gen_ai.prompt", "llm.prompts"):
        groups = _indexed(a, prefix)
        if groups:
            return [
                {"role": str(g.get("role") or "user"), "content": _text(g.get("content")) or ""}
                for g in groups
            ]
    groups = _indexed(a, "llm.input_messages")
    if groups:
        return [_openinference_message(g) for g in groups]
    if a.get("gen_ai.prompt") is not None:  # one JSON attribute (early OpenLLMetry, LiteLLM)
        return _messages(a["gen_ai.prompt"])
    collected: list[dict[str, str]] = []
    for event in events:
        name, attrs = event["name"], event["attributes"]
        if name in _MESSAGE_EVENTS:
            role = str(attrs.get("role") or _MESSAGE_EVENTS[name])
            text = _text(_first(attrs, "content", "body", "gen_ai.event.content"))
            collected.append({"role": role, "content": text or ""})
        elif name == "gen_ai.content.prompt" and attrs.get("gen_ai.prompt") is not None:
            collected += _messages(attrs["gen_ai.prompt"])
        elif name == "gen_ai.client.inference.operation.details":
            collected += _messages(attrs.get("gen_ai.input.messages"))
    if collected:
        return collected
    if a.get("input.value") is not None:
        return _messages(a["input.value"])
    return []


def _output(a: dict[str, Any], events: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """The answer's text and the finish reason it carries, if any."""
    if a.get("gen_ai.output.messages") is not None:
        outputs = _json(a["gen_ai.output.messages"])
        first = outputs[0] if isinstance(outputs, list) and outputs else outputs
        reason = first.get("finish_reason") if isinstance(first, dict) else None
        return _text(first), reason
    for prefix in ("gen_ai.completion", "llm.completions"):
        groups = _indexed(a, prefix)
        if groups:
            return _text(groups[0].get("content")), groups[0].get("finish_reason")
    groups = _indexed(a, "llm.output_messages")
    if groups:
        return _openinference_message(groups[0])["content"], None
    if a.get("gen_ai.completion") is not None:
        return _text(_messages(a["gen_ai.completion"], "assistant")), None
    for event in events:
        name, attrs = event["name"], event["attributes"]
        if name == "gen_ai.choice":
            body = _first(attrs, "message", "content", "body", "gen_ai.event.content")
            return _text(body), attrs.get("finish_reason")
        if name == "gen_ai.content.completion" and attrs.get("gen_ai.completion") is not None:
            return _text(_messages(attrs["gen_ai.completion"], "assistant")), None
        if name == "gen_ai.client.inference.operation.details":
            outputs = _json(attrs.get("gen_ai.output.messages"))
            if outputs:
                first = outputs[0] if isinstance(outputs, list) else outputs
                reason = first.get("finish_reason") if isinstance(first, dict) else None
                return _text(first), reason
    text = _first(a, "gen_ai.output.text", "output.value")
    return (_text(text), None) if text is not None else (None, None)


def _params(a: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    invocation = _json(a.get("llm.invocation_parameters"))
    if isinstance(invocation, dict):
        params.update(invocation)
    for name in ("temperature", "max_tokens", "top_p", "seed"):
        value = _first(a, f"gen_ai.request.{name}", f"llm.request.{name}")
        if value is not None:
            params[name] = value
    return params


def _variables(a: dict[str, Any]) -> dict[str, Any] | None:
    value = _json(_first(a, "promptdeck.prompt.variables", "llm.prompt_template.variables"))
    return value if isinstance(value, dict) else None


def read_llm_call(attributes: dict[str, Any], events: list[dict[str, Any]]) -> LlmCall | None:
    """What a span says about a model call, or None when it is not one.

    A span is a model call when it names a model or carries messages or an answer.
    """
    if not events and not any(key.startswith(_READ_PREFIXES) for key in attributes):
        return None  # nothing a model call is read from (most spans of an application)
    a = attributes
    model = _first(
        a,
        "gen_ai.response.model",
        "gen_ai.request.model",
        "llm.model_name",
        "llm.response.model",
        "llm.request.model",
    )
    messages = _input_messages(a, events)
    output, reason = _output(a, events)
    is_llm = a.get("openinference.span.kind") == "LLM" or a.get("gen_ai.operation.name") in (
        "chat",
        "text_completion",
        "generate_content",
    )
    if model is None and not messages and output is None and not is_llm:
        return None
    finishes = _json(_first(a, "gen_ai.response.finish_reasons", "llm.response.finish_reason"))
    if reason is None and finishes is not None:
        reason = finishes[0] if isinstance(finishes, list) and finishes else finishes
    return LlmCall(
        model=str(model) if model is not None else None,
        messages=messages,
        output=output,
        input_tokens=_int(
            _first(
                a,
                "gen_ai.usage.input_tokens",
                "gen_ai.usage.prompt_tokens",
                "llm.token_count.prompt",
                "llm.usage.prompt_tokens",
            )
        ),
        output_tokens=_int(
            _first(
                a,
                "gen_ai.usage.output_tokens",
                "gen_ai.usage.completion_tokens",
                "llm.token_count.completion",
                "llm.usage.completion_tokens",
            )
        ),
        total_tokens=_int(
            _first(
                a, "llm.usage.total_tokens", "llm.token_count.total", "gen_ai.usage.total_tokens"
            )
        ),
        finish_reason=str(reason) if reason not in (None, [], "") else None,
        params=_params(a),
        prompt_name=_first(a, "promptdeck.prompt.name"),
        variables=_variables(a),
    )
