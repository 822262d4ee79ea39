"""Column types that store the same way on SQLite and PostgreSQL.

- :class:`UTCDateTime`: UTC-aware datetimes as sortable ISO-8601 text.
- :class:`IntBool`: booleans as the integers 0 and 1 (the migrations' ``INTEGER``
  columns on both engines, so raw SQL such as ``passed = 1`` or ``SUM(passed)`` means
  the same on each).
- :class:`JSONText`: JSON documents as text (``json.dumps``), read back with
  ``json.loads`` on both engines (SQLAlchemy's own JSON type expects a ``json``
  column on PostgreSQL and would hand back strings from a ``TEXT`` one).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["IntBool", "JSONText", "UTCDateTime"]


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime that must be timezone-aware, stored in UTC as ISO-8601 text.

    Every value is written with the same format (microseconds, ``+00:00``), so text
    order is time order and indexes on these columns sort correctly.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        """Convert an aware datetime to UTC text; refuse naive datetimes."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use promptdeck.timeutil")
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Read UTC text back as an aware datetime."""
        if value is None:
            return None
        parsed = datetime.fromisoformat(str(value))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class IntBool(TypeDecorator[bool]):
    """A boolean stored as 0/1 in an ``INTEGER`` column on every engine.

    Compare it with ``== True``/``== False`` in queries (a bare column in a WHERE
    clause is an integer, which PostgreSQL does not take as a condition).
    """

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        """``True``/``False`` as 1/0."""
        return None if value is None else int(bool(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> bool | None:
        """0/1 as ``False``/``True``."""
        return None if value is None else bool(value)


class JSONText(TypeDecorator[Any]):
    """A JSON document stored as text, the same on every engine."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Serialise with ``json.dumps`` (as SQLAlchemy's JSON type did on SQLite)."""
        return json.dumps(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        """Parse the stored text (None stays None)."""
        return None if value is None else json.loads(value)
