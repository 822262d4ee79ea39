"""Cache keys: a stable hash of what decides an answer."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["IGNORED_PARAMS", "exact_key", "request_hash", "trace_uid"]

IGNORED_PARAMS = frozenset({"stream", "stream_options", "timeout", "num_retries", "user"})
"""Parameters that do not change the answer (left out of every cache key)."""


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_hash(
    model: str,
    messages: Sequence[Mapping[str, str]],
    params: Mapping[str, Any],
    response_format: Mapping[str, Any] | None = None,
) -> str:
    """SHA-256 of (model, messages, params with the seed, response format).

    Parameters that do not change the answer (stream, timeout…) are left out.
    """
    payload = {
        "model": model,
        "messages": [dict(m) for m in messages],
        "params": {k: v for k, v in params.items() if k not in IGNORED_PARAMS},
        "response_format": dict(response_format) if response_format is not None else None,
    }
    return hashlib.sha256(_canonical(payload)).hexdigest()


def exact_key(request: str, repeat: int = 0) -> str:
    """The exact cache key: the request hash plus the repeat index.

    ``repeat: 5`` gives five independent samples, and a rerun of the same five
    is served from the cache.
    """
    return f"{request}:{repeat}"


def trace_uid() -> str:
    """A random 128-bit trace id as 32 hex digits (unique, not secret: no ``os.urandom``).

    ``uuid4`` reads the OS's random source on every call, which under a busy event loop
    costs milliseconds; Python's generator is seeded from it once (and again after a fork).
    """
    return f"{random.getrandbits(128):032x}"
