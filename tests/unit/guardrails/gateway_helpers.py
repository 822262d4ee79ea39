"""A gateway over a fresh database with one fake provider, for the policy tests."""

from __future__ import annotations

from pathlib import Path

from promptdeck.config import WorkspaceConfig
from promptdeck.core.gateway.engine import CallResult, CallSpec, Gateway
from promptdeck.core.providers.base import Provider
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.providers.router import Target
from promptdeck.store.db import create_db_engine
from promptdeck.store.migrations import migrate


def fake_gateway(
    tmp_path: Path, fake: FakeProvider, config: WorkspaceConfig | None = None
) -> Gateway:
    """A gateway whose every model is ``fake``, writing to ``tmp_path / "w.db"``."""
    db = tmp_path / "w.db"
    migrate(db)

    def factory(target: Target) -> Provider:
        return fake

    return Gateway(
        config or WorkspaceConfig(), tmp_path, create_db_engine(db), provider_factory=factory
    )


async def call_once(gateway: Gateway, spec: CallSpec) -> CallResult:
    """Make one call, then close the gateway (its records written)."""
    try:
        return await gateway.call(spec)
    finally:
        await gateway.aclose()
