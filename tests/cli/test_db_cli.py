"""``promptdeck db``, and a workspace on PostgreSQL through a URL (config or variable)."""

from __future__ import annotations

import json

import pytest

from promptdeck.paths import WorkspacePaths
from promptdeck.store.migrations import MIGRATIONS
from tests.helpers import run_cli as run
from tests.pg import EngineChoice, PgServer

ALL = [name for name, _ in MIGRATIONS]


def test_status_and_upgrade_on_each_engine(
    engine: EngineChoice, demo_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = ["--workspace", str(demo_paths.root)]
    code, out, err = run(capsys, *ws, "db", "status", "--json")
    assert (code, err) == (0, "")
    status = json.loads(out)
    assert status["engine"] == engine.name
    if engine.is_postgres:
        # The engine fixture upgraded it; the URL is shown as given (no password here).
        assert (status["applied"], status["pending"]) == (ALL, [])
        assert status["database"] == engine.url
    else:
        assert (status["applied"], status["pending"]) == ([], ALL)
        assert status["database"].endswith(".promptdeck/workspace.db")
    code, out, _ = run(capsys, *ws, "db", "upgrade")
    assert code == 0
    assert out.strip().endswith("up to date" if engine.is_postgres else f"applied {', '.join(ALL)}")
    code, out, _ = run(capsys, *ws, "--headless", "prompts", "list", "--json")
    assert code == 0 and len(json.loads(out)) == 6


def test_a_shared_database_is_upgraded_on_purpose_not_on_open(
    pg_server: PgServer,
    demo_paths: WorkspacePaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``database_url`` in promptdeck.toml; a blank database is refused until upgraded."""
    url = pg_server.create_database()
    monkeypatch.delenv("PROMPTDECK_DATABASE_URL", raising=False)
    config = demo_paths.config.read_text(encoding="utf-8")
    demo_paths.config.write_text(f'database_url = "{url}"\n{config}', encoding="utf-8")
    ws = ["--workspace", str(demo_paths.root), "--headless"]
    code, out, err = run(capsys, *ws, "prompts", "list")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: the workspace database {url} has no promptdeck tables yet; this promptdeck "
        f"needs {ALL[-1]}",
        "hint: run `promptdeck db upgrade` (once, for everyone sharing it)",
    ]
    code, out, _ = run(capsys, *ws, "db", "upgrade")
    assert code == 0 and out.strip() == f"{url}: applied {', '.join(ALL)}"
    code, out, _ = run(capsys, *ws, "prompts", "list", "--json")
    assert code == 0 and len(json.loads(out)) == 6
    assert not (demo_paths.state / "workspace.db").exists()


def test_a_newer_schema_is_refused_in_one_line_with_exit_2(
    engine: EngineChoice, demo_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.pg import connect

    ws = ["--workspace", str(demo_paths.root), "--headless"]
    run(capsys, *ws, "db", "upgrade")
    target = engine.url or str(demo_paths.database)
    connect(target if engine.url else demo_paths.database).execute(
        "INSERT INTO _migrations VALUES ('m900_future', '2030-01-01')"
    )
    for command in (["prompts", "list"], ["db", "status"], ["db", "upgrade"]):
        code, out, err = run(capsys, *ws, *command)
        assert code == 2 and out == "", command
        assert "migrated by a newer promptdeck (m900_future)" in err.splitlines()[0]
        assert "Traceback" not in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:p@h/db", "database_url must start with postgresql://"),
        ("sqlite:///x.db", "database_url must start with postgresql://"),
        ("postgresql:///nohost", "names no host"),
    ],
)
def test_a_url_that_is_not_postgres_is_a_config_error(
    url: str,
    message: str,
    demo_paths: WorkspacePaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", url)
    code, out, err = run(capsys, "--workspace", str(demo_paths.root), "--headless", "db", "status")
    assert code == 2 and out == ""
    assert message in err and "PROMPTDECK_DATABASE_URL" in err
