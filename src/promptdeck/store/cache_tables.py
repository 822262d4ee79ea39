"""SQLModel tables of the semantic cache (migrations ``m004_semantic_cache``, ``m008_…``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field

from promptdeck.store.tables import TableModel
from promptdeck.store.types import IntBool, UTCDateTime
from promptdeck.timeutil import utcnow

__all__ = ["SemanticShadow", "SemanticVector"]


class SemanticVector(TableModel, table=True):
    """The sentence vectors of one semantic cache entry (float32, unit norm, one per text).

    ``canon`` holds the canonical texts they embed, as a JSON list (their match keys
    are derived from it when the scope is loaded).
    """

    __tablename__ = "semantic_vector"
    id: int | None = Field(default=None, primary_key=True)
    cache_entry_id: int = Field(foreign_key="cache_entry.id", unique=True)
    scope: str
    vector: bytes = Field(sa_type=LargeBinary)
    canon: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SemanticShadow(TableModel, table=True):
    """What the semantic cache would have served, beside the fresh answer.

    ``guarded``: the candidate had the request's match keys (so it would be served
    at any threshold up to ``similarity``); otherwise it is the nearest entry, which
    the guard refuses whatever the threshold.
    """

    __tablename__ = "semantic_shadow"
    id: int | None = Field(default=None, primary_key=True)
    trace_uid: str
    model: str
    prompt_name: str | None = None
    scope: str
    candidate_completion_id: int | None = Field(default=None, foreign_key="completion.id")
    fresh_completion_id: int | None = Field(default=None, foreign_key="completion.id")
    similarity: float
    answer_similarity: float | None = None
    would_serve: bool = Field(sa_type=IntBool)
    guarded: bool | None = Field(default=None, sa_type=IntBool)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
