"""The semantic cache: serve near-identical requests, or (shadow mode) just measure.

Requests are embedded with the local MiniLM (:mod:`promptdeck.core.embeddings`) and
compared by exact cosine search (numpy ``M @ v``) within their scope (same model,
parameters and prompt version). At the sizes a workspace holds (thousands of
entries per scope) exact search answers in well under a millisecond and never
misses, where an HNSW index would cost build time and recall.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session

from promptdeck.store import cache_repo
from promptdeck.store.cache_repo import CacheHit

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Embedder", "SemanticCache", "SemanticMatch", "request_text"]


class Embedder(Protocol):
    """Turns texts into unit-norm float32 rows."""

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed ``texts``: one unit-norm row each."""
        ...


def request_text(messages: Sequence[Mapping[str, str]]) -> str:
    """The text a request is compared by: its messages, role by role."""
    return "\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in messages)


@dataclass(frozen=True)
class SemanticMatch:
    """The nearest stored answer.

    Attributes:
        hit: The stored answer.
        similarity: Cosine similarity of the requests.
    """

    hit: CacheHit
    similarity: float


class _Scope:
    def __init__(self, dims: int) -> None:
        import numpy as np

        self.hits: list[CacheHit] = []
        self.matrix: NDArray[np.float32] = np.zeros((0, dims), dtype=np.float32)

    def add(self, hit: CacheHit, vector: NDArray[np.float32]) -> None:
        import numpy as np

        self.hits.append(hit)
        self.matrix = np.vstack([self.matrix, vector.reshape(1, -1)])


class SemanticCache:
    """Per-scope vector search over stored answers.

    Attributes:
        threshold: The cosine similarity a hit must reach.
    """

    def __init__(
        self,
        embedder: Callable[[], Embedder],
        session: Callable[[], Any],
        threshold: float,
        not_before: Callable[[], datetime | None] = lambda: None,
    ) -> None:
        self.threshold = threshold
        self._embedder = embedder
        self._session = session
        self._not_before = not_before
        self._scopes: dict[str, _Scope] = {}

    def embed(self, text: str) -> NDArray[np.float32]:
        """Embed one request text (blocking: call it in a thread)."""
        vectors = self._embedder().embed([text])
        row: NDArray[np.float32] = vectors[0]
        return row

    def _scope(self, scope: str, dims: int) -> _Scope:
        import numpy as np

        found = self._scopes.get(scope)
        if found is None:
            found = _Scope(dims)
            session: Session
            with self._session() as session:
                rows = cache_repo.semantic_rows(session, scope, self._not_before())
            if rows:
                found.hits = [hit for hit, _ in rows]
                found.matrix = np.vstack([np.frombuffer(raw, dtype=np.float32) for _, raw in rows])
            self._scopes[scope] = found
        return found

    def nearest(self, scope: str, vector: NDArray[np.float32]) -> SemanticMatch | None:
        """Return the most similar stored answer in ``scope`` (whatever its similarity)."""
        entries = self._scope(scope, int(vector.shape[0]))
        if not entries.hits:
            return None
        scores = entries.matrix @ vector
        best = int(scores.argmax())
        return SemanticMatch(entries.hits[best], float(scores[best]))

    def remember(self, scope: str, hit: CacheHit, vector: NDArray[np.float32]) -> None:
        """Make a fresh answer findable before it is written to the database."""
        self._scope(scope, int(vector.shape[0])).add(hit, vector)

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts (shadow mode compares answers with it)."""
        vectors = self._embedder().embed([a, b])
        return float(vectors[0] @ vectors[1])
