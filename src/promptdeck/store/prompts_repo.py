"""Repository functions for prompts, versions and labels. Each takes an explicit session."""

from __future__ import annotations

from sqlalchemy import Integer, cast, func
from sqlmodel import Session, col, select

from promptdeck.store.prompt_summary import PromptSummary
from promptdeck.store.tables import Approval, Label, LabelEvent, Prompt, PromptVersion, Run, RunCell
from promptdeck.timeutil import utcnow

__all__ = [
    "PromptSummary",
    "add_version",
    "create_prompt",
    "find_version_by_hash",
    "get_label",
    "get_prompt",
    "get_prompt_by_path",
    "get_version",
    "last_pass_rates",
    "latest_contents",
    "list_label_events",
    "list_labels",
    "list_prompt_summaries",
    "list_prompts",
    "list_versions",
    "move_label",
]


def get_prompt(session: Session, name: str) -> Prompt | None:
    """Return the prompt called ``name``, if any."""
    return session.exec(select(Prompt).where(Prompt.name == name)).first()


def get_prompt_by_path(session: Session, source_path: str) -> Prompt | None:
    """Return the prompt last read from ``source_path``, if any."""
    return session.exec(select(Prompt).where(Prompt.source_path == source_path)).first()


def list_prompts(session: Session) -> list[Prompt]:
    """Return every prompt, by name."""
    return list(session.exec(select(Prompt).order_by(col(Prompt.name))))


def create_prompt(session: Session, name: str, source_path: str, description: str = "") -> Prompt:
    """Create a prompt row (no versions yet)."""
    prompt = Prompt(name=name, source_path=source_path, description=description)
    session.add(prompt)
    session.flush()
    return prompt


def find_version_by_hash(
    session: Session, prompt_id: int, content_hash: str
) -> PromptVersion | None:
    """Return the version of a prompt with this content hash, if it exists."""
    query = select(PromptVersion).where(
        PromptVersion.prompt_id == prompt_id, PromptVersion.content_hash == content_hash
    )
    return session.exec(query).first()


def add_version(
    session: Session,
    prompt: Prompt,
    *,
    content: str,
    content_hash: str,
    source_path: str,
    note: str | None = None,
    author: str | None = None,
) -> PromptVersion:
    """Add the next immutable version of ``prompt``.

    Args:
        session: The session.
        prompt: The prompt (already flushed, so it has an id).
        content: The canonical YAML.
        content_hash: SHA-256 of ``content``.
        source_path: The file it was read from, relative to the workspace.
        note: An optional note.
        author: Who synced it (see :mod:`promptdeck.identity`).

    Returns:
        The new version.
    """
    assert prompt.id is not None
    current = session.exec(
        select(func.max(PromptVersion.version)).where(PromptVersion.prompt_id == prompt.id)
    ).one()
    version = PromptVersion(
        prompt_id=prompt.id,
        version=(current or 0) + 1,
        content_hash=content_hash,
        content=content,
        source_path=source_path,
        note=note,
        author=author,
    )
    session.add(version)
    session.flush()
    return version


def move_label(
    session: Session,
    prompt_id: int,
    label: str,
    version_id: int,
    note: str | None = None,
    actor: str | None = None,
) -> LabelEvent | None:
    """Point ``label`` at a version, recording the move.

    Pointing it where it already points records nothing, unless a note is given: the
    note is then kept in the history as a move from that version to itself.

    Args:
        session: The session.
        prompt_id: The prompt.
        label: The label's name.
        version_id: The version it should point at.
        note: Why (kept in the history).
        actor: Who moved it (None for the moves a sync makes).

    Returns:
        The recorded event, or None when nothing was recorded.
    """
    current = session.exec(
        select(Label).where(Label.prompt_id == prompt_id, Label.name == label)
    ).first()
    if current is not None and current.version_id == version_id and note is None:
        return None
    now = utcnow()
    event = LabelEvent(
        prompt_id=prompt_id,
        label=label,
        from_version_id=current.version_id if current else None,
        to_version_id=version_id,
        note=note,
        actor=actor,
        created_at=now,
    )
    if current is None:
        session.add(Label(prompt_id=prompt_id, name=label, version_id=version_id, updated_at=now))
    elif current.version_id != version_id:
        current.version_id = version_id
        current.updated_at = now
        session.add(current)
    session.add(event)
    session.flush()
    return event


