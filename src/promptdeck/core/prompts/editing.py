"""Save a prompt file the user edited in the workbench: only when asked, never blindly.

A save checks that the file on disk is still what the editor loaded; if another
program changed it meanwhile, the save is refused (the user chooses to reload or
to overwrite), so no edit made elsewhere is lost. Writes are atomic.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from promptdeck.errors import UsageError, WorkspaceError

__all__ = ["FileChangedError", "file_digest", "save_text"]


class FileChangedError(UsageError):
    """The file changed on disk since the editor loaded it."""


def file_digest(path: Path) -> str | None:
    """Return the SHA-256 of the file's bytes, or None when it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def save_text(path: Path, text: str, expected: str | None, *, force: bool = False) -> str:
    """Write ``text`` to ``path`` atomically, if the file is still as the editor loaded it.

    Args:
        path: The file.
        text: The new content.
        expected: The digest of the content the editor loaded (None: a new file).
        force: Overwrite even if the file changed on disk.

    Returns:
        The digest of what was written.

    Raises:
        FileChangedError: The file changed on disk (and ``force`` is false).
        WorkspaceError: The file cannot be written.
    """
    current = file_digest(path)
    if not force and current != expected:
        raise FileChangedError(
            f"{path.name} changed on disk since it was opened; not saved",
            "save again to overwrite it, or reload (r) to see the other change",
        )
    data = text.encode("utf-8")
    tmp = path.with_name(f".{path.name}.promptdeck-tmp")
    try:
        mode = path.stat().st_mode if path.exists() else None
        tmp.write_bytes(data)
        if mode is not None:
            tmp.chmod(mode & 0o7777)
        os.replace(tmp, path)  # noqa: PTH105 - atomic replace on the same filesystem
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WorkspaceError(f"cannot save {path} ({exc.strerror})", "check permissions") from exc
    return hashlib.sha256(data).hexdigest()
