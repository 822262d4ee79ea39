"""Run a command's async work so that Ctrl+C (or SIGTERM) stops it at once."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["run_interruptibly"]

T = TypeVar("T")

CLEANUP_SECONDS = 2.0
"""How long tasks left over after an interrupt get to finish their clean-up."""


def run_interruptibly(
    main: Coroutine[Any, Any, T], *, drain: Callable[[], None] | None = None
) -> T:
    """Run ``main`` on a new event loop, like :func:`asyncio.run`, but stop at once.

    SIGINT (Ctrl+C) and SIGTERM cancel the main task: its own clean-up runs (an eval
    run stores every answer that arrived and marks itself interrupted), then
    :class:`KeyboardInterrupt` is raised. Unlike :func:`asyncio.run`, worker threads
    still busy (a local model generating, a blocking call) are not waited for: the
    command ends without them.

    Args:
        main: The command's coroutine.
        drain: Called at the first signal instead of cancelling ``main`` (a worker
            finishes the cells in hand and leaves); a second signal cancels it.

    Returns:
        What ``main`` returns.

    Raises:
        KeyboardInterrupt: When interrupted (SIGINT, SIGTERM, or the task cancelled).
    """
    loop = asyncio.new_event_loop()
    task = loop.create_task(main)
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if drain is not None and signals == 1:
            drain()
        else:
            task.cancel()

    handled: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, on_signal)
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                continue
            handled.append(sig)
    interrupted = False
    try:
        return loop.run_until_complete(task)
    except (asyncio.CancelledError, KeyboardInterrupt):
        interrupted = True
        raise KeyboardInterrupt from None
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        try:
            _cancel_leftovers(loop, CLEANUP_SECONDS if interrupted else None)
            loop.run_until_complete(loop.shutdown_asyncgens())
            if not interrupted:
                loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()  # without waiting for the executor's threads


def _cancel_leftovers(loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
    leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for leftover in leftovers:
        leftover.cancel()
    if leftovers:
        loop.run_until_complete(asyncio.wait(leftovers, timeout=timeout))
