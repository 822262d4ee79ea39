"""Token log-probabilities of an answer: what ``perplexity`` and ``perplexity-score`` grade.

A call asks for them only when an assertion needs them: the call's parameters hold
``logprobs: true`` (so the request, and its cache key, differ from the same call
without). A provider that gives them fills :attr:`Completion.logprobs
<promptdeck.core.providers.base.Completion.logprobs>` with a :class:`Logprobs`:
the number of answer tokens and the sum of their natural-log probabilities, all
both metrics need (``perplexity = exp(-sum / count)``).

They are read from OpenAI's ``choices[0].logprobs.content[].logprob`` (whole or
streamed, from the fast path and litellm alike) and, for local models, from
llama.cpp's logits as each token is sampled (:mod:`promptdeck.core.providers.local`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, final

__all__ = ["FLOOR", "LogprobSum", "Logprobs", "openai_token_logprobs", "wants_logprobs"]

FLOOR = -9999.0
"""The lowest log-probability kept: OpenAI's own stand-in for minus infinity."""


def wants_logprobs(params: Mapping[str, Any]) -> bool:
    """True when a call's parameters ask for token logprobs."""
    return params.get("logprobs") is True


@final
@dataclass(frozen=True, slots=True)
class Logprobs:
    """The token log-probabilities of one answer, as a count and a sum.

    Attributes:
        count: Answer tokens with a log-probability.
        total: The sum of their natural-log probabilities (at most 0).
    """

    count: int
    total: float

    @property
    def mean(self) -> float:
        """The mean log-probability per token (0 for no tokens)."""
        return self.total / self.count if self.count else 0.0

    @property
    def perplexity(self) -> float:
        """``exp(-mean logprob)``: 1 when every token was certain, higher when less so."""
        return math.exp(min(-self.mean, 700.0))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (what a completion row and the cache keep)."""
        return {"tokens": self.count, "sum": self.total}

    @classmethod
    def from_json(cls, data: Any) -> Logprobs | None:
        """Read :meth:`to_json`'s mapping (None for anything else, ``{}`` included)."""
        if not isinstance(data, Mapping):
            return None
        count, total = data.get("tokens"), data.get("sum")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            return None
        if isinstance(total, bool) or not isinstance(total, int | float):
            return None
        if not math.isfinite(total):
            return None
        return cls(count, float(total))


class LogprobSum:
    """Adds up token log-probabilities as they come (a stream's chunks, sampled tokens)."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.seen = False
        self.broken = False

    def add(self, values: Iterable[Any] | None) -> None:
        """Add some tokens' log-probabilities (None: this piece carried none)."""
        if values is None:
            return
        self.seen = True
        for value in values:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                self.broken = True
                continue
            number = float(value)
            if math.isnan(number):
                self.broken = True
                continue
            self.count += 1
            self.total += max(FLOOR, min(0.0, number))

    def result(self) -> Logprobs | None:
        """The answer's logprobs, or None when none came (or one was not a number)."""
        if not self.seen or self.broken:
            return None
        return Logprobs(self.count, self.total)


def _field(item: Any, name: str) -> Any:
    """A field of a mapping or an object (litellm gives objects, the fast path dicts)."""
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def openai_token_logprobs(choice: Any) -> list[float] | None:
    """The token log-probabilities of an OpenAI choice (or a stream chunk's choice).

    Args:
        choice: ``choices[i]`` of a response or of a stream chunk, as a mapping or an
            object with the same fields.

    Returns:
        ``logprobs.content[].logprob`` in order; None when the choice carries no
        ``logprobs.content`` list (the provider gave none).
    """
    logprobs = _field(choice, "logprobs")
    if logprobs is None:
        return None
    content = _field(logprobs, "content")
    if not isinstance(content, list | tuple):
        return None
    values: list[float] = []
    for token in content:
        value = _field(token, "logprob")
        real = isinstance(value, numbers.Real) and not isinstance(value, bool)
        values.append(float(value) if real else math.nan)
    return values
