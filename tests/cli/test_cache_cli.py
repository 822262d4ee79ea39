"""`cache stats` in shadow mode: what each threshold would have served, per scope."""

from __future__ import annotations

import json

import pytest

from promptdeck.core.gateway import engine
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.paths import WorkspacePaths
from tests.helpers import run_cli as run


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider(default="No, cook them first.")
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


def test_cache_stats_shows_the_shadow_precision_curve(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    config = demo_paths.config
    config.write_text(config.read_text().replace("shadow = false", "shadow = true"))
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    for question in (
        "Is it safe to eat raw eggs?",
        "is it safe to eat raw eggs",  # the same words: would be served
        "Is it not safe to eat raw eggs?",  # as similar, other words: refused
    ):
        code, out, err = run(capsys, *ws, "run", "truthful-qa", "--var", f"question={question}")
        assert code == 0, err
        assert "cache miss" in out
    assert len(fake.requests) == 3

    code, out, _ = run(capsys, *ws, "cache", "stats", "--json")
    assert code == 0
    (curve,) = json.loads(out)["shadow"]
    assert curve["prompt"] == "truthful-qa" and curve["calls"] == 2
    points = {p["threshold"]: p for p in curve["curve"]}
    assert sorted(points) == [0.8, 0.85, 0.9, 0.92, 0.95, 0.99]
    at = points[0.9]
    assert (at["would_serve"], at["same_answer"], at["refused_by_keys"]) == (1, 1, 1)
    assert at["answer_similarity"] == pytest.approx(1.0, abs=1e-3)

    code, out, _ = run(capsys, *ws, "cache", "stats")
    assert code == 0
    assert "Shadow mode: near hits each threshold would have served" in out
    assert "truthful-qa" in out and "2 fresh calls compared" in out
    assert "THRESHOLD" in out and "REFUSED BY KEYS" in out and "0.92 (now)" in out
