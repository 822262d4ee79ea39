"""A throwaway PostgreSQL server for the test session, and the ``engine`` fixture.

The server is Debian's PostgreSQL 15+ (``initdb`` and ``pg_ctl`` from
``/usr/lib/postgresql/<major>/bin``, or ``PROMPTDECK_PG_BIN``), started once per test
session in a temporary folder on a free loopback port, with trust authentication on
127.0.0.1 only and fsync off, and stopped at the end. ``initdb`` refuses to run as
root, so as root the server runs as ``nobody`` (``runuser``).

Tests that take the ``engine`` fixture run twice, on SQLite and on PostgreSQL; each
PostgreSQL test gets a database of its own. When the server cannot start, those tests
FAIL with the reason (never skip): ``make test`` installs Debian's ``postgresql`` first.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ENGINES = ["sqlite", "postgresql"]
"""The engines every ``db_url`` test runs on."""

_NAMES = itertools.count(1)


def pg_bin_dir() -> Path | None:
    """The folder holding ``initdb``/``pg_ctl`` (the newest Debian PostgreSQL), if any."""
    override = os.environ.get("PROMPTDECK_PG_BIN")
    if override:
        return Path(override)
    root = Path("/usr/lib/postgresql")
    found = sorted(
        (p / "bin" for p in root.glob("*") if p.name.isdigit() and (p / "bin/initdb").exists()),
        key=lambda p: int(p.parent.name),
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """A running throwaway server.

    Attributes:
        port: Its loopback port.
        user: The superuser to connect as (no password: trust on 127.0.0.1).
    """

    port: int
    user: str
    _template: str | None = None

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL of one of its databases."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str = "template0") -> str:
        """Create a fresh database (empty, or a copy of ``template``); return its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(_NAMES)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def create_migrated_database(self) -> str:
        """A fresh database at the current schema: a copy of one migrated once a session."""
        from promptdeck.store.migrations import migrate

        if self._template is None:
            url = self.create_database()
            migrate(url)
            self._template = url.rsplit("/", 1)[1]
        return self.create_database(self._template)


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "nobody", "--", *argv]


def start_server(base: Path) -> tuple[PgServer, list[str]]:
    """Initialise and start a server in ``base``; return it and its stop command.

    Raises:
        RuntimeError: With what failed (binaries missing, initdb or start failing).
    """
    bin_dir = pg_bin_dir()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        raise RuntimeError(
            "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin "
            "or on PATH: run `make test` (it installs Debian's postgresql as root) or "
            "`apt-get install postgresql`, or set PROMPTDECK_PG_BIN"
        )
    data = base / "data"
    user = "nobody" if os.geteuid() == 0 else (os.environ.get("USER") or "postgres")
    if os.geteuid() == 0:
        os.chmod(base, 0o755)
        shutil.chown(base, user="nobody")
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust"]
    run = _as_server_user([*initdb, "-E", "UTF8", "--locale=C", "--no-sync"])
    done = subprocess.run(run, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {(done.stderr or done.stdout).strip()[-500:]}")
    (data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n", encoding="utf-8")
    port = _free_port()
    options = (
        f"-h 127.0.0.1 -p {port} -k {base} -F -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
    )
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log")]
    start = _as_server_user([*pg_ctl, "-w", "-t", "60", "start"])
    done = subprocess.run(start, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log = (base / "log").read_text(encoding="utf-8", errors="replace")[-800:]
        raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()[-300:]} {log}")
    stop = _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
    return PgServer(port, user), stop


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (fails, never skips, when it cannot start)."""
    base = Path(tempfile.mkdtemp(prefix="promptdeck-pg-"))
    try:
        server, stop = start_server(base)
    except (RuntimeError, OSError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(
            f"PostgreSQL tests NOT RUN: the throwaway server did not start ({exc})", pytrace=False
        )
    try:
        yield server
    finally:
        subprocess.run(stop, capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class EngineChoice:
    """The engine a test runs on.

    Attributes:
        name: ``sqlite`` or ``postgresql``.
        url: The test's PostgreSQL database, migrated (None on SQLite: the workspace file).
        server: The PostgreSQL server (None on SQLite).
    """

    name: str
    url: str | None
    server: PgServer | None = None

    @property
    def is_postgres(self) -> bool:
        """Whether the test runs on PostgreSQL."""
        return self.name == "postgresql"


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> EngineChoice:
    """Run the test on each engine: SQLite (the default), then a fresh PostgreSQL database.

    On PostgreSQL the database is migrated (as ``promptdeck db upgrade`` does) and its URL
    set as ``PROMPTDECK_DATABASE_URL``, so a workspace the test opens afterwards (the
    ``workspace`` fixture, the CLI) lives on it.
    """
    if request.param == "sqlite":
        monkeypatch.delenv("PROMPTDECK_DATABASE_URL", raising=False)
        return EngineChoice("sqlite", None)
    url = fresh_postgres_database(request)
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", url)
    return EngineChoice("postgresql", url, request.getfixturevalue("pg_server"))


def fresh_postgres_database(request: pytest.FixtureRequest) -> str:
    """A new, migrated database on the session's server; its URL.

    ``PROMPTDECK_TEST_ENGINE=postgresql pytest ...`` puts every test's workspace on one
    (tests/conftest.py), to run the whole suite on PostgreSQL.
    """
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_migrated_database()


def blank_target(engine: EngineChoice, tmp_path: Path) -> Path | str:
    """A blank database for a migration test: a new SQLite file, or a new PG database."""
    return engine.server.create_database() if engine.server else tmp_path / "w.db"


def connect(target: Path | str) -> Any:
    """An autocommit DB-API connection to ``target`` that takes ``?`` placeholders."""
    from promptdeck.store.dialect import POSTGRES, SQLITE, SqlConnection

    if isinstance(target, str):
        import psycopg

        return SqlConnection(psycopg.connect(target, autocommit=True), POSTGRES)
    return SqlConnection(sqlite3.connect(target, isolation_level=None), SQLITE)


def table_names(db: Any) -> set[str]:
    """The tables of the database behind ``db`` (a :func:`connect` connection)."""
    if db.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    return {str(r[0]) for r in db.execute(sql).fetchall()}


def columns(db: Any, table: str) -> dict[str, tuple[str, bool]]:
    """Column name -> (declared type, NOT NULL or primary key) of ``table``."""
    if db.dialect == "sqlite":
        info = db.execute(f"PRAGMA table_info({table})").fetchall()
        return {r[1]: (str(r[2]), bool(r[3]) or bool(r[5])) for r in info}
    rows = db.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = ?",
        (table,),
    ).fetchall()
    return {str(r[0]): (str(r[1]).upper(), r[2] == "NO") for r in rows}
