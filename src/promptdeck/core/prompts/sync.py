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
from sqlmodel import Session, col, select

from promptdeck.core.prompts.checks import load_prompt
from promptdeck.core.prompts.files import PROMPT_SUFFIX, ParsedPrompt, prompt_name_from_path
from promptdeck.errors import ConfigError
from promptdeck.identity import current_actor
from promptdeck.paths import WorkspacePaths
from promptdeck.safeload.limits import read_text
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
    kept: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    """For each error's title: the prompt and its newest stored version (None: none)."""

    def kept_note(self, error: ConfigError) -> str:
        """What is true of a file that failed to load: which version stays usable.

        ``NAME`` and ``NAME@latest`` are the file's error until it loads, so a command
        on them fails; an earlier stored version stays usable by number or label.
        """
        name, version = self.kept.get(error.title, ("", None))
        if not name:
            return "not loaded"
        if version is None:
            return f"not loaded; no version of {name!r} is stored yet"
        return f"not loaded; {name}@{version}, its last good version, stays usable"

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

    The files are read, and the changed ones parsed, before any lock is taken. When
    nothing changed (the common case) the sync only reads: it never waits for another
    process's writer. Otherwise it writes in one short immediate transaction (a
    savepoint; see :mod:`promptdeck.store.db`), deciding again from what the database
    holds once it has the write lock.

    Args:
        session: An open session; the caller commits.
        paths: The workspace.

    Returns:
        What changed and what failed to parse.
    """
    files = [_DiskFile.read(paths, path) for path in prompt_files(paths)]
    report = _unchanged(session, files)
    if report is None:
        try:
            with session.begin_nested():
                report = _sync(session, files, paths.root)
        except IntegrityError:
            # Another writer added the same version first; its work is ours.
            with session.begin_nested():
                report = _sync(session, files, paths.root)
    if report.errors:
        _note_kept(session, files, report)
    return report


def _note_kept(session: Session, files: list[_DiskFile], report: SyncReport) -> None:
    """Record, for each file that failed, its prompt and newest stored version."""
    failed = {f.error.title: f for f in files if f.error is not None}
    for error in report.errors:
        file = failed.get(error.title)
        if file is None:
            continue
        prompt = repo.get_prompt_by_path(session, file.rel) or repo.get_prompt(
            session, prompt_name_from_path(file.path)
        )
        if prompt is None or prompt.id is None:
            report.kept[error.title] = (prompt_name_from_path(file.path), None)
            continue
        versions = repo.list_versions(session, prompt.id)
        newest = max((v.version for v in versions), default=None)
        report.kept[error.title] = (prompt.name, newest)


_SYNC_FORMAT = "2"
"""Bump it when a prompt's canonical form or checks change: every file is parsed once more.

2: templates must compile and guardrails name known scanners.
"""


def _file_sha(text: str) -> str:
    """Digest of a prompt file's text (salted with :data:`_SYNC_FORMAT`).

    A file whose digest matches the one stored at the last sync parsed to the version
    ``latest`` points at, so it is not parsed again.
    """
    return hashlib.sha256(f"{_SYNC_FORMAT}\0{text}".encode()).hexdigest()


@dataclass
class _DiskFile:
    """One prompt file as read from disk: its text (or why it cannot be read), parsed lazily."""

    path: Path
    rel: str
    text: str | None
    digest: str | None
    error: ConfigError | None
    parsed: ParsedPrompt | None = None

    @classmethod
    def read(cls, paths: WorkspacePaths, path: Path) -> _DiskFile:
        rel = paths.relative(path)
        try:
            text = _read(path, rel)
        except ConfigError as error:
            return cls(path, rel, None, None, error)
        return cls(path, rel, text, _file_sha(text), None)

    def parse(self) -> None:
        """Parse the text once (a parse error is kept in ``error``)."""
        if self.text is None or self.parsed is not None or self.error is not None:
            return
        try:
            self.parsed = load_prompt(self.text, self.rel)
        except ConfigError as error:
            self.error = error


def _unchanged(session: Session, files: list[_DiskFile]) -> SyncReport | None:
    """The report of a sync that would write nothing, or None when it would write.

    Nothing to write: every file is as last synced (same digest, no error), or still
    fails to load with the error already recorded on its prompt; and no prompt's file
    is gone. Files that changed are parsed here, before the write lock is taken.

    It reads plain columns (no ORM objects), so the session's identity map holds no
    rows that the sync under the write lock would then see stale.
    """
    rows = session.exec(
        select(Prompt.name, Prompt.source_path, Prompt.file_sha, Prompt.last_error)
        .where(col(Prompt.file_present) == True)  # noqa: E712 - an integer column (IntBool)
        .order_by(col(Prompt.name))
    ).all()
    by_path = {row[1]: row for row in rows}
    # Two prompts claiming one file: let the full sync sort it out.
    write = len(by_path) != len(rows)
    report = SyncReport()
    names: set[str] = set()
    for file in files:
        row = by_path.get(file.rel)
        if row is None:
            file.parse()
            write = True
            continue
        name, _, file_sha, last_error = row
        if last_error is None and file.digest is not None and file_sha == file.digest:
            write = write or name in names
            names.add(name)
            continue
        # Changed, or it failed last time: unchanged only if it fails the same way now.
        file.parse()
        if file.error is None or file.error.title != last_error or file_sha is not None:
            write = True
        else:
            report.errors.append(file.error)
    present = {file.rel for file in files}
    if write or any(row[1] not in present for row in rows):
        return None
    return report


def _sync(session: Session, files: list[_DiskFile], root: Path) -> SyncReport:
    report = SyncReport()
    present: set[str] = set()
    seen: dict[str, str] = {}
    known = repo.list_prompts(session)
    by_name = {prompt.name: prompt for prompt in known}
    by_path = {prompt.source_path: prompt for prompt in known}
    for file in files:
        path, rel = file.path, file.rel
        present.add(rel)
        if file.text is None:
            assert file.error is not None
            report.errors.append(file.error)
            _record_error(session, rel, prompt_name_from_path(path), file.error)
            continue
        digest = file.digest
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
        file.parse()
        if file.parsed is None:
            assert file.error is not None
            report.errors.append(file.error)
            _record_error(session, rel, prompt_name_from_path(path), file.error)
            continue
        parsed = file.parsed
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
                author=current_actor(root),
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
    return read_text(path, rel, what="prompt file")


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
