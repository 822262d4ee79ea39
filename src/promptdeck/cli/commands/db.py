"""``promptdeck db ...``: the workspace database's schema (SQLite, or a shared PostgreSQL)."""

from __future__ import annotations

import click

from promptdeck.cli.context import Options
from promptdeck.cli.output import echo_json

__all__ = ["db"]


@click.group()
def db() -> None:
    """The workspace database: where it is, its schema, upgrading it."""


def _target(options: Options) -> tuple[str, object]:
    from promptdeck.core.workspace.workspace import ensure_state_dir, workspace_database
    from promptdeck.paths import find_workspace
    from promptdeck.store.engines import is_postgres_url, redact_url

    paths = find_workspace(options.workspace)
    target = workspace_database(paths)
    if is_postgres_url(target):
        return redact_url(str(target)), target
    ensure_state_dir(paths)
    return str(target), target


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def db_status(options: Options, as_json: bool) -> None:
    """Which database the workspace uses and which migrations it has and lacks."""
    from promptdeck.store.engines import is_postgres_url
    from promptdeck.store.migrations import pending_migrations

    shown, target = _target(options)
    done, pending = pending_migrations(target)  # type: ignore[arg-type]
    engine = "postgresql" if is_postgres_url(target) else "sqlite"
    if as_json:
        echo_json({"engine": engine, "database": shown, "applied": done, "pending": pending})
        return
    click.echo(f"{engine}: {shown}")
    click.echo(f"schema: {done[-1] if done else 'none'} ({len(done)} migrations applied)")
    if pending:
        click.echo(f"pending: {', '.join(pending)} (run `promptdeck db upgrade`)")
    else:
        click.echo("up to date")


@db.command("upgrade")
@click.pass_obj
def db_upgrade(options: Options) -> None:
    """Apply the migrations the workspace database lacks (a shared one: once, for all).

    Each migration runs in its own transaction; concurrent upgrades wait for each
    other. A database migrated by a newer promptdeck is refused (exit 2).
    """
    from promptdeck.store.migrations import migrate

    shown, target = _target(options)
    applied = migrate(target)  # type: ignore[arg-type]
    if applied:
        click.echo(f"{shown}: applied {', '.join(applied)}")
    else:
        click.echo(f"{shown}: up to date")


@db.command("copy")
@click.option(
    "--to",
    "to",
    required=True,
    help="The target: a postgresql:// URL, or a new SQLite file. It must hold no data.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def db_copy(options: Options, to: str, as_json: bool) -> None:
    """Copy the workspace's history into another database (SQLite ⇄ PostgreSQL).

    The target is migrated, filled table by table in one transaction, then checked:
    each table's row count and content hash must match. Point the workspace at it
    afterwards (database_url, or remove it to come back to SQLite).
    """
    from pathlib import Path

    from promptdeck.store.copy import copy_database
    from promptdeck.store.engines import create_engine_for, is_postgres_url, redact_url
    from promptdeck.store.migrations import migrate

    shown_source, source = _target(options)
    target: Path | str = to if is_postgres_url(to) else Path(to).resolve()
    shown = redact_url(to) if isinstance(target, str) else str(target)
    if shown == shown_source or (isinstance(target, Path) and str(source) == str(target)):
        from promptdeck.errors import UsageError

        raise UsageError("the target is the workspace's own database", "name another one")
    from promptdeck.store.migrations import pending_migrations

    if pending_migrations(source)[1]:  # type: ignore[arg-type]
        from promptdeck.errors import UsageError

        raise UsageError(
            f"{shown_source} is not at this promptdeck's schema", "run `promptdeck db upgrade`"
        )
    migrate(target)
    source_engine, target_engine = create_engine_for(source), create_engine_for(target)  # type: ignore[arg-type]
    try:
        copied = copy_database(source_engine, target_engine, shown)
    finally:
        source_engine.dispose()
        target_engine.dispose()
    if as_json:
        echo_json(
            {
                "from": shown_source,
                "to": shown,
                "tables": [{"name": c.name, "rows": c.rows, "sha256": c.digest} for c in copied],
            }
        )
        return
    total = sum(c.rows for c in copied)
    click.echo(f"Copied {total} rows in {len(copied)} tables from {shown_source} to {shown}.")
    click.echo("Row counts and content hashes match.")
