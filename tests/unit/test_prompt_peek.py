"""The stored prompt list read with sqlite3 alone (before the workspace opens).

It must give the rows the repository gives through SQLAlchemy, and give up (None)
rather than guess on a database it cannot read as expected.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta

from sqlmodel import Session

from promptdeck.config import WorkspaceConfig
from promptdeck.core.prompts.refs import resolve_prompt
from promptdeck.core.prompts.versions import approve_version, move_label
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from promptdeck.store.prompt_peek import peek_prompt_list
from promptdeck.store.prompts_repo import latest_contents, list_prompt_summaries
from promptdeck.store.tables import Run, RunCell
from promptdeck.timeutil import utcnow


def _graded_run(
    session: Session, version_id: int, uid: str, passed: list[bool | None], age: int
) -> None:
    run = Run(uid=uid, kind="eval", status="finished", started_at=utcnow() - timedelta(hours=age))
    session.add(run)
    session.flush()
    assert run.id is not None
    for index, ok in enumerate(passed):
        session.add(
            RunCell(
                run_id=run.id,
                prompt_version_id=version_id,
                model="m",
                case_key=f"c{index}",
                case_index=index,
                status="done",
                passed=ok,
            )
        )
    session.flush()


def test_the_stored_list_matches_the_repository(workspace: Workspace) -> None:
    prompts = workspace.paths.prompts
    workspace.sync()
    summarize = prompts / "summarize.prompt.yaml"
    summarize.write_text(summarize.read_text().replace("concise", "short"))
    (prompts / "zz-broken.prompt.yaml").write_text("name: [unclosed\n")
    (prompts / "truthful-qa.prompt.yaml").unlink()  # archived: its file is gone
    workspace.sync()
    with workspace.session() as session:
        move_label(session, "summarize@1", "production", "shipped")
        move_label(session, "summarize@2", "staging")
        approve_version(session, workspace.paths, WorkspaceConfig(), "summarize@1")
        one = resolve_prompt(session, "summarize@1").version_id
        two = resolve_prompt(session, "summarize@2").version_id
        _graded_run(session, one, "old", [True, False, None], age=2)
        _graded_run(session, two, "new", [True, True, False, None], age=1)
        classify = resolve_prompt(session, "classify-ticket").version_id
        _graded_run(session, classify, "ungraded", [None], age=1)
    with workspace.session() as session:
        expected = list_prompt_summaries(session)
        contents = latest_contents(session)

    peek = peek_prompt_list(workspace.paths.database)

    assert peek is not None
    assert peek.summaries == expected
    assert peek.contents == contents
    by_name = {s.name: s for s in peek.summaries}
    assert by_name["summarize"].pass_rate == 2 / 3  # the newest graded run
    assert by_name["summarize"].labels == {"latest": 2, "production": 1, "staging": 2}
    assert by_name["summarize"].approved == [1]
    assert not by_name["truthful-qa"].file_present
    assert by_name["classify-ticket"].pass_rate is None


def test_no_database_yet(demo_paths: WorkspacePaths) -> None:
    demo_paths.database.unlink(missing_ok=True)
    assert peek_prompt_list(demo_paths.database) is None
    assert not demo_paths.database.exists()  # reading never creates it


def test_a_database_it_cannot_read_gives_up(tmp_path: WorkspacePaths) -> None:
    damaged = tmp_path / "damaged.db"  # type: ignore[operator]
    damaged.write_bytes(b"not a database at all" * 100)
    assert peek_prompt_list(damaged) is None
    old = tmp_path / "old.db"  # type: ignore[operator]
    with sqlite3.connect(old) as db:  # a schema without the columns it reads
        db.execute("CREATE TABLE prompt (id INTEGER PRIMARY KEY, name TEXT)")
    assert peek_prompt_list(old) is None


def test_reading_never_writes(workspace: Workspace) -> None:
    workspace.sync()
    workspace.close()
    database = workspace.paths.database
    before = database.read_bytes()
    assert peek_prompt_list(database) is not None
    assert database.read_bytes() == before


def test_the_reader_loads_no_database_library() -> None:
    code = (
        "import sys, promptdeck.store.prompt_peek; "
        "print(' '.join(m for m in ('sqlalchemy', 'sqlmodel', 'pydantic', 'yaml') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == ""
