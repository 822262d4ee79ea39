"""Every test runs at one fixed date, whatever the machine's clock says."""

from __future__ import annotations

from datetime import timedelta

from promptdeck.timeutil import utcnow
from tests.conftest import FROZEN_NOW


def test_the_engine_clock_starts_at_the_frozen_moment() -> None:
    now = utcnow()
    assert FROZEN_NOW <= now < FROZEN_NOW + timedelta(minutes=5)


def test_the_frozen_clock_still_ticks() -> None:
    first = utcnow()
    second = utcnow()
    assert second >= first
