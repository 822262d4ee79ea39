"""The real local model: located from its package, loaded once, and errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.config import LocalModelConfig, WorkspaceConfig
from promptdeck.core.providers.local_model import get_local_model, local_model_path
from promptdeck.core.workspace.warmup import warm_up
from promptdeck.errors import ConfigError


def test_unknown_local_model_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        local_model_path("local/gpt-5", WorkspaceConfig(), tmp_path)
    assert "local/smollm2-135m" in caught.value.hint


def test_declared_model_resolves_relative_to_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tiny.gguf").write_bytes(b"GGUF")
    config = WorkspaceConfig(local_models={"tiny": LocalModelConfig(path="models/tiny.gguf")})
    assert local_model_path("local/tiny", config, tmp_path) == tmp_path / "models" / "tiny.gguf"


def test_declared_model_with_a_missing_file(tmp_path: Path) -> None:
    config = WorkspaceConfig(local_models={"tiny": LocalModelConfig(path="nope.gguf")})
    with pytest.raises(ConfigError, match=r"local_models\.tiny\.path: no file"):
        local_model_path("local/tiny", config, tmp_path)


def test_warm_up_reports_a_broken_model_as_a_value(tmp_path: Path) -> None:
    (tmp_path / "bad.gguf").write_bytes(b"not a gguf file")
    config = WorkspaceConfig(
        default_model="local/bad", local_models={"bad": LocalModelConfig(path="bad.gguf")}
    )
    result = warm_up(config, tmp_path)
    assert not result.ready
    assert "bad.gguf" in result.message or "llama-cpp-python" in result.message


@pytest.mark.local_model
def test_the_real_local_model_loads_and_answers(tmp_path: Path) -> None:
    config = WorkspaceConfig()
    result = warm_up(config, tmp_path)
    assert result.ready, result.message
    model = get_local_model(config.default_model, config, tmp_path)
    assert model is get_local_model("local/smollm2-135m", config, tmp_path)  # one per process
    with model.lock:
        out = model.load().create_chat_completion(
            messages=[{"role": "user", "content": "What is the capital of France?"}],
            temperature=0,
            max_tokens=16,
        )
    assert out["choices"][0]["message"]["content"].strip()
    assert out["usage"]["completion_tokens"] > 0
