"""Where promptdeck's state lives, and how a workspace is found.

A workspace is a folder holding ``promptdeck.toml``. Its machine state (the SQLite
database, indexes, exports) lives in ``<workspace>/.promptdeck/``. Nothing here
touches the disk at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from promptdeck.errors import WorkspaceError

__all__ = [
    "CONFIG_FILE",
    "DB_FILE",
    "ENV_WORKSPACE",
    "STATE_DIR",
    "WorkspacePaths",
    "bundled_dir",
    "find_workspace",
    "user_config_dir",
]

CONFIG_FILE = "promptdeck.toml"
STATE_DIR = ".promptdeck"
DB_FILE = "workspace.db"
ENV_WORKSPACE = "PROMPTDECK_WORKSPACE"


@dataclass(frozen=True)
class WorkspacePaths:
    """The well-known paths of one workspace.

    Attributes:
        root: The workspace folder (holds ``promptdeck.toml``).
    """

    root: Path

    @property
    def config(self) -> Path:
        """The workspace configuration file."""
        return self.root / CONFIG_FILE

    @property
    def prompts(self) -> Path:
        """Folder of ``*.prompt.yaml`` files."""
        return self.root / "prompts"

    @property
    def suites(self) -> Path:
        """Folder of ``*.suite.yaml`` files."""
        return self.root / "suites"

    @property
    def datasets(self) -> Path:
        """Folder of dataset files."""
        return self.root / "datasets"

    @property
    def state(self) -> Path:
        """Machine state: database, indexes, exports (git-ignored)."""
        return self.root / STATE_DIR

    @property
    def database(self) -> Path:
        """The SQLite workspace database."""
        return self.state / DB_FILE

    @property
    def exports(self) -> Path:
        """Default folder for registry exports."""
        return self.state / "exports"

    @property
    def indexes(self) -> Path:
        """Vector indexes (semantic cache)."""
        return self.state / "indexes"

    def relative(self, path: Path) -> str:
        """Return ``path`` relative to the workspace root when it lies inside it."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


def find_workspace(
    explicit: Path | None = None,
    start: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> WorkspacePaths:
    """Find the workspace to work in.

    Order: ``explicit`` (``--workspace``), then the nearest folder upward from
    ``start`` that holds ``promptdeck.toml``, then ``$PROMPTDECK_WORKSPACE``.

    Args:
        explicit: A folder the user named; it must hold ``promptdeck.toml``.
        start: Where to start looking upward (default: the current directory).
        environ: The environment to read (default: ``os.environ``).

    Returns:
        The workspace's paths.

    Raises:
        WorkspaceError: When no workspace can be found.
    """
    env = os.environ if environ is None else environ
    if explicit is not None:
        return _require_workspace(explicit, "--workspace")
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return WorkspacePaths(folder)
    from_env = env.get(ENV_WORKSPACE)
    if from_env:
        return _require_workspace(Path(from_env), f"${ENV_WORKSPACE}")
    raise WorkspaceError(
        f"no workspace here: no {CONFIG_FILE} in {here} or any folder above it",
        f"run `promptdeck init DIR` to create one, or pass --workspace PATH or set {ENV_WORKSPACE}",
    )


def _require_workspace(folder: Path, source: str) -> WorkspacePaths:
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise WorkspaceError(
            f"{source} points to {folder}, which is not a folder",
            f"create it with `promptdeck init {folder}`",
        )
    if not (folder / CONFIG_FILE).is_file():
        raise WorkspaceError(
            f"{source} points to {folder}, which holds no {CONFIG_FILE}",
            f"create a workspace there with `promptdeck init {folder}`",
        )
    return WorkspacePaths(folder)


def bundled_dir(name: str) -> Path:
    """Return a folder shipped with promptdeck (``workspace_template``, ``themes``).

    In an installed wheel the folders live in ``promptdeck/_data/``; in a source
    checkout (an editable install) they sit at the repository's top level.

    Args:
        name: The folder's name.

    Returns:
        The folder's path.

    Raises:
        WorkspaceError: When the installation is missing the folder.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "_data" / name, package.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise WorkspaceError(
        f"promptdeck's bundled folder {name!r} is missing from this installation",
        "reinstall promptdeck (`make setup` in a source checkout)",
    )


def user_config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Return the user's promptdeck folder: ``$PROMPTDECK_HOME``, else the XDG config folder."""
    env = os.environ if environ is None else environ
    if env.get("PROMPTDECK_HOME"):
        return Path(env["PROMPTDECK_HOME"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "promptdeck"
