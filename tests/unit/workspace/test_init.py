"""promptdeck init: a full workspace from the template; never overwrites anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.core.workspace.init import init_workspace
from promptdeck.errors import WorkspaceError


def test_init_creates_the_workspace_layout(tmp_path: Path) -> None:
    paths = init_workspace(tmp_path / "new")
    for folder in ("prompts", "suites", "datasets", ".promptdeck"):
        assert (paths.root / folder).is_dir(), folder
    assert (paths.root / "promptdeck.toml").is_file()
    assert (paths.state / ".gitignore").read_text().strip().endswith("*")
    assert len(list(paths.prompts.glob("*.prompt.yaml"))) >= 4
    assert list(paths.suites.glob("*.suite.yaml"))
    assert (paths.datasets / "README.md").is_file()


def test_init_refuses_an_existing_workspace(tmp_path: Path) -> None:
    paths = init_workspace(tmp_path / "ws")
    (paths.root / "promptdeck.toml").write_text("# mine\n")
    with pytest.raises(WorkspaceError, match="already holds a workspace"):
        init_workspace(paths.root)
    assert (paths.root / "promptdeck.toml").read_text() == "# mine\n"


def test_init_refuses_to_overwrite_any_file(tmp_path: Path) -> None:
    target = tmp_path / "ws"
    (target / "prompts").mkdir(parents=True)
    mine = target / "prompts" / "summarize.prompt.yaml"
    mine.write_text("mine")
    with pytest.raises(WorkspaceError, match="already exists"):
        init_workspace(target)
    assert mine.read_text() == "mine"
    assert not (target / "promptdeck.toml").exists()


def test_init_into_a_folder_with_other_files_is_fine(tmp_path: Path) -> None:
    target = tmp_path / "repo"
    target.mkdir()
    (target / "README.md").write_text("my project")
    init_workspace(target)
    assert (target / "README.md").read_text() == "my project"


def test_init_onto_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(WorkspaceError, match="not a folder"):
        init_workspace(target)
