"""Fixtures of the hostile-input tests."""

from __future__ import annotations

import pytest

from promptdeck.core.gateway import engine
from promptdeck.core.providers.base import ChatRequest
from promptdeck.core.providers.fake import FakeProvider


def _refuse(request: ChatRequest) -> str:
    raise AssertionError(f"a malformed file reached a model call: {request.model}")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    """Model calls fail the test: a malformed file is refused before any call."""
    provider = FakeProvider(default=_refuse)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider
