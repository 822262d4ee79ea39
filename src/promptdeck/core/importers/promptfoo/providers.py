"""promptfoo provider ids → promptdeck model aliases (litellm model strings).

``openai:chat:M``, ``openai:M``, ``openai:responses:M`` → ``openai/M``;
``anthropic:messages:M`` → ``anthropic/M``; ``azure:chat:D`` → ``azure/D``;
``ollama:chat:M`` → ``ollama_chat/M``; ``vertex:M`` → ``vertex_ai/M``; ``bedrock:M``
→ ``bedrock/M``; ``groq``, ``mistral``, ``openrouter``, ``deepseek``, ``together``,
``fireworks``, ``cohere``, ``gemini``/``google`` likewise; ``litellm:M`` → ``M``.
``config.apiBaseUrl`` (or ``apiHost``) becomes the alias's ``api_base`` (an
OpenAI-compatible server), ``apiKeyEnvar`` its ``api_key_env``; the call parameters
``temperature``, ``max_tokens``, ``top_p``, ``seed``, ``stop``, ``presence_penalty``
and ``frequency_penalty`` its ``params``. Providers that run code or call arbitrary
endpoints (``exec:``, ``python:``, ``file://``, ``http``, ``webhook``…) are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from promptdeck.core.importers.promptfoo.prompts import slug
from promptdeck.core.importers.promptfoo.report import ImportReport
from promptdeck.core.importers.promptfoo.source import Doc

__all__ = ["AliasDraft", "ProviderSet", "model_string", "read_providers"]

_PREFIXES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "azure": "azure",
    "azureopenai": "azure",
    "ollama": "ollama",
    "vertex": "vertex_ai",
    "bedrock": "bedrock",
    "groq": "groq",
    "mistral": "mistral",
    "openrouter": "openrouter",
    "deepseek": "deepseek",
    "togetherai": "together_ai",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
    "cohere": "cohere",
    "google": "gemini",
    "gemini": "gemini",
    "perplexity": "perplexity",
    "xai": "xai",
    "cerebras": "cerebras",
}
_KINDS = ("chat", "completion", "responses", "messages", "converse")
_CODE = ("exec:", "python:", "file://", "http:", "https:", "http", "webhook:", "golang:", "ruby:")
_PARAMS = {
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "maxTokens": "max_tokens",
    "max_completion_tokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "maxOutputTokens": "max_tokens",
    "num_predict": "max_tokens",
    "max_gen_len": "max_tokens",
    "stopSequences": "stop",
    "top_p": "top_p",
    "topP": "top_p",
    "seed": "seed",
    "stop": "stop",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
_ROUTING = {  # litellm's names for where a cloud model runs, by model prefix
    ("bedrock/", "region"): "aws_region_name",
    ("vertex_ai/", "region"): "vertex_location",
    ("vertex_ai/", "projectId"): "vertex_project",
    ("azure/", "apiVersion"): "api_version",
}
_ENDPOINT = ("apiBaseUrl", "apiHost", "baseUrl", "basePath")
_ALSO = {"apiKeyEnvar", "apiKey", "response_format", "tools"}


@dataclass
class AliasDraft:
    """A model alias to append to ``promptdeck.toml``."""

    name: str
    model: str
    where: str
    api_base: str | None = None
    api_key_env: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProviderSet:
    """The aliases, plus what prompts and assertions need from provider configs."""

    aliases: list[AliasDraft] = field(default_factory=list)
    judges: list[AliasDraft] = field(default_factory=list)
    response_format: dict[str, Any] | None = None
    tools: list[Any] | None = None


def model_string(provider_id: str) -> str | None:
    """The litellm model string of a promptfoo provider id, or ``None`` when unknown."""
    parts = provider_id.split(":")
    head = parts[0].lower()
    if head == "litellm" and len(parts) > 1:
        rest = [p for p in parts[1:] if p not in _KINDS] or parts[1:]
        return ":".join(rest)
    prefix = _PREFIXES.get(head)
    if prefix is None or len(parts) < 2:
        return None
    rest = parts[1:]
    kind = rest[0] if len(rest) > 1 and rest[0] in _KINDS else None
    if kind is not None:
        rest = rest[1:]
    model = ":".join(rest)
    if not model:
        return None
    if head == "ollama" and kind == "chat":
        prefix = "ollama_chat"
    if head == "openai" and kind == "completion":
        prefix = "text-completion-openai"
    return f"{prefix}/{model}"


def _entries(raw: Any) -> list[tuple[Any, list[str | int]]]:
    if isinstance(raw, list):
        out: list[tuple[Any, list[str | int]]] = []
        for i, item in enumerate(raw):
            if isinstance(item, dict) and len(item) == 1 and "id" not in item:
                key, options = next(iter(item.items()))  # the {id: {config…}} form
                merged = {"id": key, **(options if isinstance(options, dict) else {})}
                out.append((merged, ["providers", i]))
            else:
                out.append((item, ["providers", i]))
        return out
    return [(raw, ["providers"])]


def read_providers(
    doc: Doc, report: ImportReport, load: Callable[[str], tuple[Any, str | None]] | None = None
) -> ProviderSet:
    """The config's ``providers`` (or ``targets``) as aliases; the rest reported.

    Args:
        doc: The config.
        report: Where skipped and carried items go.
        load: Reads a ``file://`` value (``tools``, ``response_format``), as
            :meth:`Source.value` does.
    """
    key = "providers" if "providers" in doc.data else "targets"
    found = ProviderSet()
    names: set[str] = set()
    for item, loc in _entries(doc.data.get(key, [])):
        loc = [key, *loc[1:]]
        where, what = doc.at(loc), ".".join(str(p) for p in loc)
        options: dict[str, Any] = item if isinstance(item, dict) else {"id": item}
        provider_id = options.get("id")
        if not isinstance(provider_id, str):
            report.skipped(where, what, "a provider needs an `id` string")
            continue
        raw_config = options.get("config")
        config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
        for name in ("tools", "response_format", "functions"):
            value = config.get(name)
            if load is not None and isinstance(value, str) and value.startswith("file://"):
                loaded, problem = load(value)
                if problem is None:
                    config = {**config, name: loaded}
        alias = _alias(provider_id, options, config, (doc, loc), report, found)
        if alias is None:
            continue
        base, n = alias.name, 2
        while alias.name in names:
            alias.name, n = f"{base}-{n}", n + 1
        names.add(alias.name)
        found.aliases.append(alias)
        report.carried(where, f"{what} {provider_id}", f"model alias {alias.name} ({alias.model})")
    return found


def _alias(
    provider_id: str,
    options: dict[str, Any],
    config: dict[str, Any],
    at: tuple[Doc, list[str | int]],
    report: ImportReport,
    found: ProviderSet,
) -> AliasDraft | None:
    doc, loc = at
    where, what = doc.at(loc), ".".join(str(p) for p in loc)

    def key_at(key: str) -> str:
        return doc.at([*loc, "config", key])

    if provider_id.lower().startswith(_CODE) or provider_id.lower() in ("echo", "sequence"):
        report.skipped(where, f"{what} {provider_id}", "a provider promptdeck cannot run")
        return None
    model = model_string(provider_id)
    endpoint = next((str(config[k]) for k in _ENDPOINT if isinstance(config.get(k), str)), None)
    if model is None:
        report.skipped(where, f"{what} {provider_id}", "an unknown provider kind")
        return None
    if endpoint is not None and not model.startswith("openai/"):
        model = "openai/" + model.split("/", 1)[-1]
    label = options.get("label")
    name = slug(str(label) if label else model.split("/", 1)[-1], "model")
    alias = AliasDraft(name=name, model=model, where=where, api_base=endpoint)
    if isinstance(config.get("apiKeyEnvar"), str):
        alias.api_key_env = config["apiKeyEnvar"]
    if "apiKey" in config:
        report.note(
            key_at("apiKey"), f"{what}.config.apiKey", "keys never go in files; use api_key_env"
        )
    generation = config.get("generationConfig")
    if isinstance(generation, dict):  # Google's nesting of the call parameters
        config = {k: v for k, v in config.items() if k != "generationConfig"}
        for key, value in generation.items():
            if key in _PARAMS and key not in config:
                config[key] = value
            else:
                report.skipped(
                    key_at("generationConfig"),
                    f"{what}.config.generationConfig.{key}",
                    "no promptdeck call parameter",
                )
    for key, value in config.items():
        routing = next(
            (n for (pre, k), n in _ROUTING.items() if k == key and model.startswith(pre)), None
        )
        if routing is not None and isinstance(value, str | date):  # YAML reads 2024-10-21 as a date
            alias.params[routing] = str(value)
        elif key in _PARAMS and isinstance(value, int | float | str | list):
            alias.params[_PARAMS[key]] = value
        elif key == "response_format" and isinstance(value, dict):
            found.response_format = value
            report.note(
                key_at(key), f"{what}.config.response_format", "set on every imported prompt"
            )
        elif key == "tools" and isinstance(value, list):
            found.tools = value
            report.note(where, f"{what}.config.tools", "kept for is-valid-openai-tools-call only")
        elif key in ("apiKeyEnvar", "apiKey") or key in _ENDPOINT:
            continue
        else:
            why = "no promptdeck call parameter" if key not in _ALSO else "not understood"
            report.skipped(key_at(key), f"{what}.config.{key}", why)
    for key in sorted(set(options) - {"id", "label", "config"}):
        report.skipped(where, f"{what}.{key}", "no promptdeck alias setting")
    return alias
