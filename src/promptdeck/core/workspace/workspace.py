"""Open a workspace: configuration, migrated database, synced prompts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from promptdeck.config import WorkspaceConfig, parse_config
from promptdeck.core.prompts.sync import SyncReport, sync_prompts
from promptdeck.core.workspace.offline import apply_offline_environment
from promptdeck.core.workspace.references import check_references
from promptdeck.errors import WorkspaceError
from promptdeck.paths import WorkspacePaths
from promptdeck.safeload.limits import read_text
from promptdeck.store import prompts_repo
from promptdeck.store.db import session_scope
from promptdeck.store.engines import DatabaseTarget, create_engine_for, resolve_database
from promptdeck.store.migrations import migrate

__all__ = ["STATE_GITIGNORE", "Workspace", "ensure_state_dir"]

STATE_GITIGNORE = "# promptdeck's machine state: database, indexes, exports.\n*\n"


def ensure_state_dir(paths: WorkspacePaths) -> None:
    """Create ``.promptdeck/`` with its ``.gitignore`` if missing."""
    try:
        paths.state.mkdir(exist_ok=True)
        ignore = paths.state / ".gitignore"
        if not ignore.exists():
            ignore.write_text(STATE_GITIGNORE, encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(
            f"cannot create {paths.state} ({exc.strerror})", "check the folder is writable"
        ) from exc


@dataclass
class Workspace:
    """An open workspace: what every command and screen works on.

    Attributes:
        paths: Where its files live.
        config: The validated ``promptdeck.toml``.
        engine: The database engine (migrated; SQLite in WAL mode, or PostgreSQL).
        database: Where its tables live: the SQLite file, or a ``postgresql://`` URL.
    """

    paths: WorkspacePaths
    config: WorkspaceConfig
    engine: Engine
    database: DatabaseTarget | None = None

    @classmethod
    def open(cls, paths: WorkspacePaths) -> Workspace:
        """Load the configuration, migrate the database and return the workspace.

        Args:
            paths: The workspace's paths (see :func:`promptdeck.paths.find_workspace`).

        Returns:
            The open workspace. Call :meth:`close` when done.

        Raises:
            ConfigError: When ``promptdeck.toml`` is invalid.
            WorkspaceError: When the state folder cannot be created.
            RuntimeFailureError: When the database cannot be opened or migrated.
            WorkspaceError: When the database was migrated by a newer promptdeck.
        """
        text = read_text(paths.config, paths.config, what="workspace configuration")
        config = parse_config(text, paths.config)
        check_references(config, text, paths.config)
        ensure_state_dir(paths)
        apply_offline_environment(paths.state)
        database = resolve_database(paths.database, config.database_url, paths.config)
        migrate(database)
        return cls(paths, config, create_engine_for(database), database)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session that commits on success."""
        with session_scope(self.engine) as session:
            yield session

    def sync(self) -> SyncReport:
        """Read the prompt files into the database (new versions, errors, missing files)."""
        with self.session() as session:
            return sync_prompts(session, self.paths)

    def prompt_summaries(self) -> list[prompts_repo.PromptSummary]:
        """Return the prompt list as the Prompts screen and ``prompts list`` show it."""
        with self.session() as session:
            return prompts_repo.list_prompt_summaries(session)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
