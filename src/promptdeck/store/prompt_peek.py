"""The prompt list read straight from the SQLite file, before the workspace opens.

Opening a workspace loads SQLAlchemy, SQLModel and pydantic (about half a second on
a slow machine) and then syncs the prompt files. The workbench's first screen does
not wait for that: it shows the list as the database last stored it, read here with
the standard library's ``sqlite3`` in a read-only connection, marked as not yet
synced, and replaces it once the workspace has opened and read the files.

The queries are those of :func:`promptdeck.store.prompts_repo.list_prompt_summaries`
and :func:`~promptdeck.store.prompts_repo.latest_contents`, written in SQL (a test
holds the two readers together). Anything unexpected (no file yet, a schema this
promptdeck has not migrated, a damaged or locked file) yields ``None``: the screen
then waits for the workspace as before.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from promptdeck.store.prompt_summary import PromptSummary

__all__ = ["PromptPeek", "peek_prompt_list"]

_PROMPTS = """
SELECT p.id, p.name, p.description, p.source_path, p.file_present, p.last_error,
       c.n, c.latest
FROM prompt AS p
LEFT OUTER JOIN (
    SELECT prompt_id, count(*) AS n, max(version) AS latest
    FROM prompt_version GROUP BY prompt_id
) AS c ON p.id = c.prompt_id
ORDER BY p.name
"""
_LABELS = """
SELECT l.prompt_id, l.name, v.version
FROM label AS l JOIN prompt_version AS v ON l.version_id = v.id
"""
_APPROVED = """
SELECT v.prompt_id, v.version
FROM prompt_version AS v JOIN approval AS a ON a.version_id = v.id
ORDER BY v.version
"""
_RATES = """
SELECT v.prompt_id, r.started_at, count(c.passed), sum(CAST(c.passed AS INTEGER))
FROM prompt_version AS v
JOIN run_cell AS c ON c.prompt_version_id = v.id
JOIN run AS r ON r.id = c.run_id
WHERE c.passed IS NOT NULL
GROUP BY v.prompt_id, r.id
"""
_CONTENTS = """
SELECT p.name, v.content
FROM prompt AS p
JOIN prompt_version AS v ON v.prompt_id = p.id
JOIN (
    SELECT prompt_id, max(version) AS latest FROM prompt_version GROUP BY prompt_id
) AS newest ON newest.prompt_id = v.prompt_id AND newest.latest = v.version
"""


@dataclass(frozen=True)
class PromptPeek:
    """The prompt list as stored, and each prompt's newest content (by name)."""

    summaries: list[PromptSummary]
    contents: dict[str, str]


def peek_prompt_list(database: Path, *, timeout: float = 1.0) -> PromptPeek | None:
    """Read the prompt list from a workspace database without migrating or writing it.

    Args:
        database: The workspace's SQLite file.
        timeout: Seconds to wait for a lock held by another process.

    Returns:
        The stored list, or None when there is no database yet or it cannot be read
        as this promptdeck expects it.
    """
    if not database.is_file():
        return None
    try:
        db = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    except sqlite3.Error:
        return None
    try:
        db.execute("PRAGMA query_only = ON")
        return _read(db)
    except (sqlite3.Error, TypeError, ValueError):
        return None
    finally:
        db.close()


def _read(db: sqlite3.Connection) -> PromptPeek:
    labels: dict[int, dict[str, int]] = {}
    for prompt_id, name, version in db.execute(_LABELS):
        labels.setdefault(prompt_id, {})[str(name)] = int(version)
    approved: dict[int, list[int]] = {}
    for prompt_id, version in db.execute(_APPROVED):
        approved.setdefault(prompt_id, []).append(int(version))
    newest: dict[int, tuple[str, float]] = {}
    for prompt_id, started, graded, passed in db.execute(_RATES):
        if graded and (prompt_id not in newest or str(started) > newest[prompt_id][0]):
            newest[prompt_id] = (str(started), float(passed or 0) / float(graded))
    summaries = [
        PromptSummary(
            name=str(name),
            description=str(description or ""),
            source_path=str(source_path),
            file_present=bool(file_present),
            last_error=None if last_error is None else str(last_error),
            versions=int(n or 0),
            latest_version=int(latest) if latest is not None else None,
            labels=dict(sorted(labels.get(prompt_id, {}).items())),
            approved=approved.get(prompt_id, []),
            pass_rate=newest[prompt_id][1] if prompt_id in newest else None,
        )
        for prompt_id, name, description, source_path, file_present, last_error, n, latest in (
            db.execute(_PROMPTS)
        )
    ]
    contents = {str(name): str(content) for name, content in db.execute(_CONTENTS)}
    return PromptPeek(summaries, contents)
