"""The state of one gateway call while it is under way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from promptdeck.core.gateway.keys import trace_uid
from promptdeck.core.gateway.spec import CallSpec
from promptdeck.core.providers.router import Target
from promptdeck.store.calls_repo import SpanRecord

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from promptdeck.core.gateway.semantic import SemanticMatch, SemanticQuery

__all__ = ["InFlight", "trace_uid"]


@dataclass
class InFlight:
    """A call under way: its spec, its trace's id and spans, and what it resolved to.

    Attributes:
        spec: The call asked for (its messages redacted by input rules, if any).
        uid: The trace's id.
        started: When the call began (UTC).
        perf: ``time.perf_counter()`` then, for the trace's latency.
        spans: The trace's spans so far.
        model_name: The model to call (a budget may have switched it).
        target: What that model resolves to.
        params: The call's parameters over the alias's defaults.
        rhash: The request's hash (the completion row's ``request_hash``).
        key: The exact-cache key.
        warnings: Budget alerts and guardrail warnings, for the user.
        query: What the semantic cache compares the request by, when it is on.
        vector: The embedding of the query's texts.
        shadow: In shadow mode, the stored answer that would be considered.
        similarity: The similarity of the semantic hit that served the call.
    """

    spec: CallSpec
    uid: str
    started: datetime
    perf: float
    spans: list[SpanRecord]
    model_name: str
    target: Target
    params: dict[str, Any]
    rhash: str
    key: str
    warnings: list[str]
    query: SemanticQuery | None = None
    vector: NDArray[np.float32] | None = None
    shadow: SemanticMatch | None = None
    similarity: float | None = None
