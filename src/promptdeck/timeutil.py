"""UTC-aware time helpers: the only clock the engine reads."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """Return the current time as a UTC-aware datetime."""
    return datetime.now(UTC)
