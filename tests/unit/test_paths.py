"""Workspace discovery: --workspace, then upward, then $PROMPTDECK_WORKSPACE."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.errors import WorkspaceError
from promptdeck.paths import find_workspace


def _ws(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "promptdeck.toml").write_text("")
    return folder.resolve()


def test_explicit_workspace_wins(tmp_path: Path) -> None:
    here = _ws(tmp_path / "here")
    other = _ws(tmp_path / "other")
    found = find_workspace(other, start=here, environ={"PROMPTDECK_WORKSPACE": str(here)})
    assert found.root == other


def test_nearest_folder_upward(tmp_path: Path) -> None:
    outer = _ws(tmp_path / "outer")
    inner = _ws(outer / "inner")
    deep = inner / "prompts" / "sub"
    deep.mkdir(parents=True)
    assert find_workspace(start=deep, environ={}).root == inner
    beside = outer / "datasets"
    beside.mkdir()
    assert find_workspace(start=beside, environ={}).root == outer


def test_environment_variable_is_the_last_resort(tmp_path: Path) -> None:
    ws = _ws(tmp_path / "ws")
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    assert find_workspace(start=lonely, environ={"PROMPTDECK_WORKSPACE": str(ws)}).root == ws


def test_no_workspace_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as caught:
        find_workspace(start=tmp_path, environ={})
    assert "promptdeck init" in caught.value.hint


@pytest.mark.parametrize("source", ["explicit", "env"])
def test_a_folder_without_config_is_refused(tmp_path: Path, source: str) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(WorkspaceError, match=r"holds no promptdeck\.toml"):
        if source == "explicit":
            find_workspace(empty, start=tmp_path, environ={})
        else:
            find_workspace(start=tmp_path, environ={"PROMPTDECK_WORKSPACE": str(empty)})


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="not a folder"):
        find_workspace(tmp_path / "nope", environ={})
