"""The shapes of a suite file and of its cases (what ``suites/*.suite.yaml`` holds).

:mod:`promptdeck.core.evals.suites` loads them (and re-exports them);
:mod:`promptdeck.core.evals.case_stream` reads a suite's cases from their files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

__all__ = [
    "RESERVED_CASE_KEYS",
    "AssertionSpec",
    "Case",
    "CaseSpec",
    "SuiteDefaults",
    "SuiteFile",
]

RESERVED_CASE_KEYS = ("expected", "context", "description", "tags", "assert")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AssertionSpec(_Strict):
    """One assertion: its type (``not-`` negates), value, threshold, weight and metric name.

    An ``assert-set`` holds its member assertions in ``assert`` (``asserts``) instead
    of a value.
    """

    type: str = Field(min_length=1)
    value: Any = None
    threshold: float | None = None
    weight: float = Field(default=1.0, ge=0)
    metric: str | None = None
    asserts: list[AssertionSpec] | None = Field(default=None, alias="assert")

    @model_serializer(mode="wrap")
    def _members_when_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out unless set, so the keys of cases and grades stay what they were.
        data: dict[str, Any] = handler(self)
        if self.asserts is None:
            data.pop("assert", None)
            data.pop("asserts", None)
        return data

    @property
    def negated(self) -> bool:
        """True for ``not-<type>``."""
        return self.type.startswith("not-")

    @property
    def base_type(self) -> str:
        """The type without its ``not-`` prefix."""
        return self.type.removeprefix("not-")


class CaseSpec(_Strict):
    """An inline case, or ``dataset: <path>`` whose rows become cases."""

    description: str | None = None
    vars: dict[str, Any] = Field(default_factory=dict)
    expected: Any = None
    context: str | list[str] | None = None
    asserts: list[AssertionSpec] = Field(default_factory=list, alias="assert")
    tags: list[str] = Field(default_factory=list)
    dataset: str | None = None

    @model_validator(mode="after")
    def _dataset_alone(self) -> CaseSpec:
        if self.dataset is not None and (self.vars or self.expected is not None or self.context):
            raise ValueError("a `dataset:` entry takes its vars from the file; remove vars here")
        return self


class SuiteDefaults(_Strict):
    """Vars and assertions added to every case."""

    vars: dict[str, Any] = Field(default_factory=dict)
    asserts: list[AssertionSpec] = Field(default_factory=list, alias="assert")


class SuiteFile(_Strict):
    """The content of a suite file.

    ``cache: semantic`` lets the semantic cache answer the suite's cells (when
    ``[cache] semantic`` is on); by default only identical requests are served
    from the cache, so a run grades answers to its own questions.
    """

    description: str = ""
    prompts: list[str] = Field(min_length=1)
    models: list[str] = Field(default_factory=list)
    cases: list[CaseSpec] = Field(min_length=1)
    defaults: SuiteDefaults = Field(default_factory=SuiteDefaults)
    repeat: int = Field(default=1, ge=1, le=100)
    concurrency: int | None = Field(default=None, ge=1, le=256)
    threshold: float = Field(default=1.0, ge=0, le=1)
    timeout: float | None = Field(default=None, gt=0)
    judge: str | None = None
    cache: Literal["exact", "semantic"] = "exact"

    @field_validator("prompts", "models", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True)
class Case:
    """One case, with the suite's defaults merged in.

    Attributes:
        key: A stable identity (its file and content), unique within the suite: for
            resumes, kept grades and comparisons between runs.
        index: Position in the suite.
        source: Where it is defined (``file:line``).
        vars: Variables (defaults, then the case's own).
        expected: The expected answer, if any.
        context: Context passages (for grounding metrics), if any.
        asserts: The suite's default assertions, then the case's own.
        description: A short description.
        tags: Tags.
    """

    key: str
    index: int
    source: str
    vars: dict[str, Any]
    expected: Any = None
    context: list[str] | None = None
    asserts: list[AssertionSpec] = field(default_factory=list)
    description: str | None = None
    tags: list[str] = field(default_factory=list)
