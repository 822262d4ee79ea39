"""Prompt references: ``name``, ``name@3`` (a version) or ``name@production`` (a label)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from sqlmodel import Session

from promptdeck.core.prompts.files import PromptFile, parse_canonical
from promptdeck.errors import ConfigError, NotFoundError, UsageError
from promptdeck.store import prompts_repo as repo
from promptdeck.store.tables import PromptVersion

__all__ = ["PromptRef", "ResolvedPrompt", "parse_ref", "resolve_prompt"]

LATEST = "latest"
"""The label on the version that matches the prompt's file (see :mod:`.sync`)."""

_REF = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._-]*)(?:@(?P<selector>[A-Za-z0-9._-]+))?$")


@dataclass(frozen=True)
class PromptRef:
    """A parsed reference.

    Attributes:
        name: The prompt's name.
        version: A version number, when the reference names one.
        label: A label, when the reference names one (``latest`` when it names neither).
    """

    name: str
    version: int | None = None
    label: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}@{self.version}"
        return f"{self.name}@{self.label}" if self.label else self.name


@dataclass(frozen=True)
class ResolvedPrompt:
    """A stored version of a prompt, ready to render.

    Attributes:
        name: The prompt's name.
        version: The version number.
        version_id: The version's database id.
        content_hash: SHA-256 of its canonical content.
        content: The canonical YAML.
        file: The parsed content.
        author: Who recorded the version (None before authors were kept).
    """

    name: str
    version: int
    version_id: int
    content_hash: str
    content: str
    file: PromptFile
    author: str | None = None


def parse_ref(text: str) -> PromptRef:
    """Parse ``name``, ``name@VERSION`` or ``name@LABEL``.

    Raises:
        UsageError: When the text is not a reference.
    """
    match = _REF.match(text.strip())
    if not match:
        raise UsageError(
            f"{text!r} is not a prompt reference",
            "write NAME, NAME@VERSION (e.g. support@3) or NAME@LABEL (e.g. support@production)",
        )
    selector = match["selector"]
    if selector is None:
        return PromptRef(match["name"])
    if selector.isdigit():
        return PromptRef(match["name"], version=int(selector))
    return PromptRef(match["name"], label=selector)


def resolve_prompt(session: Session, ref: str | PromptRef) -> ResolvedPrompt:
    """Find the stored version a reference points at (no label: ``latest``).

    Raises:
        NotFoundError: Unknown prompt, version or label (with what exists).
        ConfigError: The prompt's file does not load, and the reference needs it
            (``latest``, or a label the prompt does not have).
    """
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    prompt = repo.get_prompt(session, parsed.name)
    if prompt is None or prompt.id is None:
        names = [p.name for p in repo.list_prompts(session)]
        close = difflib.get_close_matches(parsed.name, names, n=1)
        raise NotFoundError(
            f"no prompt named {parsed.name!r}",
            f"did you mean {close[0]!r}?" if close else "see `promptdeck prompts list`",
        )
    if parsed.version is not None:
        version = repo.get_version(session, prompt.id, parsed.version)
        if version is None:
            count = len(repo.list_versions(session, prompt.id))
            raise NotFoundError(
                f"prompt {parsed.name!r} has no version {parsed.version}",
                f"it has versions 1 to {count}" if count else "it has no versions yet",
            )
    else:
        label = parsed.label or LATEST
        pointer = repo.get_label(session, prompt.id, label)
        if prompt.last_error and (pointer is None or label == LATEST):
            # `latest` is the version matching the file, and the file does not load.
            raise ConfigError(
                prompt.last_error,
                f"fix the file; its stored versions stay usable as {parsed.name}@VERSION",
            )
        if pointer is None:
            labels = [lab.name for lab in repo.list_labels(session, prompt.id)]
            hint = f"its labels are: {', '.join(labels)}" if labels else "it has no versions yet"
            raise NotFoundError(f"prompt {parsed.name!r} has no label {label!r}", hint)
        version = session.get(PromptVersion, pointer.version_id)
        assert version is not None
    assert version.id is not None
    return ResolvedPrompt(
        name=prompt.name,
        version=version.version,
        version_id=version.id,
        content_hash=version.content_hash,
        content=version.content,
        file=_parse_stored(prompt.name, version.content),
        author=version.author,
    )


def _parse_stored(name: str, content: str) -> PromptFile:
    """Parse a stored canonical version (validated when it was stored)."""
    return parse_canonical(name, content)
