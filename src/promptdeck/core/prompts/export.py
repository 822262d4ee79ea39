"""Export the approved versions behind a label to a registry folder an application reads.

Formats:
- ``native``: ``index.json`` (name -> label -> version, hash, file), one JSON file per
  exported version (``prompts/<name>/v<N>.json``: canonical YAML, messages, params,
  variables with their rules, guardrails, content hash, approval and evidence), and
  ``manifest.json`` with the SHA-256 of every file. Read it with :mod:`promptdeck.registry`.
- ``langfuse``: one file per version in the shape Langfuse's create-prompt API takes
  (``name``, ``type``, ``prompt``, ``config``, ``labels``), plus the same manifest.

Exports are deterministic: re-exporting the same versions writes nothing. A version
whose approval was revoked leaves the registry at the next export (its index entries
and its file).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlmodel import Session, col, select

from promptdeck.core.prompts.refs import ResolvedPrompt, resolve_prompt
from promptdeck.errors import CheckFailedError, ConfigError, NotFoundError, UsageError
from promptdeck.registry import FORMAT
from promptdeck.store import prompts_repo as repo
from promptdeck.store.approvals_repo import REVOKED
from promptdeck.store.tables import Approval, ApprovalEvent, Prompt, PromptVersion

__all__ = ["ExportReport", "export_registry"]

Format = Literal["native", "langfuse"]


@dataclass
class ExportReport:
    """What an export did."""

    folder: Path
    exported: list[tuple[str, int]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _dumps(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _write(folder: Path, relative: str, data: bytes, report: ExportReport) -> None:
    path = folder / relative
    if path.is_file() and path.read_bytes() == data:
        report.unchanged.append(relative)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    report.written.append(relative)


_SIMPLE_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _langfuse(target: ResolvedPrompt, labels: list[str]) -> dict[str, Any]:
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


def _drop_revoked(
    session: Session, folder: Path, index: dict[str, Any], report: ExportReport
) -> None:
    """Remove from the index, and the folder, the exported versions no longer approved."""
    approved = set(
        session.exec(
            select(Prompt.name, PromptVersion.version)
            .join(PromptVersion, col(PromptVersion.prompt_id) == col(Prompt.id))
            .join(Approval, col(Approval.version_id) == col(PromptVersion.id))
        ).all()
    )
    dropped: set[str] = set()
    kept: set[str] = set()
    for name, labels in index["prompts"].items():
        for label in list(labels):
            entry = labels[label]
            if (name, entry.get("version")) in approved:
                kept.add(str(entry.get("file")))
            else:
                dropped.add(str(entry.get("file")))
                del labels[label]
    index["prompts"] = {name: labels for name, labels in index["prompts"].items() if labels}
    for relative in sorted(dropped - kept):
        path = folder / relative
        if path.is_file() and path.resolve().is_relative_to(folder.resolve()):
            path.unlink()
            report.removed.append(relative)


def export_registry(
    session: Session,
    folder: Path,
    *,
    label: str = "production",
    names: list[str] | None = None,
    fmt: Format = "native",
) -> ExportReport:
    """Export every prompt's version behind ``label`` (all must be approved).

    Args:
        session: The session.
        folder: The registry folder (created if missing).
        label: The label whose versions to export.
        names: Only these prompts (default: every prompt that has the label).
        fmt: ``native`` or ``langfuse``.

    Returns:
        What was exported and which files changed.

    Raises:
        CheckFailedError: A version behind the label is not approved (nothing is written).
        NotFoundError: No prompt (of those named) has the label.
    """
    if fmt not in ("native", "langfuse"):
        raise UsageError(f"unknown export format {fmt!r}", "use native or langfuse")
    prompts = [p for p in repo.list_prompts(session) if names is None or p.name in names]
    missing = sorted(set(names or []) - {p.name for p in prompts})
    if missing:
        resolve_prompt(session, missing[0])  # raises a helpful not-found error
    report = ExportReport(folder=folder)
    targets: list[ResolvedPrompt] = []
    for prompt in prompts:
        assert prompt.id is not None
        if repo.get_label(session, prompt.id, label) is None:
            if names and prompt.last_error:
                raise ConfigError(prompt.last_error, "fix the prompt file, then export again")
            report.skipped.append(prompt.name)
            continue
        targets.append(resolve_prompt(session, f"{prompt.name}@{label}"))
    if not targets:
        raise NotFoundError(
            f"no prompt has the label {label!r}; nothing to export",
            f"point it at an approved version: promptdeck prompts label NAME@VERSION {label}",
        )
    approvals = {
        a.version_id: a
        for a in session.exec(
            select(Approval).where(Approval.version_id.in_([t.version_id for t in targets]))  # type: ignore[attr-defined]
        )
    }
    missing_ids = [t.version_id for t in targets if t.version_id not in approvals]
    if missing_ids:
        revoked = set(
            session.exec(
                select(ApprovalEvent.version_id).where(
                    col(ApprovalEvent.version_id).in_(missing_ids),
                    ApprovalEvent.action == REVOKED,
                )
            ).all()
        )
        unapproved = [
            f"{t.name}@{t.version}" + (" (approval revoked)" if t.version_id in revoked else "")
            for t in targets
            if t.version_id in missing_ids
        ]
        first = next(t for t in targets if t.version_id in missing_ids)
        hint = (
            f"move {label!r} to an approved version: "
            f"promptdeck prompts label {first.name}@VERSION {label}"
            if first.version_id in revoked
            else f"approve first: promptdeck prompts approve {first.name}@{first.version}"
        )
        raise CheckFailedError(
            f"cannot export label {label!r}: not approved: {', '.join(unapproved)}", hint
        )
    folder.mkdir(parents=True, exist_ok=True)
    index_path = folder / "index.json"
    index: dict[str, Any] = {"format": FORMAT, "prompts": {}}
    if index_path.is_file():
        try:
            old = json.loads(index_path.read_bytes())
            if isinstance(old, dict) and old.get("format") == FORMAT:
                index = old
        except ValueError:
            pass
    _drop_revoked(session, folder, index, report)
    for target in targets:
        approval = approvals[target.version_id]
        relative = f"prompts/{target.name}/v{target.version}.json"
        labels = sorted(
            {
                lab
                for lab, e in index["prompts"].get(target.name, {}).items()
                if e.get("version") == target.version
            }
            | {label}
        )
        if fmt == "native":
            file = target.file
            document = {
                "name": target.name,
                "version": target.version,
                "content_hash": target.content_hash,
                "canonical": target.content,
                "description": file.description,
                "model": file.model,
                "params": file.params.model_dump(exclude_none=True),
                "variables": {
                    k: v.model_dump(exclude_none=True, exclude_defaults=True)
                    for k, v in file.variables.items()
                },
                "guardrails": file.guardrails.model_dump(exclude_none=True)
                if file.guardrails
                else {},
                "approval": {
                    "approved_at": approval.created_at.isoformat(),
                    "note": approval.note,
                    "evidence_runs": list(approval.evidence),
                },
            }
        else:
            relative = f"langfuse/{target.name}.v{target.version}.json"
            document = _langfuse(target, labels)
        _write(folder, relative, _dumps(document), report)
        index["prompts"].setdefault(target.name, {})[label] = {
            "version": target.version,
            "hash": target.content_hash,
            "file": relative,
        }
        report.exported.append((target.name, target.version))
    _write(folder, "index.json", _dumps(index), report)
    files = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*.json")
        if p.is_file() and p.name != "manifest.json"
    )
    manifest = {
        "format": FORMAT,
        "files": {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in files},
    }
    _write(folder, "manifest.json", _dumps(manifest), report)
    return report
