"""Export the approved versions behind a label to a registry folder an application reads.

Formats, each with its own index and manifest, so one never breaks the other:
- ``native``: ``index.json`` (name -> label -> version, hash, file), one JSON file per
  exported version (``prompts/<name>/v<N>.json``: canonical YAML, its labels,
  messages, params, variables with their rules, guardrails, content hash, approval
  and evidence), and ``manifest.json`` with the SHA-256 of ``index.json`` and of
  every version file; with a signing key, ``manifest.sig`` (Ed25519 over the
  manifest). Read it with :mod:`promptdeck.registry`.
- ``langfuse``: the same, under ``langfuse/`` (its own ``index.json`` and
  ``manifest.json``): one file per version in the shape Langfuse's create-prompt API
  takes (``name``, ``type``, ``prompt``, ``config``, ``labels``). The native reader
  never looks there.

Exports are deterministic: re-exporting the same versions writes nothing. Only the
versions some label points at stay: a version whose approval was revoked, or that no
label points at any more, leaves the registry at the next export (its index entries
and its file). A version holding a secret is never exported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlmodel import Session, col, select

from promptdeck.core.prompts.export_documents import langfuse_document, native_document
from promptdeck.core.prompts.refs import ResolvedPrompt, resolve_prompt
from promptdeck.core.prompts.secret_gate import SecretInPromptError, refuse_secrets, secret_kinds
from promptdeck.errors import CheckFailedError, ConfigError, NotFoundError, UsageError
from promptdeck.registry import FORMAT, SIGNATURE_FILE, version_file
from promptdeck.store import prompts_repo as repo
from promptdeck.store.approvals_repo import REVOKED
from promptdeck.store.tables import Approval, ApprovalEvent, Prompt, PromptVersion

if TYPE_CHECKING:
    from promptdeck.core.prompts.signing import SigningKey

__all__ = ["LANGFUSE_FORMAT", "ExportReport", "export_registry"]

Format = Literal["native", "langfuse"]
LANGFUSE_FORMAT = "promptdeck-langfuse/1"
"""The name of the Langfuse export's own index and manifest format."""
_OLD_FORMATS = ("promptdeck-registry/1",)
"""Native indexes an export still reads (and rewrites in the current format)."""


