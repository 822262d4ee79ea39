"""Sync the workspace's prompt files into the database as immutable versions.

Reading is all this does to the user's files. A file that no longer parses keeps
its last good version; the error is recorded on the prompt and reported. A file
that disappears keeps every version; the prompt is marked as having no file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from promptdeck.core.promptfile import PROMPT_SUFFIX, parse_prompt, prompt_name_from_path
from promptdeck.errors import ConfigError
from promptdeck.paths import WorkspacePaths
from promptdeck.store import prompts_repo as repo
from promptdeck.store.tables import Prompt
from promptdeck.timeutil import utcnow

__all__ = ["LATEST_LABEL", "SyncReport", "prompt_files", "sync_prompts"]

LATEST_LABEL = "latest"
"""The label promptdeck keeps on the version that matches the file on disk."""


@dataclass
class SyncReport:
    """What a sync found and did."""

    new_versions: list[tuple[str, int]] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when the sync added versions or found problems."""
        return bool(self.new_versions or self.errors or self.missing)


def prompt_files(paths: WorkspacePaths) -> list[Path]:
    """Return the workspace's prompt files, sorted by path."""
    if not paths.prompts.is_dir():
        return []
    return sorted(p for p in paths.prompts.glob(f"*{PROMPT_SUFFIX}") if p.is_file())


def sync_prompts(session: Session, paths: WorkspacePaths) -> SyncReport:
    """Bring the database in line with the prompt files on disk.

    Args:
        session: An open session; the caller commits.
        paths: The workspace.

    Returns:
        What changed and what failed to parse.
    """
    try:
        with session.begin_nested():
            return _sync(session, paths)
    except IntegrityError:
        # Another process added the same version first; its work is ours.
        with session.begin_nested():
            return _sync(session, paths)


_SYNC_FORMAT = "1"
"""Bump it when a prompt's canonical form changes: every file is then parsed once more."""


def _file_sha(text: str) -> str:
    """Digest of a prompt file's text (salted with :data:`_SYNC_FORMAT`).

    A file whose digest matches the one stored at the last sync parsed to the version
    ``latest`` points at, so it is not parsed again.
    """
    return hashlib.sha256(f"{_SYNC_FORMAT}\0{text}".encode()).hexdigest()


def _sync(session: Session, paths: WorkspacePaths) -> SyncReport:
    report = SyncReport()
    present: set[str] = set()
    seen: dict[str, str] = {}
    known = repo.list_prompts(session)
    by_name = {prompt.name: prompt for prompt in known}
    by_path = {prompt.source_path: prompt for prompt in known}
    for path in prompt_files(paths):
        rel = paths.relative(path)
        present.add(rel)
        try:
            text = _read(path, rel)
        except ConfigError as read_error:
            report.errors.append(read_error)
            _record_error(session, rel, prompt_name_from_path(path), read_error)
            continue
        digest = _file_sha(text)
        same = by_path.get(rel)
        if (
            same is not None
            and same.file_sha == digest
            and same.file_present
            and same.last_error is None
            and same.name not in seen
        ):
            seen[same.name] = rel  # unchanged since the last sync: nothing to do
            continue
        try:
            parsed = parse_prompt(text, rel)
        except ConfigError as parse_error:
            report.errors.append(parse_error)
            _record_error(session, rel, prompt_name_from_path(path), parse_error)
            continue
        name = parsed.file.name
        if name in seen:
            error = ConfigError(
                f"{rel}:1: prompt {name!r} is already defined in {seen[name]}",
                "give each prompt a unique name",
            )
            report.errors.append(error)
            continue
        seen[name] = rel
        prompt = by_name.get(name) or repo.get_prompt(session, name)
        if prompt is None:
            prompt = repo.create_prompt(session, name, rel)
        by_name[name] = prompt
        assert prompt.id is not None
        version = repo.find_version_by_hash(session, prompt.id, parsed.content_hash)
        changed = False
        if version is None:
            version = repo.add_version(
                session,
                prompt,
                content=parsed.canonical,
                content_hash=parsed.content_hash,
                source_path=rel,
            )
            report.new_versions.append((name, version.version))
            changed = True
        assert version.id is not None
        if repo.move_label(session, prompt.id, LATEST_LABEL, version.id) is not None:
            changed = True
        fields = {
            "source_path": rel,
            "file_present": True,
            "last_error": None,
            "description": parsed.file.description,
        }
        changed = _update(prompt, fields) or changed
        if changed:
            prompt.updated_at = utcnow()
        if changed or prompt.file_sha != digest:
            prompt.file_sha = digest
            session.add(prompt)
    for prompt in by_name.values():
        if prompt.source_path not in present and prompt.file_present:
            prompt.file_present = False
            prompt.updated_at = utcnow()
            session.add(prompt)
            report.missing.append(prompt.name)
    report.missing.sort()
    session.flush()
    return report


def _read(path: Path, rel: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{rel}: not UTF-8 text", "save the file as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"{rel}: cannot read ({exc.strerror})", "check permissions") from exc


def _record_error(session: Session, rel: str, stem: str, error: ConfigError) -> None:
    prompt = repo.get_prompt_by_path(session, rel) or repo.get_prompt(session, stem)
    if prompt is None:
        prompt = repo.create_prompt(session, stem, rel)
    fields = {"last_error": error.title, "file_present": True, "source_path": rel, "file_sha": None}
    if _update(prompt, fields):
        prompt.updated_at = utcnow()
        session.add(prompt)


def _update(prompt: Prompt, fields: dict[str, object]) -> bool:
    changed = False
    for key, value in fields.items():
        if getattr(prompt, key) != value:
            setattr(prompt, key, value)
            changed = True
    return changed
