"""Create a new workspace from the bundled template."""

from __future__ import annotations

import shutil
from pathlib import Path

from promptdeck.core.workspace.workspace import ensure_state_dir
from promptdeck.errors import WorkspaceError
from promptdeck.paths import CONFIG_FILE, WorkspacePaths, bundled_dir

__all__ = ["init_workspace"]


def init_workspace(target: Path, template: Path | None = None) -> WorkspacePaths:
    """Create a workspace in ``target`` from the template; never overwrite anything.

    Args:
        target: The folder (created if missing; may exist if it holds none of the
            template's files).
        template: The template folder (default: the bundled demo workspace).

    Returns:
        The new workspace's paths.

    Raises:
        WorkspaceError: When ``target`` already holds a workspace or any file the
            template would write, or cannot be written.
    """
    source = template or bundled_dir("workspace_template")
    target = target.expanduser().resolve()
    if (target / CONFIG_FILE).exists():
        raise WorkspaceError(
            f"{target} already holds a workspace ({CONFIG_FILE} exists); nothing was changed",
            f"open it with `promptdeck --workspace {target}`",
        )
    if target.exists() and not target.is_dir():
        raise WorkspaceError(f"{target} exists and is not a folder", "choose another path")
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        if (target / path.relative_to(source)).exists():
            raise WorkspaceError(
                f"{target / path.relative_to(source)} already exists; nothing was changed",
                "init into an empty or new folder",
            )
    try:
        for path in files:
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        paths = WorkspacePaths(target)
        for folder in (paths.prompts, paths.suites, paths.datasets):
            folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(
            f"cannot write the workspace in {target} ({exc.strerror})",
            "check the folder is writable",
        ) from exc
    ensure_state_dir(paths)
    return paths
