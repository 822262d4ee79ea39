"""Similar traces: a usearch (HNSW) index of trace vectors kept in ``.promptdeck/``.

A trace's vector is the local embedder's (:mod:`promptdeck.core.providers.embeddings`)
of its prompt and answer (:func:`trace_text`). The index is updated incrementally:
``similar-traces.json`` beside it records the last trace id indexed (the watermark),
and each update embeds only the traces stored since. A missing, unreadable or
inconsistent index is rebuilt from the start. Files are replaced atomically, so a
reader never sees half an index.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlmodel import Session

from promptdeck.errors import NotFoundError, UsageError
from promptdeck.store.tables import Trace
from promptdeck.store.traces_repo import find_trace

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "CONNECTIVITY",
    "DTYPE",
    "EXPANSION_ADD",
    "EXPANSION_SEARCH",
    "Embed",
    "SimilarTrace",
    "TraceIndex",
    "make_index",
    "trace_text",
]

# Chosen with bench/similar.py on 1,000,000 trace vectors (real sentence vectors and
# neighbours around them; see bench/similar_corpus.py), 200 queries against exact
# search, one query at a time on one thread (2-core machine, load average ~6):
#   M=16, efConstruction=64: recall@10 0.958 / 0.961 / 0.970 at ef 64 / 128 / 256;
#   M=32, efConstruction=64: recall@10 0.972 / 0.983 / 0.984 / 0.988 / 0.990 at
#   ef 64 / 128 / 256 / 512 / 1024, query p50 0.6 / 0.7 / 1.1 / 2.4 / 7.3 ms;
#   again with 500 other queries: 0.978 / 0.983 / 0.987 at ef 128 / 256 / 512,
#   CPU 0.7 / 1.0 / 2.2 ms a query.
# Build: 516 s CPU (897 s wall, 2 threads); the M=16 build took as long (495 s CPU).
CONNECTIVITY = 32
"""HNSW links per node (``M``)."""
EXPANSION_ADD = 64
"""Search depth while inserting (``efConstruction``)."""
EXPANSION_SEARCH = 512
"""Search depth of a query (``ef``): recall@10 0.987-0.988, ~2.2 ms CPU, on 1M traces."""
DTYPE = "f32"
"""How vectors are kept in the index."""
FORMAT = 1
_BATCH = 256
_PART = 1000

Embed = Callable[[Sequence[str]], "NDArray[np.float32]"]
"""texts -> L2-normalised vectors, one row each."""


def _index_class() -> Any:
    """Usearch's ``Index``, imported after onnxruntime.

    Importing onnxruntime once usearch is loaded crashes the process (a segmentation
    fault, usearch 2.26 with onnxruntime here); the other order is safe, and the
    embedder needs onnxruntime anyway.
    """
    import contextlib

    with contextlib.suppress(ImportError):
        import onnxruntime  # noqa: F401
    from usearch.index import Index

    return Index


def make_index(
    dims: int,
    connectivity: int | None = None,
    expansion_add: int | None = None,
    *,
    dtype: str | None = None,
) -> Any:
    """An empty cosine HNSW index of ``dims`` dimensions (promptdeck's settings by default)."""
    return _index_class()(
        ndim=dims,
        metric="cos",
        dtype=dtype or DTYPE,
        multi=False,
        connectivity=connectivity or CONNECTIVITY,
        expansion_add=expansion_add or EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


def _relinked(old: Any, dims: int) -> Any:
    """The vectors of ``old`` in an index with the current settings, without re-embedding."""
    import numpy as np

    fresh = make_index(dims)
    if len(old):
        keys = np.asarray(old.keys, dtype=np.uint64)
        fresh.add(keys, np.asarray(old.get(keys), dtype=np.float32))
    return fresh


def trace_text(messages: Any, answer: str | None) -> str:
    """What a trace's vector embeds: its last messages (system prompt left out) and answer."""
    parts: list[str] = []
    if isinstance(messages, list):
        said = [m for m in messages if isinstance(m, dict) and m.get("role") != "system"]
        parts = [str(m.get("content", "")) for m in said[-3:]]
    prompt = "\n".join(p for p in parts if p)[-_PART:]
    return (prompt + "\n" + (answer or "")[:_PART]).strip()


@dataclass(frozen=True)
class SimilarTrace:
    """A trace near the one asked about, with its cosine similarity."""

    trace: Trace
    similarity: float


class TraceIndex:
    """The similar-traces index of one workspace.

    Args:
        folder: Where its files live (the workspace's ``.promptdeck/``).
        embed: The embedder (texts -> normalised vectors).
        dims: The embedder's vector length.
        model: The embedder's name (an index made by another is rebuilt).
    """

    def __init__(self, folder: Path, embed: Embed, dims: int, model: str) -> None:
        self.path = folder / "similar-traces.usearch"
        self.meta_path = folder / "similar-traces.json"
        self.embed = embed
        self.dims = dims
        self.model = model
        self._index: Any = None
        self._changed = False
        self.watermark = 0

    def _load(self) -> None:
        """Open the stored index, or start afresh when it is missing or damaged."""
        index_class = _index_class()
        self._index, self.watermark = make_index(self.dims), 0
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or meta.get("model") != self.model:
                return
            if int(meta.get("dims", 0)) != self.dims:
                return
            index = index_class.restore(str(self.path))
            if index is None or index.ndim != self.dims or len(index) != int(meta["count"]):
                return
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            return
        if index.connectivity != CONNECTIVITY:  # made with other settings: link again
            index, self._changed = _relinked(index, self.dims), True
        index.expansion_add = EXPANSION_ADD
        index.expansion_search = EXPANSION_SEARCH
        self._index, self.watermark = index, int(meta["watermark"])

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".usearch.partial")
        self._index.save(str(partial))
        partial.replace(self.path)
        meta = {
            "format": FORMAT,
            "model": self.model,
            "dims": self.dims,
            "count": len(self._index),
            "watermark": self.watermark,
        }
        partial_meta = self.meta_path.with_suffix(".json.partial")
        partial_meta.write_text(json.dumps(meta), encoding="utf-8")
        partial_meta.replace(self.meta_path)

    def update(self, session: Session) -> int:
        """Embed and add the traces stored since the watermark; return how many were added."""
        import numpy as np

        if self._index is None:
            self._load()
        added = 0
        while True:
            rows = session.execute(
                text(
                    "SELECT t.id, c.request, c.text FROM trace AS t "
                    "LEFT JOIN completion AS c ON c.id = t.completion_id "
                    "WHERE t.id > :after ORDER BY t.id LIMIT :n"
                ),
                {"after": self.watermark, "n": _BATCH},
            ).all()
            if not rows:
                break
            keys: list[int] = []
            texts: list[str] = []
            for trace_id, request, answer in rows:
                try:
                    messages = json.loads(str(request)).get("messages") if request else None
                except (ValueError, AttributeError):
                    messages = None
                body = trace_text(messages, str(answer) if answer is not None else None)
                if body:
                    keys.append(int(str(trace_id)))
                    texts.append(body)
            if keys:
                vectors = np.asarray(self.embed(texts), dtype=np.float32)
                fresh = [i for i, key in enumerate(keys) if not self._index.contains(key)]
                if fresh:
                    self._index.add(np.asarray([keys[i] for i in fresh]), vectors[fresh])
                    added += len(fresh)
            self.watermark = int(str(rows[-1][0]))
        if added or self._changed or not self.meta_path.exists():
            self._save()
            self._changed = False
        return added

    def similar(self, session: Session, trace_id: str, k: int = 20) -> list[SimilarTrace]:
        """The ``k`` traces nearest to ``trace_id`` by prompt and answer, nearest first.

        Raises:
            NotFoundError: No such trace.
            UsageError: The trace has no prompt or answer to compare.
        """
        import numpy as np

        detail = find_trace(session, trace_id)
        if detail is None:
            raise NotFoundError(f"no trace {trace_id!r}", "see `promptdeck --headless traces list`")
        self.update(session)
        key = detail.trace.id
        if key is None or not self._index.contains(key):
            raise UsageError(
                f"trace {detail.trace.uid[:12]} has no prompt or answer to compare",
                "pick a trace of a model call",
            )
        vector = np.asarray(self._index.get(key), dtype=np.float32).reshape(-1)
        found = self._index.search(vector, k + 1)
        pairs = [
            (int(found_key), 1.0 - float(distance))
            for found_key, distance in zip(found.keys, found.distances, strict=True)
            if int(found_key) != key
        ][:k]
        rows = {t.id: t for t in _traces(session, [p[0] for p in pairs])}
        return [SimilarTrace(rows[i], score) for i, score in pairs if i in rows]


def _traces(session: Session, ids: list[int]) -> list[Trace]:
    from sqlmodel import col, select

    if not ids:
        return []
    return list(session.exec(select(Trace).where(col(Trace.id).in_(ids))))
