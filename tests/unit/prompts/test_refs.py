"""Prompt references resolve to stored versions by number or label."""

from __future__ import annotations

import pytest

from promptdeck.core.prompts.refs import parse_ref, resolve_prompt
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import NotFoundError, UsageError


@pytest.mark.parametrize(
    ("text", "version", "label"),
    [("support", None, None), ("support@3", 3, None), ("support@production", None, "production")],
)
def test_parse(text: str, version: int | None, label: str | None) -> None:
    ref = parse_ref(text)
    assert (ref.name, ref.version, ref.label, str(ref)) == ("support", version, label, text)


@pytest.mark.parametrize("bad", ["", "Support", "a@", "a@b@c", "a b"])
def test_bad_references(bad: str) -> None:
    with pytest.raises(UsageError, match="not a prompt reference"):
        parse_ref(bad)


def test_resolve_by_version_label_and_default(workspace: Workspace) -> None:
    workspace.sync()
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 0.3"))
    workspace.sync()
    with workspace.session() as session:
        assert resolve_prompt(session, "summarize").version == 2
        first = resolve_prompt(session, "summarize@1")
        assert first.version == 1 and first.file.params.temperature == 0.2
        with pytest.raises(NotFoundError) as caught:
            resolve_prompt(session, "summarize@7")
        assert caught.value.hint == "it has versions 1 to 2"
        with pytest.raises(NotFoundError) as caught:
            resolve_prompt(session, "summarize@production")
        assert "latest" in caught.value.hint
        with pytest.raises(NotFoundError) as caught:
            resolve_prompt(session, "sumarize")
        assert caught.value.hint == "did you mean 'summarize'?"
