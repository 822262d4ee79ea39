"""A dead or wrong PostgreSQL server is a user's mistake: one line, the URL masked, exit 2.

Each cause (a closed port, a wrong password, a missing database, a server gone in the
middle of a session, a schema older or newer than this promptdeck) names the URL with
its password as ``***`` and says what to do; the password never shows.
"""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import DatabaseUnavailableError, ExitCode
from promptdeck.paths import WorkspacePaths
from promptdeck.store import prompts_repo
from promptdeck.store.engines import connect_error
from promptdeck.store.migrations import MIGRATIONS, migrate
from tests.helpers import run_cli as run
from tests.pg import PgServer

SECRET = "s3cret-Pass%2Fword-42"
FORMS = (SECRET, "s3cret-Pass/word-42", "s3cret")
COMMANDS = (["prompts", "list"], ["db", "status"], ["db", "upgrade"], ["traces", "list"])


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fails(
    capsys: pytest.CaptureFixture[str],
    paths: WorkspacePaths,
    expected: str,
    hint: str,
    commands: tuple[list[str], ...] = COMMANDS,
) -> None:
    for command in commands:
        code, out, err = run(capsys, "--workspace", str(paths.root), "--headless", *command)
        assert (code, out) == (ExitCode.USAGE, ""), (command, err)
        lines = err.strip().splitlines()
        assert lines == [f"error: {expected}", f"hint: {hint}"], command
        for form in FORMS:
            assert form not in err


def test_a_closed_port(
    demo_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", f"postgresql://team:{SECRET}@127.0.0.1:{port}/db")
    _fails(
        capsys,
        demo_paths,
        f"the workspace database postgresql://team:***@127.0.0.1:{port}/db: "
        "cannot reach the server (Connection refused)",
        "check the server is running and the host and port in PROMPTDECK_DATABASE_URL or "
        "database_url are right",
    )


def test_a_missing_database_and_an_unknown_user(
    pg_server: PgServer,
    demo_paths: WorkspacePaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = f"127.0.0.1:{pg_server.port}"
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", f"postgresql://{pg_server.user}@{base}/nosuch")
    _fails(
        capsys,
        demo_paths,
        f"the workspace database postgresql://{pg_server.user}@{base}/nosuch: the server has no "
        'database "nosuch"',
        "create it (CREATE DATABASE … OWNER …), or fix the name at the end of the URL",
    )
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", f"postgresql://ghost:{SECRET}@{base}/postgres")
    _fails(
        capsys,
        demo_paths,
        f"the workspace database postgresql://ghost:***@{base}/postgres: "
        'the server has no user "ghost"',
        "fix the user in PROMPTDECK_DATABASE_URL or database_url, or create the user on the server",
    )


@pytest.fixture
def password_user(pg_server: PgServer) -> str:
    """A user who must give a password (scram), on the otherwise trusting test server."""
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        hba = Path(str(conn.execute("SHOW hba_file").fetchone()[0]))  # type: ignore[index]
        conn.execute("DROP ROLE IF EXISTS pwuser")
        conn.execute("CREATE ROLE pwuser LOGIN PASSWORD 'right-one'")
        text = hba.read_text(encoding="utf-8")
        if "pwuser" not in text:
            hba.write_text(f"host all pwuser 127.0.0.1/32 scram-sha-256\n{text}", encoding="utf-8")
        conn.execute("SELECT pg_reload_conf()")
    return "pwuser"


def test_a_wrong_password(
    pg_server: PgServer,
    password_user: str,
    demo_paths: WorkspacePaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = f"127.0.0.1:{pg_server.port}/postgres"
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", f"postgresql://{password_user}:{SECRET}@{base}")
    _fails(
        capsys,
        demo_paths,
        f"the workspace database postgresql://pwuser:***@{base}: the server refused the password "
        'of user "pwuser"',
        "fix the password in PROMPTDECK_DATABASE_URL or database_url (or in ~/.pgpass or "
        "PGPASSWORD)",
    )


def test_a_schema_older_than_this_promptdeck_asks_for_db_upgrade(
    pg_server: PgServer,
    demo_paths: WorkspacePaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = pg_server.create_database()
    older = MIGRATIONS[-2][0]
    migrate(url, upto=older)
    masked = url.replace("@", ":***@") if ":" in url.split("@")[0][13:] else url
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", url)
    _fails(
        capsys,
        demo_paths,
        f"the workspace database {masked} is at {older}; this promptdeck needs {MIGRATIONS[-1][0]}",
        "run `promptdeck db upgrade` (once, for everyone sharing it)",
        (["prompts", "list"], ["traces", "list"]),
    )
    code, _, _ = run(capsys, "--workspace", str(demo_paths.root), "db", "upgrade")
    assert code == 0
    assert run(capsys, "--workspace", str(demo_paths.root), "--headless", "prompts", "list")[0] == 0


def _refuse_connections(server: PgServer, url: str) -> None:
    """Stop ``url``'s database the way a stopped server looks: cut and refuse."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )


def test_a_server_gone_in_the_middle_of_a_session(
    pg_server: PgServer, demo_paths: WorkspacePaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_server.create_migrated_database().replace(
        f"://{pg_server.user}@", f"://{pg_server.user}:pw-xyz@"
    )
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", url)
    workspace = Workspace.open(demo_paths)
    try:
        assert workspace.prompt_summaries() == []
        _refuse_connections(pg_server, url)
        with pytest.raises(DatabaseUnavailableError) as caught, workspace.session() as session:
            prompts_repo.list_prompt_summaries(session)
    finally:
        workspace.close()
    title = caught.value.title
    assert title.startswith(f"the workspace database postgresql://{pg_server.user}:***@127.0.0.1:")
    assert "pw-xyz" not in str(caught.value)
    assert "lost the connection to the server (" in title
    assert caught.value.hint == "check the server is up, then run the command again"


@pytest.mark.parametrize(
    ("message", "sqlstate", "expected"),
    [
        (
            "failed to resolve host 'db.nowhere': [Errno -2] Name or service not known",
            None,
            'unknown host "db.nowhere"',
        ),
        (
            'connection failed: connection to server at "10.0.0.9", port 5432 failed: timeout '
            "expired",
            None,
            "cannot reach the server (timeout expired)",
        ),
        ("server closed the connection unexpectedly", None, "lost the connection to the server"),
        (
            "terminating connection due to administrator command",
            "57P01",
            "lost the connection to the server",
        ),
        ("canceling statement due to lock timeout", "55P03", None),
        ("could not serialize access due to concurrent update", "40001", None),
    ],
)
def test_what_is_and_is_not_a_connection_failure(
    message: str, sqlstate: str | None, expected: str | None
) -> None:
    error = psycopg.OperationalError(message)
    if sqlstate:
        error = psycopg.errors.lookup(sqlstate)(message)
    found = connect_error(error, f"postgresql://u:{SECRET}@h/db")
    if expected is None:
        assert found is None
        return
    assert found is not None and found.title.startswith(
        "the workspace database postgresql://u:***@h/db: "
    )
    assert expected in found.title and found.exit_code == ExitCode.USAGE
