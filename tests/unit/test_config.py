"""promptdeck.toml: the template validates; every mistake names the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.config import load_config, parse_config, toml_line
from promptdeck.errors import ConfigError, ExitCode
from promptdeck.paths import bundled_dir

CONFIG = Path("promptdeck.toml")


def test_the_bundled_template_is_valid() -> None:
    config = load_config(bundled_dir("workspace_template") / "promptdeck.toml")
    assert config.default_model == "local/smollm2-135m"
    assert config.resolve_model("smol") == "local/smollm2-135m"
    assert config.resolve_model("openai/gpt-4o-mini") == "openai/gpt-4o-mini"


def test_an_empty_file_means_defaults() -> None:
    config = parse_config("", CONFIG)
    assert config.cache.semantic_threshold == 0.92
    assert config.concurrency.default == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('default_model = "x"\ntimeout = \n', "promptdeck.toml:2: invalid TOML"),
        (
            "[cache]\nexact = true\nsemantic_treshold = 0.9\n",
            "promptdeck.toml:3: cache.semantic_treshold: unknown setting",
        ),
        (
            "[cache]\nsemantic_threshold = 1.5\n",
            "promptdeck.toml:2: cache.semantic_threshold: Input should be less than or equal to 1",
        ),
        (
            'timeout = 1\n\n[models.fast]\napi_base = "http://x"\n',
            "promptdeck.toml:3: models.fast.model: Field required",
        ),
        (
            '[models.fast]\nmodel = "m"\nparams = { temperature = [1] }\n',
            "promptdeck.toml:3: models.fast.params.temperature",
        ),
        (
            '[budgets.daily]\nlimit_usd = 1\naction = "explode"\n',
            "promptdeck.toml:3: budgets.daily.action",
        ),
        (
            '[[models]]\nmodel = "x"\n',
            "promptdeck.toml:1: models: Input should be a valid dictionary",
        ),
    ],
)
def test_mistakes_name_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, CONFIG)
    assert caught.value.title.startswith(expected), caught.value.title
    assert caught.value.hint
    assert caught.value.exit_code == ExitCode.USAGE


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "promptdeck.toml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(bad)


def test_toml_line_finds_quoted_and_dotted_keys() -> None:
    text = '[models."gpt 4"]\nmodel = "x"\n[ui]\ntheme = "y"\nconcurrency.default = 3\n'
    assert toml_line(text, ("models", "gpt 4", "model")) == 2
    assert toml_line(text, ("ui", "theme")) == 4
    assert toml_line(text, ("ui", "concurrency", "default")) == 5
    assert toml_line(text, ("nothing",)) is None
