"""SQLModel tables of the semantic cache (created by migration ``m004_semantic_cache``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field

from promptdeck.store.tables import TableModel
from promptdeck.store.types import UTCDateTime
from promptdeck.timeutil import utcnow

__all__ = ["SemanticShadow", "SemanticVector"]


class SemanticVector(TableModel, table=True):
    """The sentence vector of one semantic cache entry (float32, unit norm)."""

    __tablename__ = "semantic_vector"
    id: int | None = Field(default=None, primary_key=True)
    cache_entry_id: int = Field(foreign_key="cache_entry.id", unique=True)
    scope: str
    vector: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SemanticShadow(TableModel, table=True):
    """What the semantic cache would have served, beside the fresh answer."""

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
    would_serve: bool
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
