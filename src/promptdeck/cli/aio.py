"""Run a command's async work so that Ctrl+C (or SIGTERM) stops it at once."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_interruptibly"]

T = TypeVar("T")

CLEANUP_SECONDS = 2.0
"""How long tasks left over after an interrupt get to finish their clean-up."""
LOOP_SWITCH_SECONDS = 0.001
"""How soon a busy worker thread hands the GIL back to the event loop (Python's default: 5 ms).

A command's event loop carries the latency-bound work (sending the next model call,
reading answers), while worker threads write results and traces to the database in
the background. A thread that wants the GIL waits up to the switch interval for the
holder to yield it; at the default, every answer that arrives while a writer runs
can wait 5 ms before the loop sees it. At 1 ms the writers still get their turn,
in shorter slices.
"""


def run_interruptibly(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on a new event loop, like :func:`asyncio.run`, but stop at once.

    SIGINT (Ctrl+C) and SIGTERM cancel the main task: its own clean-up runs (an eval
    run stores every answer that arrived and marks itself interrupted), then
    :class:`KeyboardInterrupt` is raised. Unlike :func:`asyncio.run`, worker threads
    still busy (a local model generating, a blocking call) are not waited for: the
    command ends without them. While it runs, the interpreter's switch interval is at
    most :data:`LOOP_SWITCH_SECONDS` (restored afterwards), so database writers in
    worker threads do not hold up the loop.

    Args:
        main: The command's coroutine.

    Returns:
        What ``main`` returns.

    Raises:
        KeyboardInterrupt: When interrupted (SIGINT, SIGTERM, or the task cancelled).
    """
    loop = asyncio.new_event_loop()
    task = loop.create_task(main)
    handled: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, task.cancel)
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                continue
            handled.append(sig)
    interrupted = False
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, LOOP_SWITCH_SECONDS))
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
            sys.setswitchinterval(switch)


def _cancel_leftovers(loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
    leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for leftover in leftovers:
        leftover.cancel()
    if leftovers:
        loop.run_until_complete(asyncio.wait(leftovers, timeout=timeout))
