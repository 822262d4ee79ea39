"""Run the migrations on a PostgreSQL database (psycopg 3, imported only here and on use)."""

from __future__ import annotations

from collections.abc import Callable

from promptdeck.errors import RuntimeFailureError
from promptdeck.secrecy import scrub
from promptdeck.store.dialect import POSTGRES, SqlConnection
from promptdeck.store.engines import connect_error, redact_url

__all__ = ["migrate_postgres"]


def migrate_postgres(url: str, apply: Callable[[SqlConnection], list[str]]) -> list[str]:
    """Connect to ``url`` and run ``apply`` (the migration loop) on it.

    Args:
        url: The ``postgresql://`` URL.
        apply: Runs the migrations on the connection; returns the names applied.

    Returns:
        What ``apply`` returned.

    Raises:
        RuntimeFailureError: When the server cannot be reached or a migration fails.
    """
    import psycopg

    try:
        raw = psycopg.connect(
            url, autocommit=True, connect_timeout=10, application_name="promptdeck"
        )
    except psycopg.Error as exc:
        raise connect_error(exc, url) or RuntimeFailureError(
            f"cannot use the workspace database {redact_url(url)}: {scrub(str(exc))}",
            "check the URL in PROMPTDECK_DATABASE_URL or database_url",
        ) from exc
    try:
        return apply(SqlConnection(raw, POSTGRES))
    except psycopg.Error as exc:
        lost = connect_error(exc, url)
        if lost is not None:
            raise lost from exc
        first = (str(exc).strip().splitlines() or ["error"])[0]
        raise RuntimeFailureError(
            f"{redact_url(url)}: cannot migrate the workspace database ({scrub(first)})",
            "check the user may create tables in this database",
        ) from exc
    finally:
        raw.close()