@dataclass
class ExportReport:
    """What an export did (paths relative to the registry folder)."""

    folder: Path
    exported: list[tuple[str, int]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    signed_by: str | None = None


@dataclass(frozen=True)
class _Layout:
    """Where one format keeps its index, manifest and version files."""

    root: Path
    prefix: str
    index_format: str
    relative: Callable[[str, int], str]
    document: Callable[[ResolvedPrompt, list[str], Approval], dict[str, Any]]

    def owns(self, relative: str) -> bool:
        """Whether ``relative`` (under :attr:`root`) is a version file of this format."""
        if self.prefix:
            return "/" not in relative and relative not in ("index.json", "manifest.json")
        return relative.startswith("prompts/")


def _layout(folder: Path, fmt: Format) -> _Layout:
    if fmt == "native":
        return _Layout(folder, "", FORMAT, version_file, native_document)
    return _Layout(
        folder / "langfuse",
        "langfuse/",
        LANGFUSE_FORMAT,
        lambda name, version: f"{name}.v{version}.json",
        langfuse_document,
    )


def _dumps(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _write(layout: _Layout, relative: str, data: bytes, report: ExportReport) -> None:
    path = layout.root / relative
    if path.is_file() and path.read_bytes() == data:
        report.unchanged.append(layout.prefix + relative)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    report.written.append(layout.prefix + relative)


def _drop_revoked(session: Session, index: dict[str, Any]) -> None:
    """Remove from the index the exported versions no longer approved."""
    approved = set(
        session.exec(
            select(Prompt.name, PromptVersion.version)
            .join(PromptVersion, col(PromptVersion.prompt_id) == col(Prompt.id))
            .join(Approval, col(Approval.version_id) == col(PromptVersion.id))
        ).all()
    )
    for name, labels in index["prompts"].items():
        for label in list(labels):
            if (name, labels[label]["version"]) not in approved:
                del labels[label]
    index["prompts"] = {name: labels for name, labels in index["prompts"].items() if labels}


def _read_index(layout: _Layout) -> dict[str, Any]:
    """The layout's index as it is on disk (entries checked), or an empty one."""
    index: dict[str, Any] = {"format": layout.index_format, "prompts": {}}
    try:
        old = json.loads((layout.root / "index.json").read_bytes())
    except (OSError, ValueError):
        return index
    accepted = (layout.index_format, *(() if layout.prefix else _OLD_FORMATS))
    if not isinstance(old, dict) or old.get("format") not in accepted:
        return index
    prompts = old.get("prompts")
    for name, labels in (prompts if isinstance(prompts, dict) else {}).items():
        for label, entry in (labels if isinstance(labels, dict) else {}).items():
            if isinstance(entry, dict) and type(entry.get("version")) is int:
                kept = {**entry, "file": layout.relative(name, entry["version"])}
                index["prompts"].setdefault(name, {})[label] = kept
    return index


def _kept_document(layout: _Layout, relative: str, labels: list[str]) -> dict[str, Any] | None:
    """A version exported before and still behind a label, with its labels brought up to date."""
    try:
        document = json.loads((layout.root / relative).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    document["labels"] = labels
    return document


def export_registry(
    session: Session,
    folder: Path,
    *,
    label: str = "production",
    names: list[str] | None = None,
    fmt: Format = "native",
    sign: SigningKey | None = None,
) -> ExportReport:
    """Export every prompt's version behind ``label`` (all must be approved).

    Args:
        session: The session.
        folder: The registry folder (created if missing).
        label: The label whose versions to export.
        names: Only these prompts (default: every prompt that has the label).
        fmt: ``native`` or ``langfuse``.
        sign: Sign the manifest with this key (``manifest.sig``); without one, a
            signature left by an earlier export is removed.

    Returns:
        What was exported and which files changed.

    Raises:
        CheckFailedError: A version behind the label is not approved (nothing is written).
        NotFoundError: No prompt (of those named) has the label.
        SecretInPromptError: A version to export holds a secret (nothing is written).
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
    for target in targets:
        refuse_secrets(target, "exported")
    layout = _layout(folder, fmt)
    index = _read_index(layout)
    _drop_revoked(session, index)
    for target in targets:
        index["prompts"].setdefault(target.name, {})[label] = {
            "version": target.version,
            "hash": target.content_hash,
            "file": layout.relative(target.name, target.version),
        }
        report.exported.append((target.name, target.version))
    labels_of: dict[str, list[str]] = {}
    for labels in index["prompts"].values():
        for lab, entry in labels.items():
            labels_of.setdefault(entry["file"], []).append(lab)
    documents: dict[str, bytes] = {}
    for target in targets:
        relative = layout.relative(target.name, target.version)
        labels = sorted(labels_of[relative])
        document = layout.document(target, labels, approvals[target.version_id])
        documents[relative] = _dumps(document)
    for name, labels in list(index["prompts"].items()):
        for lab, entry in list(labels.items()):
            relative = entry["file"]
            if relative in documents:
                continue
            kept = _kept_document(layout, relative, sorted(labels_of[relative]))
            if kept is None:  # its file is gone: the entry cannot be served
                del labels[lab]
                continue
            text = str(kept.get("canonical") or json.dumps(kept.get("prompt", "")))
            kinds = secret_kinds(text)
            if kinds:
                raise SecretInPromptError(
                    f"{name}@{entry['version']} (already in {folder}) contains a secret "
                    f"({', '.join(kinds)}); nothing was exported",
                    f"move {lab!r} off it (promptdeck prompts label {name}@VERSION {lab}), "
                    "rotate the key, and export again",
                )
            documents[relative] = _dumps(kept)
    index["prompts"] = {name: labels for name, labels in index["prompts"].items() if labels}
    _save(layout, index, documents, report, sign)
    return report


def _save(
    layout: _Layout,
    index: dict[str, Any],
    documents: dict[str, bytes],
    report: ExportReport,
    sign: SigningKey | None,
) -> None:
    """Write the version files, the index, the manifest (and its signature); sweep the rest."""
    layout.root.mkdir(parents=True, exist_ok=True)
    for relative, data in sorted(documents.items()):
        _write(layout, relative, data, report)
    on_disk = sorted(
        p.relative_to(layout.root).as_posix()
        for p in layout.root.rglob("*.json")
        if p.is_file() and not p.is_symlink()
    )
    for relative in on_disk:
        if layout.owns(relative) and relative not in documents:
            (layout.root / relative).unlink()
            report.removed.append(layout.prefix + relative)
    public = {
        "format": layout.index_format,
        "prompts": {
            name: {
                lab: {"file": e["file"], "hash": e.get("hash"), "version": e["version"]}
                for lab, e in sorted(labels.items())
            }
            for name, labels in sorted(index["prompts"].items())
        },
    }
    index_bytes = _dumps(public)
    _write(layout, "index.json", index_bytes, report)
    files = {"index.json": hashlib.sha256(index_bytes).hexdigest()}
    files |= {relative: hashlib.sha256(data).hexdigest() for relative, data in documents.items()}
    manifest = _dumps({"format": layout.index_format, "files": dict(sorted(files.items()))})
    _write(layout, "manifest.json", manifest, report)
    signature = layout.root / SIGNATURE_FILE
    if sign is not None:
        _write(layout, SIGNATURE_FILE, sign.signature_file(manifest), report)
        report.signed_by = sign.public
    elif signature.is_file():  # it signed the previous manifest; it would not verify now
        signature.unlink()
        report.removed.append(layout.prefix + SIGNATURE_FILE)
