"""Fixtures shared by the CLI tests."""

from __future__ import annotations

import pytest

from promptdeck.core.gateway import engine
from promptdeck.core.providers.base import ChatRequest
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.paths import WorkspacePaths
from tests.helpers import MINI_SUITE


def label(request: ChatRequest) -> str:
    """A fake classifier: billing for charges, account for everything else."""
    return "billing" if "charged" in request.messages[-1]["content"] else "account"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    """Every model call answered by a fake provider (no network, no model)."""
    provider = FakeProvider(default=label)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


@pytest.fixture
def ws(demo_paths: WorkspacePaths) -> list[str]:
    """The demo workspace with the ``mini`` suite: the headless CLI's first arguments."""
    (demo_paths.suites / "mini.suite.yaml").write_text(MINI_SUITE)
    return ["--headless", "--workspace", str(demo_paths.root)]
