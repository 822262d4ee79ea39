"""Create a new prompt file: from the starter template or as a copy of another prompt.

The file is written only if no file of that name exists (``open(..., "x")``), so an
existing prompt is never overwritten, even by a race with another program. The next
sync makes its first version.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from promptdeck.core.prompts.files import NAME_PATTERN, PROMPT_SUFFIX, parse_prompt
from promptdeck.errors import ConfigError, UsageError, WorkspaceError

if TYPE_CHECKING:
    from promptdeck.core.prompts.files import PromptFile

__all__ = ["STARTER", "new_prompt_file", "new_prompt_text"]

STARTER = """\
name: {name}
description: ""
params:
  temperature: 0.2
system: You are a helpful assistant.
template: |
  {{{{ text }}}}
variables:
  text:
    required: true
    description: The input to work on.
"""
"""The starter template of a new prompt (``{name}`` is filled in)."""

_NAME_LINE = re.compile(r"^name:[^\n]*$", re.MULTILINE)


def new_prompt_text(name: str, source: PromptFile | None = None, source_text: str = "") -> str:
    """The text of a new prompt file called ``name``.

    Args:
        name: The new prompt's name.
        source: The prompt to copy (None: the starter template).
        source_text: The source's file text, copied with its comments and layout when
            only its ``name:`` line needs to change; else the source's canonical YAML.
    """
    if source is None:
        return STARTER.format(name=name)
    if len(_NAME_LINE.findall(source_text)) == 1:
        text = _NAME_LINE.sub(f"name: {name}", source_text)
        try:
            if parse_prompt(text, f"{name}{PROMPT_SUFFIX}").file.name == name:
                return text
        except ConfigError:
            pass
    return source.model_copy(update={"name": name}).canonical()


def new_prompt_file(
    folder: Path, name: str, source: PromptFile | None = None, source_text: str = ""
) -> Path:
    """Write a new prompt file in ``folder``; never overwrite one.

    Returns:
        The new file's path.

    Raises:
        UsageError: The name is not a valid prompt name, or the file exists.
        WorkspaceError: The file cannot be written.
    """
    name = name.strip()
    if not re.match(NAME_PATTERN, name):
        raise UsageError(
            f"{name!r} is not a prompt name",
            "use lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    path = folder / f"{name}{PROMPT_SUFFIX}"
    text = new_prompt_text(name, source, source_text)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(
            f"{path.name} already exists; nothing was written", "choose another name"
        ) from None
    except OSError as exc:
        raise WorkspaceError(f"cannot write {path} ({exc.strerror})", "check permissions") from exc
    return path