def list_prompt_summaries(session: Session) -> list[PromptSummary]:
    """Return the prompt list with version counts and labels, in two queries."""
    counts = (
        select(
            PromptVersion.prompt_id,
            func.count().label("n"),
            func.max(PromptVersion.version).label("latest"),
        )
        .group_by(col(PromptVersion.prompt_id))
        .subquery()
    )
    rows = session.exec(
        select(Prompt, counts.c.n, counts.c.latest)
        .join(counts, col(Prompt.id) == counts.c.prompt_id, isouter=True)
        .order_by(col(Prompt.name))
    ).all()
    label_rows = session.exec(
        select(Label.prompt_id, Label.name, PromptVersion.version).join(
            PromptVersion, col(Label.version_id) == col(PromptVersion.id)
        )
    ).all()
    labels: dict[int, dict[str, int]] = {}
    for prompt_id, name, version in label_rows:
        labels.setdefault(prompt_id, {})[name] = version
    approved: dict[int, list[int]] = {}
    for prompt_id, version in session.exec(
        select(PromptVersion.prompt_id, PromptVersion.version)
        .join(Approval, col(Approval.version_id) == col(PromptVersion.id))
        .order_by(col(PromptVersion.version))
    ).all():
        approved.setdefault(prompt_id, []).append(version)
    rates = last_pass_rates(session)
    return [
        PromptSummary(
            name=prompt.name,
            description=prompt.description,
            source_path=prompt.source_path,
            file_present=prompt.file_present,
            last_error=prompt.last_error,
            versions=int(n or 0),
            latest_version=int(latest) if latest is not None else None,
            labels=dict(sorted(labels.get(prompt.id or -1, {}).items())),
            approved=approved.get(prompt.id or -1, []),
            pass_rate=rates.get(prompt.id or -1),
        )
        for prompt, n, latest in rows
    ]


def last_pass_rates(session: Session) -> dict[int, float]:
    """Return, per prompt id, the pass rate of its graded cells in the newest run using it."""
    rows = session.exec(
        select(
            PromptVersion.prompt_id,
            Run.started_at,
            func.count(col(RunCell.passed)),
            func.sum(cast(col(RunCell.passed), Integer)),
        )
        .join(RunCell, col(RunCell.prompt_version_id) == col(PromptVersion.id))
        .join(Run, col(Run.id) == col(RunCell.run_id))
        .where(col(RunCell.passed).is_not(None))
        .group_by(col(PromptVersion.prompt_id), col(Run.id))
    ).all()
    newest: dict[int, tuple[object, float]] = {}
    for prompt_id, started, graded, passed in rows:
        if graded and (prompt_id not in newest or str(started) > str(newest[prompt_id][0])):
            newest[prompt_id] = (started, float(passed or 0) / float(graded))
    return {prompt_id: rate for prompt_id, (_, rate) in newest.items()}


def latest_contents(session: Session) -> dict[str, str]:
    """Return each prompt's newest version content (canonical YAML), by prompt name."""
    newest = (
        select(PromptVersion.prompt_id, func.max(PromptVersion.version).label("v"))
        .group_by(col(PromptVersion.prompt_id))
        .subquery()
    )
    rows = session.exec(
        select(Prompt.name, PromptVersion.content)
        .join(PromptVersion, col(PromptVersion.prompt_id) == col(Prompt.id))
        .join(
            newest,
            (newest.c.prompt_id == col(PromptVersion.prompt_id))
            & (newest.c.v == col(PromptVersion.version)),
        )
    ).all()
    return {name: content for name, content in rows}


def get_version(session: Session, prompt_id: int, number: int) -> PromptVersion | None:
    """Return version ``number`` of a prompt, if it exists."""
    query = select(PromptVersion).where(
        PromptVersion.prompt_id == prompt_id, PromptVersion.version == number
    )
    return session.exec(query).first()


def list_versions(session: Session, prompt_id: int) -> list[PromptVersion]:
    """Return every version of a prompt, oldest first."""
    query = (
        select(PromptVersion)
        .where(PromptVersion.prompt_id == prompt_id)
        .order_by(col(PromptVersion.version))
    )
    return list(session.exec(query))


def get_label(session: Session, prompt_id: int, name: str) -> Label | None:
    """Return a prompt's label called ``name``, if any."""
    query = select(Label).where(Label.prompt_id == prompt_id, Label.name == name)
    return session.exec(query).first()


def list_labels(session: Session, prompt_id: int) -> list[Label]:
    """Return a prompt's labels, by name."""
    query = select(Label).where(Label.prompt_id == prompt_id).order_by(col(Label.name))
    return list(session.exec(query))


def list_label_events(session: Session, prompt_id: int) -> list[LabelEvent]:
    """Return every move of a prompt's labels, newest first."""
    query = (
        select(LabelEvent)
        .where(LabelEvent.prompt_id == prompt_id)
        .order_by(col(LabelEvent.created_at).desc(), col(LabelEvent.id).desc())
    )
    return list(session.exec(query))
