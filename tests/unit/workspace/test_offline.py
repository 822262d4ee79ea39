"""The program itself keeps third-party libraries offline and telemetry-free."""

from __future__ import annotations

from pathlib import Path

from promptdeck.core.workspace.offline import apply_offline_environment


def test_privacy_variables_are_forced_and_defaults_respected(tmp_path: Path) -> None:
    env = {"DEEPEVAL_TELEMETRY_OPT_OUT": "0", "LITELLM_LOG": "DEBUG"}
    apply_offline_environment(tmp_path, env)
    assert env["DEEPEVAL_TELEMETRY_OPT_OUT"] == "1"
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert env["DEEPEVAL_DISABLE_DOTENV"] == "1"
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["LITELLM_LOG"] == "DEBUG"
    assert env["DEEPEVAL_CACHE_FOLDER"] == str(tmp_path / "deepeval")
