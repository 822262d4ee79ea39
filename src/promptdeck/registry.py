"""Read an exported prompt registry at run time, in your application.

    from promptdeck import registry
    prompt = registry.load("prompt-registry", "customer-support", label="production")
    rendered = prompt.render(company_name="Acme", customer_name="Ana", ...)
    rendered.messages   # [{"role": "system", "content": ...}, {"role": "user", ...}]
    rendered.params     # {"temperature": 0.7, "max_tokens": 500}

Validation, sanitisation and rendering are the workbench's own code
(:mod:`promptdeck.rendering`), so a prompt renders here exactly as it did there.
Every file is checked against the registry's hashes; a file changed after export
is refused. Light to import: no textual, litellm, deepeval, pydantic or database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptdeck.errors import NotFoundError, RuntimeFailureError
from promptdeck.rendering import PromptTemplate, render_messages, template_from_dict

__all__ = ["FORMAT", "RegistryPrompt", "RenderedMessages", "TamperedError", "load"]

FORMAT = "promptdeck-registry/1"


class TamperedError(RuntimeFailureError):
    """A registry file does not match the hash recorded for it."""


@dataclass(frozen=True)
class RenderedMessages:
    """A rendered prompt: what to send to the model."""

    messages: list[dict[str, str]]
    params: dict[str, Any]
    model: str | None
    variables: dict[str, Any]


@dataclass(frozen=True)
class RegistryPrompt:
    """One exported, approved prompt version."""

    name: str
    version: int
    label: str
    content_hash: str
    model: str | None
    params: dict[str, Any]
    guardrails: dict[str, Any]
    template: PromptTemplate = field(repr=False)

    def render(self, **variables: Any) -> RenderedMessages:
        """Validate and sanitise ``variables`` and render the messages.

        Raises:
            promptdeck.rendering.VariableError: A variable is missing or breaks a rule.
        """
        messages, checked = render_messages(self.template, variables)
        return RenderedMessages(messages, dict(self.params), self.model, checked)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: missing from the registry", "re-export the registry") from exc
    except (OSError, ValueError) as exc:
        raise TamperedError(f"{path}: unreadable registry file ({exc})", "re-export it") from exc


def load(registry_dir: str | Path, name: str, label: str = "production") -> RegistryPrompt:
    """Load the version of prompt ``name`` that ``label`` points at.

    Args:
        registry_dir: The folder written by ``promptdeck export``.
        name: The prompt's name.
        label: The label to follow (default ``production``).

    Returns:
        The prompt, ready to render.

    Raises:
        NotFoundError: No such prompt or label in the registry.
        TamperedError: A file does not match its recorded hash.
    """
    root = Path(registry_dir)
    index = _read_json(root / "index.json")
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise TamperedError(f"{root / 'index.json'}: not a promptdeck registry", "re-export it")
    labels = index.get("prompts", {}).get(name)
    if labels is None:
        known = ", ".join(sorted(index.get("prompts", {}))) or "none"
        raise NotFoundError(f"registry {root} has no prompt {name!r}", f"it has: {known}")
    entry = labels.get(label)
    if entry is None:
        raise NotFoundError(
            f"registry {root}: prompt {name!r} has no label {label!r}",
            f"its labels are: {', '.join(sorted(labels))}",
        )
    path = root / entry["file"]
    raw = path.read_bytes() if path.is_file() else b""
    manifest = _read_json(root / "manifest.json")
    expected_file_hash = manifest.get("files", {}).get(entry["file"])
    if not raw or expected_file_hash != _sha256(raw):
        raise TamperedError(
            f"{path}: does not match the registry manifest; refusing to load it",
            "re-export the registry from the workbench",
        )
    data: Mapping[str, Any] = json.loads(raw)
    canonical = str(data.get("canonical", ""))
    if (
        _sha256(canonical.encode("utf-8")) != entry["hash"]
        or data.get("content_hash") != entry["hash"]
    ):
        raise TamperedError(
            f"{path}: content hash mismatch; refusing to load it",
            "re-export the registry from the workbench",
        )
    import yaml

    content = yaml.safe_load(canonical)
    return RegistryPrompt(
        name=name,
        version=int(data["version"]),
        label=label,
        content_hash=entry["hash"],
        model=content.get("model"),
        params=dict(content.get("params") or {}),
        guardrails=dict(content.get("guardrails") or {}),
        template=template_from_dict(content),
    )
