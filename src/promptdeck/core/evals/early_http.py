"""The HTTP client a run that starts early needs, loaded beside its planning.

Kept apart from :mod:`.early_start` so the command can start the load before it
imports the planning (configuration, suites, scorers): much of aiohttp's load (its
TLS contexts) runs without the GIL, on the other core.
"""

from __future__ import annotations

import threading

__all__ = ["load_http_client", "preload_http_client"]


def load_http_client() -> None:
    """Import the HTTP client (waits for a load under way in another thread)."""
    import aiohttp  # noqa: F401


def preload_http_client() -> None:
    """Start loading the HTTP client in a daemon thread."""
    threading.Thread(target=load_http_client, daemon=True).start()
