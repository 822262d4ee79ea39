"""A new prompt file: starter or copy, valid, never over an existing file."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.core.prompts.files import parse_prompt
from promptdeck.core.prompts.new import new_prompt_file
from promptdeck.errors import UsageError

SOURCE = """\
# a comment kept in the copy
name: base
template: "Hi {{ who }}"
variables:
  who: {required: true}
"""


def test_the_starter_and_a_copy_parse_under_their_new_names(tmp_path: Path) -> None:
    starter = new_prompt_file(tmp_path, "fresh")
    assert parse_prompt(starter.read_text(), starter).file.name == "fresh"
    base = parse_prompt(SOURCE, "base.prompt.yaml").file
    copy = new_prompt_file(tmp_path, "copy", base, SOURCE)
    assert copy.read_text() == SOURCE.replace("name: base", "name: copy")
    # Without its text (or with a text whose name line is ambiguous), the canonical YAML.
    other = new_prompt_file(tmp_path, "other", base, "name: a\nname: b\n")
    assert parse_prompt(other.read_text(), other).file.template == "Hi {{ who }}"


def test_an_existing_file_or_a_bad_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken.prompt.yaml").write_text("keep me")
    with pytest.raises(UsageError, match="already exists"):
        new_prompt_file(tmp_path, "taken")
    assert (tmp_path / "taken.prompt.yaml").read_text() == "keep me"
    for bad in ("", "Upper", "../escape", "a b"):
        with pytest.raises(UsageError, match="not a prompt name"):
            new_prompt_file(tmp_path, bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.prompt.yaml"]
