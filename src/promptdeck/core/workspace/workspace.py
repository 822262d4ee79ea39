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
from promptdeck.identity import SESSION_ROOT
from promptdeck.paths import WorkspacePaths
from promptdeck.safeload.limits import read_text
from promptdeck.store import prompts_repo
from promptdeck.store.db import session_scope
from promptdeck.store.engines import (
    DatabaseTarget,
    create_engine_for,
    is_postgres_url,
    resolve_database,
)
from promptdeck.store.migrations import migrate, require_current

__all__ = ["STATE_GITIGNORE", "Workspace", "ensure_state_dir", "workspace_database"]

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


def _load(paths: WorkspacePaths) -> tuple[WorkspaceConfig, DatabaseTarget]:
    text = read_text(paths.config, paths.config, what="workspace configuration")
    config = parse_config(text, paths.config)
    check_references(config, text, paths.config)
    return config, resolve_database(paths.database, config.database_url, paths.config)


def workspace_database(paths: WorkspacePaths) -> DatabaseTarget:
    """Where a workspace's tables live (its SQLite file, or a ``postgresql://`` URL).

    Raises:
        ConfigError: When ``promptdeck.toml`` or the database URL is invalid.
    """
    return _load(paths)[1]


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

        A SQLite workspace is migrated here; a shared PostgreSQL one only by
        ``promptdeck db upgrade`` (it is refused when its schema is not this one's).

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
        config, database = _load(paths)
        ensure_state_dir(paths)
        apply_offline_environment(paths.state)
        if is_postgres_url(database):
            require_current(str(database))
        else:
            migrate(database)
        return cls(paths, config, create_engine_for(database), database)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session that commits on success (it knows the workspace's folder)."""
        with session_scope(self.engine) as session:
            session.info[SESSION_ROOT] = self.paths.root
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
