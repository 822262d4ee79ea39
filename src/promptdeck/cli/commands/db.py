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
