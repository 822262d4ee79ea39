"""The semantic cache: serve trivially reworded requests, or (shadow mode) just measure.

Only what differs between two calls of one prompt version is compared: its variable
values (every text variable, each on its own), or, for a call without a prompt, its
last message. Everything else makes the **scope**, which must be equal: model,
parameters, response format, prompt version, repeat index, the other values, and the
messages with the compared texts cut out (for a call without a prompt, every earlier
message). Entries only serve requests of their own scope.

Each compared text is put in canonical form (:mod:`~promptdeck.core.gateway.canonical`)
and embedded with the local MiniLM. A stored answer is served when, for every
compared text, the match keys are equal (the same words, up to articles and plural
endings) and the cosine similarity of the canonical forms, the lowest over the
texts, reaches ``[cache] semantic_threshold``. The key is what keeps "the capital of
Spain" from being answered with "the capital of France" (similar sentences, other
answers); the similarity is what a trivial rewording scores (1.0 when the canonical
forms are equal).

Search is exact: entries with the request's keys are found through a dict, and shadow
mode ranks every entry of the scope with a numpy ``M @ v`` (well under a millisecond
at the thousands of entries a scope holds).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session

from promptdeck.core.gateway.canonical import canonical_text, match_key
from promptdeck.core.gateway.keys import IGNORED_PARAMS
from promptdeck.store import cache_repo
from promptdeck.store.cache_repo import CacheHit

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from promptdeck.core.gateway.spec import CallSpec

__all__ = [
    "SCHEME",
    "Embedder",
    "SemanticCache",
    "SemanticLookup",
    "SemanticMatch",
    "SemanticQuery",
    "request_text",
    "semantic_query",
]

SCHEME = 2
"""Version of what the scope and the vectors mean (scheme 1 embedded whole prompts)."""


class Embedder(Protocol):
    """Turns texts into unit-norm float32 rows."""

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed ``texts``: one unit-norm row each."""
        ...


def request_text(messages: Sequence[Mapping[str, str]]) -> str:
    """A request's messages as one text, role by role (for token estimates)."""
    return "\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in messages)


def _canonical_json(data: Any) -> bytes:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


@dataclass(frozen=True)
class SemanticQuery:
    """What a request is compared by.

    Attributes:
        scope: The hash of everything that must be equal.
        texts: The canonical form of each compared text (variables in name order).
        keys: The match key of each text.
    """

    scope: str
    texts: tuple[str, ...]
    keys: tuple[str, ...]


def semantic_query(spec: CallSpec, model: str, params: Mapping[str, Any]) -> SemanticQuery | None:
    """The comparison of a call, or None when it has no text to compare.

    A prompt call compares its text variables (the rest of its messages must be
    equal); any other call its last message (the earlier ones must be equal).

    Args:
        spec: The call.
        model: The model it resolves to.
        params: Its parameters over the alias's defaults.
    """
    exact: dict[str, Any]
    if spec.prompt_version_id is not None and spec.variables is not None:
        names = sorted(k for k, v in spec.variables.items() if isinstance(v, str))
        texts = [str(spec.variables[name]) for name in names]
        exact = {
            "values": {k: v for k, v in spec.variables.items() if not isinstance(v, str)},
            "texts": names,
            "rest": _rest(spec.messages, dict(zip(names, texts, strict=True))),
        }
    elif spec.messages:
        *prefix, last = spec.messages
        texts = [str(last.get("content", ""))]
        exact = {"prefix": [dict(m) for m in prefix], "role": last.get("role")}
    else:
        return None
    if not texts:
        return None
    payload = {
        "scheme": SCHEME,
        "model": model,
        "params": {k: v for k, v in params.items() if k not in IGNORED_PARAMS},
        "response_format": spec.response_format,
        "prompt_version_id": spec.prompt_version_id,
        "repeat": spec.repeat,
        "exact": exact,
    }
    scope = hashlib.sha256(_canonical_json(payload)).hexdigest()[:32]
    canonical = tuple(canonical_text(t) for t in texts)
    return SemanticQuery(scope, canonical, tuple(match_key(t) for t in canonical))


def _rest(messages: Sequence[Mapping[str, str]], values: Mapping[str, str]) -> list[list[str]]:
    """The messages with each text value cut out: all that must be equal besides them.

    A value the template changed (a filter, a redaction) is not found and stays in,
    so such requests only meet their exact twins.
    """
    order = sorted((item for item in values.items() if item[1]), key=lambda i: -len(i[1]))
    rest = []
    for message in messages:
        content = str(message.get("content", ""))
        for name, value in order:
            content = content.replace(value, f"\x00{name}\x00")
        rest.append([str(message.get("role", "")), content])
    return rest


@dataclass(frozen=True)
class SemanticMatch:
    """A stored answer near a request.

    Attributes:
        hit: The stored answer.
        similarity: Cosine similarity of the canonical texts (the lowest over them).
        guarded: Whether its match keys equal the request's (only then can it serve).
    """

    hit: CacheHit
    similarity: float
    guarded: bool


