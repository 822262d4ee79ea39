"""What a gateway call is asked to do, and what it gives back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from promptdeck.core.guardrails.policy import GuardrailsLike, Policy
    from promptdeck.core.providers.base import Completion

__all__ = ["CacheMode", "CallResult", "CallSpec"]

CacheMode = Literal["read", "write", "off"]
"""``read``: serve from and write to the cache; ``write``: only write; ``off``: neither."""


@dataclass(frozen=True)
class CallSpec:
    """One call to make.

    Attributes:
        model: An alias or model string.
        messages: Chat messages.
        params: The prompt's call parameters (under the alias's; see
            :func:`~promptdeck.core.providers.params.effective_params`).
        overrides: The call's own parameters, over every other level (``--param``,
            a compare column, a judge's own).
        response_format: A JSON schema the answer must follow.
        repeat: The repeat index (each index is an independent sample).
        cache: The cache mode of this call.
        semantic: Whether the semantic cache may serve (and learn from) this call, when
            ``[cache] semantic`` or ``shadow`` is on. Eval runs set it from their
            suite's ``cache:``; judges never take near answers.
        prompt_name: The prompt rendered, if any.
        prompt_version: Its version number.
        prompt_version_id: Its version's database id.
        name: The trace's name.
        kind: The trace's kind (``run``, ``eval``, ``judge``…).
        run_id: The run this call belongs to.
        render_ms: Time spent rendering, recorded as the ``render`` span.
        variables: The variables rendered with (recorded on the render span).
        guardrails: The prompt's ``guardrails:`` block (or a :class:`Policy`); None: the
            ``[guardrails]`` defaults of the workspace for prompt calls, nothing otherwise.
        column_override: A compare column's own parameters and system prompt, recorded
            with the request (see :mod:`promptdeck.core.compare.overrides`).
    """

    model: str
    messages: Sequence[Mapping[str, str]]
    params: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    response_format: Mapping[str, Any] | None = None
    repeat: int = 0
    cache: CacheMode = "read"
    semantic: bool = True
    prompt_name: str | None = None
    prompt_version: int | None = None
    prompt_version_id: int | None = None
    name: str = "chat"
    kind: str = "call"
    run_id: int | None = None
    render_ms: float | None = None
    variables: Mapping[str, Any] | None = None
    guardrails: Policy | GuardrailsLike | None = None
    column_override: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CallResult:
    """The outcome of one gateway call.

    Attributes:
        completion: The answer (or the error value).
        trace_id: The trace's id (``promptdeck traces show <id>``).
        cache: ``exact`` or ``semantic`` when served from a cache, ``miss``, or ``off``.
        warnings: Budget alerts and switches, for the user.
        shadow_similarity: In shadow mode, how similar the nearest cached request was.
        similarity: For a semantic hit, how similar the request it answered was (the
            lowest over the compared texts; 1.0 for the same canonical texts).
    """

    completion: Completion
    trace_id: str
    cache: str
    warnings: tuple[str, ...] = ()
    shadow_similarity: float | None = None
    similarity: float | None = None

    @property
    def cache_label(self) -> str:
        """The cache state for people: ``semantic 0.973`` for a semantic hit, else :attr:`cache`."""
        if self.cache == "semantic" and self.similarity is not None:
            return f"semantic {self.similarity:.3f}"
        return self.cache
