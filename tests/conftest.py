"""Shared fixtures: a fresh demo workspace per test, and a quiet, offline environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from promptdeck.core.workspace.init import init_workspace
from promptdeck.core.workspace.offline import apply_offline_environment
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from tests.pg import (  # noqa: F401 - fixtures: every test may run on both engines
    engine,
    fresh_postgres_database,
    pg_server,
)

apply_offline_environment()


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """No test sees the developer's workspace variable or runs in a workspace."""
    monkeypatch.delenv("PROMPTDECK_WORKSPACE", raising=False)
    monkeypatch.delenv("PROMPTDECK_USER", raising=False)
    # Never the developer's shared database (PROMPTDECK_TEST_ENGINE=postgresql: a fresh one).
    monkeypatch.delenv("PROMPTDECK_DATABASE_URL", raising=False)
    if os.environ.get("PROMPTDECK_TEST_ENGINE") == "postgresql":
        monkeypatch.setenv("PROMPTDECK_DATABASE_URL", fresh_postgres_database(request))
    monkeypatch.chdir(tmp_path)


FROZEN_NOW = datetime(2026, 11, 20, 18, 0, 0, tzinfo=UTC)
"""The moment every test starts at: the day the fixed traces and guard checks were made."""


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[time_machine.Coordinates]:
    """Every test starts at :data:`FROZEN_NOW`, whatever today's date is.

    The clock ticks from there (timeouts and latencies still pass), but nothing a test
    shows or asserts (this month's spend, "3 days ago", a TTL) depends on the real date.
    Only the wall clock moves: ``time.monotonic`` and ``perf_counter`` are untouched.
    """
    with time_machine.travel(FROZEN_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def demo_paths(tmp_path: Path) -> WorkspacePaths:
    """A workspace created from the bundled template, in ``<tmp>/demo``."""
    return init_workspace(tmp_path / "demo")


@pytest.fixture
def workspace(demo_paths: WorkspacePaths) -> Iterator[Workspace]:
    """The demo workspace, opened (migrated) but not yet synced."""
    ws = Workspace.open(demo_paths)
    try:
        yield ws
    finally:
        ws.close()


def no_git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the machine's git ``user.name`` (global and system config) from the test."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


DEMO_PROMPTS = [
    "classify-ticket",
    "customer-support",
    "extract-invoice",
    "math-word-problem",
    "summarize",
    "truthful-qa",
]
