"""``[keymap]`` names binding ids: one that no binding has is refused at open, with a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.config import parse_config
from promptdeck.core.workspace.references import check_references
from promptdeck.errors import ConfigError, ExitCode


def _check(text: str) -> None:
    path = Path("promptdeck.toml")
    check_references(parse_config(text, path), text, path)


def test_known_ids_pass() -> None:
    _check('default_model = "x/y"\n\n[keymap]\n"screen.stats" = "s"\n"prompts.edit" = "E"\n')


def test_an_unknown_id_names_file_line_and_the_closest_id() -> None:
    text = 'default_model = "x/y"\n\n[keymap]\n"screen.stats" = "s"\n"screen.stat" = "t"\n'
    with pytest.raises(ConfigError) as caught:
        _check(text)
    assert caught.value.title.startswith("promptdeck.toml:5: keymap: unknown binding id")
    assert "'screen.stat'" in caught.value.title
    assert "'screen.stats'" in (caught.value.hint or "")
    assert caught.value.exit_code == ExitCode.USAGE


def test_an_id_like_nothing_gets_a_pointer_to_the_list() -> None:
    text = "[keymap]\nzzzz = 'q'\n"
    with pytest.raises(ConfigError) as caught:
        _check(text)
    assert caught.value.title.startswith("promptdeck.toml:2:")
    assert "F1" in (caught.value.hint or "")
