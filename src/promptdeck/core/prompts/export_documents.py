"""The files an export writes for one version: native (``promptdeck.registry``) or Langfuse."""

from __future__ import annotations

import re
from typing import Any

from promptdeck.core.prompts.refs import ResolvedPrompt
from promptdeck.store.tables import Approval

__all__ = ["langfuse_document", "native_document"]

_SIMPLE_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def native_document(
    target: ResolvedPrompt, labels: list[str], approval: Approval
) -> dict[str, Any]:
    """A native version file: the canonical content the reader renders, and its labels.

    ``labels`` lets the reader check that the file it serves is the one the label
    points at (a rolled-back index entry names a file that does not carry the label).
    """
    file = target.file
    return {
        "name": target.name,
        "version": target.version,
        "labels": labels,
        "content_hash": target.content_hash,
        "canonical": target.content,
        "description": file.description,
        "model": file.model,
        "params": file.params.model_dump(exclude_none=True),
        "variables": {
            k: v.model_dump(exclude_none=True, exclude_defaults=True)
            for k, v in file.variables.items()
        },
        "guardrails": file.guardrails.model_dump(exclude_none=True) if file.guardrails else {},
        "approval": {
            "approved_at": approval.created_at.isoformat(),
            "note": approval.note,
            "evidence_runs": list(approval.evidence),
        },
    }


def langfuse_document(
    target: ResolvedPrompt, labels: list[str], approval: Approval
) -> dict[str, Any]:
    """A version in the shape of Langfuse's create-prompt API (``{{ var }}`` as ``{{var}}``)."""
    del approval  # Langfuse has no place for it
    file = target.file
    config: dict[str, Any] = {
        "model": file.model,
        **file.params.model_dump(exclude_none=True),
        "variables": {
            k: v.model_dump(exclude_none=True, exclude_defaults=True)
            for k, v in file.variables.items()
        },
        "promptdeck": {"version": target.version, "content_hash": target.content_hash},
    }
    if file.guardrails is not None:
        config["guardrails"] = file.guardrails.model_dump(exclude_none=True)

    def mustache(text: str) -> str:
        return _SIMPLE_VAR.sub(r"{{\1}}", text)

    if file.messages:
        prompt: Any = [{"role": m.role, "content": mustache(m.content)} for m in file.messages]
    else:
        prompt = []
        if file.system is not None:
            prompt.append({"role": "system", "content": mustache(file.system)})
        prompt.append({"role": "user", "content": mustache(file.template or "")})
    return {
        "name": target.name,
        "type": "chat",
        "prompt": prompt,
        "config": config,
        "labels": labels,
        "tags": list(file.tags),
    }
