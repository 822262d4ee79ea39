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
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext

from promptdeck.errors import ConfigError, DatabaseUnavailableError
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
    engine = create_engine(
        _sqlalchemy_url(target),
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10, "application_name": "promptdeck"},
    )
    url = target

    def explain(context: ExceptionContext) -> None:
        # A failed or lost connection, wherever it happens (opening, mid-session, a
        # pool's reconnect), becomes the one-line error naming the (masked) URL.
        found = connect_error(context.original_exception, url)
        if found is not None:
            raise found from context.original_exception

    event.listen(engine, "handle_error", explain)
    return engine


_WHERE = f"{ENV_DATABASE_URL} or database_url"

_KNOWN: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(r'password authentication failed for user "([^"]*)"'),
        'the server refused the password of user "{0}"',
        f"fix the password in {_WHERE} (or in ~/.pgpass or PGPASSWORD)",
    ),
    (
        re.compile(r"no password supplied|fe_sendauth"),
        "the server wants a password and none was given",
        f"put it in {_WHERE}, ~/.pgpass or PGPASSWORD",
    ),
    (
        re.compile(r'role "([^"]*)" does not exist'),
        'the server has no user "{0}"',
        f"fix the user in {_WHERE}, or create the user on the server",
    ),
    (
        re.compile(r'database "([^"]*)" does not exist'),
        'the server has no database "{0}"',
        "create it (CREATE DATABASE … OWNER …), or fix the name at the end of the URL",
    ),
    (
        re.compile(r"no pg_hba\.conf entry"),
        "the server does not let this user in from this host (pg_hba.conf)",
        "ask the server's administrator for an entry, or fix the user in the URL",
    ),
    (
        re.compile(r"failed to resolve host '([^']*)'|could not translate host name \"([^\"]*)\""),
        'unknown host "{0}"',
        f"fix the host in {_WHERE}",
    ),
    (
        re.compile(r"Connection refused|timeout expired|timed out|No route to host"),
        "cannot reach the server ({0})",
        f"check the server is running and the host and port in {_WHERE} are right",
    ),
    (
        re.compile(
            r"not currently accepting connections|shutting down|starting up|"
            r"terminating connection|server closed the connection|connection is (?:lost|closed)|"
            r"consuming input failed|SSL SYSCALL error|EOF detected"
        ),
        "lost the connection to the server ({0})",
        "check the server is up, then run the command again",
    ),
]

_CONNECTION_STATES = ("08", "28", "3D", "57P")
"""SQLSTATE classes of a connection that failed or was cut (not a query's own error)."""


def _reason(first: str) -> str:
    reason = first.rsplit("failed: ", 1)[-1].replace("FATAL:", "").strip()
    return reason.split("\t")[0].strip() or "no answer"


def connect_error(error: BaseException, url: str | None = None) -> DatabaseUnavailableError | None:
    """The one-line error for a PostgreSQL server that cannot be reached or refuses us.

    Each cause a user can fix gets its own line: an unreachable host or port, a
    server that is down or went away during the session, a wrong user or password,
    a missing database. The URL is shown with its password masked.

    Args:
        error: An exception from psycopg or SQLAlchemy.
        url: The database URL (shown redacted), when known.

    Returns:
        The error, or None when ``error`` is not a failed or lost connection (a
        query's own error, a lock timeout, a serialization failure).
    """
    original: Any = getattr(error, "orig", error)
    kind = type(original)
    if not kind.__module__.startswith("psycopg") or not any(
        base.__name__ in ("OperationalError", "InterfaceError") for base in kind.__mro__
    ):
        return None
    from promptdeck.secrecy import scrub

    text = str(original).strip()
    first = (text.splitlines() or ["no answer"])[0]
    state = str(getattr(original, "sqlstate", None) or "")
    where = redact_url(url) if url else "(PostgreSQL)"
    for pattern, title, hint in _KNOWN:
        found = pattern.search(text)
        if found is not None:
            detail = next((g for g in found.groups() if g), None) or _reason(first)
            what = title.format(scrub(detail))
            return DatabaseUnavailableError(f"the workspace database {where}: {what}", hint)
    if state and not state.startswith(_CONNECTION_STATES):
        return None
    return DatabaseUnavailableError(
        f"the workspace database {where}: {scrub(_reason(first))}",
        f"check the server is up and the URL in {_WHERE} is right",
    )
