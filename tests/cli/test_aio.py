"""The event loop of headless commands: the GIL goes back to it quickly, and only while it runs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest

from promptdeck.cli.aio import LOOP_SWITCH_SECONDS, run_interruptibly


@pytest.fixture
def default_switch() -> Iterator[float]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        yield 0.005
    finally:
        sys.setswitchinterval(before)


def test_the_loop_runs_with_a_short_switch_interval_then_restores_it(
    default_switch: float,
) -> None:
    async def main() -> float:
        # A database writer in a worker thread, as during an eval run.
        await asyncio.to_thread(lambda: None)
        return sys.getswitchinterval()

    during = run_interruptibly(main())

    assert during == pytest.approx(LOOP_SWITCH_SECONDS)
    assert default_switch > LOOP_SWITCH_SECONDS
    assert sys.getswitchinterval() == pytest.approx(default_switch)


def test_the_switch_interval_is_restored_after_an_interrupt(default_switch: float) -> None:
    async def main() -> None:
        asyncio.current_task().cancel()  # type: ignore[union-attr]  # what Ctrl+C does
        await asyncio.sleep(1)

    with pytest.raises(KeyboardInterrupt):
        run_interruptibly(main())

    assert sys.getswitchinterval() == pytest.approx(default_switch)


def test_a_shorter_interval_already_set_is_kept() -> None:
    before = sys.getswitchinterval()
    sys.setswitchinterval(LOOP_SWITCH_SECONDS / 2)
    try:

        async def main() -> float:
            return sys.getswitchinterval()

        assert run_interruptibly(main()) == pytest.approx(LOOP_SWITCH_SECONDS / 2)
    finally:
        sys.setswitchinterval(before)