@dataclass(frozen=True)
class SemanticLookup:
    """What a look-up found.

    Attributes:
        best: The most similar entry with the request's match keys (the one to serve
            if its similarity reaches the threshold).
        nearest: The most similar entry of the scope whatever its keys (only when asked).
    """

    best: SemanticMatch | None
    nearest: SemanticMatch | None = None


@dataclass
class _Scope:
    """The entries of one scope: answers, canonical texts, match keys, vectors.

    An entry's vector is one row of ``texts`` parts (one embedding per text).
    """

    texts: int
    width: int
    hits: list[CacheHit] = field(default_factory=list)
    canon: list[tuple[str, ...] | None] = field(default_factory=list)
    keys: list[tuple[str, ...] | None] = field(default_factory=list)
    rows: list[NDArray[np.float32]] = field(default_factory=list)
    by_key: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    matrix: NDArray[np.float32] | None = None

    def add(
        self, hit: CacheHit, canon: tuple[str, ...] | None, vector: NDArray[np.float32]
    ) -> None:
        if vector.shape[0] != self.width:
            return  # not a vector of this scheme: never served
        keys = None
        if canon is not None and len(canon) == self.texts:
            keys = tuple(match_key(t) for t in canon)
            self.by_key.setdefault(keys, []).append(len(self.hits))
        self.hits.append(hit)
        self.canon.append(canon)
        self.keys.append(keys)
        self.rows.append(vector)
        self.matrix = None

    def similarities(self, vector: NDArray[np.float32], rows: list[int] | None = None) -> Any:
        """The lowest per-text cosine of each entry (of ``rows``, else all) with ``vector``."""
        import numpy as np

        if self.matrix is None:
            self.matrix = np.vstack(self.rows)
        matrix = self.matrix if rows is None else self.matrix[rows]
        per_text = np.einsum(
            "ntd,td->nt",
            matrix.reshape(len(matrix), self.texts, -1),
            vector.reshape(self.texts, -1),
        )
        return per_text.min(axis=1)


class SemanticCache:
    """Per-scope search over stored answers.

    Attributes:
        threshold: The similarity a hit must reach.
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

    def embed(self, query: SemanticQuery) -> NDArray[np.float32]:
        """Embed a query's canonical texts as one row (blocking: call it in a thread).

        Each text is embedded alone: the int8 model quantises a batch's activations
        together, so in a batch a text's vector would depend on its neighbours.
        """
        import numpy as np

        embedder = self._embedder()
        row: NDArray[np.float32] = np.concatenate([embedder.embed([t])[0] for t in query.texts])
        return row

    def _scope(self, query: SemanticQuery, width: int) -> _Scope:
        import numpy as np

        found = self._scopes.get(query.scope)
        if found is None:
            found = _Scope(len(query.texts), width)
            session: Session
            with self._session() as session:
                rows = cache_repo.semantic_rows(session, query.scope, self._not_before())
            for hit, raw, canon in rows:
                found.add(hit, _stored_texts(canon), np.frombuffer(raw, dtype=np.float32))
            self._scopes[query.scope] = found
        return found

    def lookup(
        self, query: SemanticQuery, vector: NDArray[np.float32], *, nearest: bool = False
    ) -> SemanticLookup:
        """Find the entry that may serve ``query``, and (if asked) the nearest of its scope."""
        entries = self._scope(query, int(vector.shape[0]))
        if not entries.hits:
            return SemanticLookup(None)
        best: SemanticMatch | None = None
        rows = entries.by_key.get(query.keys, [])
        same = next((r for r in rows if entries.canon[r] == query.texts), None)
        if same is not None:
            best = SemanticMatch(entries.hits[same], 1.0, True)
        elif rows:
            scores = entries.similarities(vector, rows)
            at = int(scores.argmax())
            best = SemanticMatch(entries.hits[rows[at]], float(scores[at]), True)
        near: SemanticMatch | None = None
        if nearest:
            scores = entries.similarities(vector)
            at = int(scores.argmax())
            near = SemanticMatch(
                entries.hits[at], float(scores[at]), entries.keys[at] == query.keys
            )
        return SemanticLookup(best, near)

    def remember(self, query: SemanticQuery, hit: CacheHit, vector: NDArray[np.float32]) -> None:
        """Make a fresh answer findable before it is written to the database."""
        self._scope(query, int(vector.shape[0])).add(hit, query.texts, vector)

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts (shadow mode compares answers with it)."""
        vectors = self._embedder().embed([a, b])
        return float(vectors[0] @ vectors[1])


def _stored_texts(canon: str | None) -> tuple[str, ...] | None:
    """A stored entry's canonical texts (None: none or unreadable; never served)."""
    if canon is None:
        return None
    try:
        values = json.loads(canon)
    except ValueError:
        return None
    return tuple(str(v) for v in values) if isinstance(values, list) else None
