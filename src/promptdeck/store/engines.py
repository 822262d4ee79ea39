"""Which database a workspace lives on, and the engine for it.

SQLite (``.promptdeck/workspace.db``) is the default and stays as it was (see
:mod:`promptdeck.store.db`). A ``postgresql://`` URL, from ``PROMPTDECK_DATABASE_URL``
or ``database_url`` in ``promptdeck.toml`` (the variable wins), puts the workspace's
tables on a shared PostgreSQL 15+ server through psycopg 3, imported only then.

A URL's password is a secret: it is registered with :mod:`promptdeck.secrecy` so no
printed line, log or stored text carries it, and messages show the URL redacted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from sqlalchemy import Engine, create_engine

from promptdeck.errors import ConfigError, RuntimeFailureError
from promptdeck.secrecy import remember

__all__ = [
    "ENV_DATABASE_URL",
    "DatabaseTarget",
    "connect_error",
    "create_engine_for",
    "is_postgres_url",
    "redact_url",
    "resolve_database",
]

ENV_DATABASE_URL = "PROMPTDECK_DATABASE_URL"
"""The environment variable that names the workspace's database (wins over the config)."""

DatabaseTarget = Path | str
"""A SQLite file, or a ``postgresql://`` URL."""

_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def is_postgres_url(target: object) -> bool:
    """Whether ``target`` is a PostgreSQL URL (rather than a SQLite path)."""
    return isinstance(target, str) and urlsplit(target).scheme in _SCHEMES


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def _checked_url(url: str, origin: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ConfigError(
            f"{origin}: database_url must start with postgresql:// "
            f"(got {parts.scheme or 'no scheme'!r})",
            "leave it out to keep the workspace in .promptdeck/workspace.db (SQLite)",
        )
    if parts.password:
        remember(parts.password)
        remember(unquote(parts.password))
    if not parts.hostname and "host=" not in parts.query:
        raise ConfigError(
            f"{origin}: {redact_url(url)} names no host", "write postgresql://user@host/db"
        )
    return url


def resolve_database(
    sqlite_path: Path,
    configured: str | None,
    config_file: Path,
    environ: Mapping[str, str] | None = None,
) -> DatabaseTarget:
    """Where the workspace's tables live: the variable's URL, the config's, or SQLite.

    Args:
        sqlite_path: The workspace's SQLite file (the default).
        configured: ``database_url`` from ``promptdeck.toml`` (None when absent).
        config_file: The configuration file (for messages).
        environ: The environment (default: ``os.environ``).

    Returns:
        A ``postgresql://`` URL, or ``sqlite_path``.

    Raises:
        ConfigError: When the URL is not a PostgreSQL one (its password never shown).
    """
    env = os.environ if environ is None else environ
    from_env = env.get(ENV_DATABASE_URL, "").strip()
    if from_env:
        return _checked_url(from_env, ENV_DATABASE_URL)
    if configured:
        return _checked_url(configured.strip(), f"{config_file}: database_url")
    return sqlite_path


def _sqlalchemy_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme != "postgresql+psycopg" else url


def create_engine_for(target: DatabaseTarget) -> Engine:
    """An engine for a migrated workspace database (SQLite file or PostgreSQL URL)."""
    if not is_postgres_url(target):
        from promptdeck.store.db import create_db_engine

        return create_db_engine(Path(target))
    assert isinstance(target, str)
    return create_engine(
        _sqlalchemy_url(target),
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10, "application_name": "promptdeck"},
    )


def connect_error(error: BaseException, url: str | None = None) -> RuntimeFailureError | None:
    """The one-line error for a PostgreSQL server that cannot be reached or refuses us.

    Args:
        error: An exception from psycopg or SQLAlchemy.
        url: The database URL (shown redacted), when known.

    Returns:
        The error, or None when ``error`` is not a psycopg connection failure.
    """
    original: Any = getattr(error, "orig", error)
    kind = type(original)
    if not kind.__module__.startswith("psycopg") or kind.__name__ not in (
        "OperationalError",
        "InterfaceError",
    ):
        return None
    first = (str(original).strip().splitlines() or ["no answer"])[0]
    from promptdeck.secrecy import scrub

    where = redact_url(url) if url else "(PostgreSQL)"
    return RuntimeFailureError(
        f"cannot use the workspace database {where}: {scrub(first)}",
        f"check the server is up and the URL in {ENV_DATABASE_URL} or database_url is right",
    )
