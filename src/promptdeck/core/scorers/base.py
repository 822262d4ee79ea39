"""The vocabulary of scoring: call metadata, outcomes, scores and the assertion registry.

An assertion type is one function registered with :func:`assertion`. A plain
function is a :class:`Scorer` (``(output, ctx) -> Outcome``); an ``async``
function is a :class:`JudgedScorer` that also receives the judge model. The
registry records, per type, whether it takes a value (and whether the case's
``expected`` stands in for a missing one), its default threshold (``None``: the
type takes no threshold) and an optional check of the value run before any call.

Negation (``not-<type>``), weights and metric names are handled once, in
:mod:`promptdeck.core.scorers.engine`; a scorer only says how well ``output``
meets its assertion.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.providers.logprobs import Logprobs
from promptdeck.secrecy import scrub

__all__ = [
    "REGISTRY",
    "AssertionContext",
    "AssertionType",
    "CallMeta",
    "EmbedderLike",
    "JudgedScorer",
    "Outcome",
    "Score",
    "Scorer",
    "ScoringOptions",
    "Ungradable",
    "ValueMode",
    "as_text",
    "assertion",
]

ValueMode = Literal["none", "required", "expected", "optional"]
"""How a type uses ``value``: never, always, ``value`` or else the case's ``expected``,
or optionally."""


@dataclass(frozen=True)
class CallMeta:
    """What is known about the model call that produced an output.

    Attributes:
        latency_ms: Wall time of the call in milliseconds (``None`` when unknown).
        cost_usd: Cost of the call in US dollars (``None`` when unknown).
        tokens: Total tokens (prompt and completion) of the call, if known.
        input: The prompt text sent to the model (the last user message), for the
            model-graded metrics that judge an answer against its question.
        finish_reason: Why the model stopped (``stop``, ``length``…), when known.
        logprobs: The answer's token logprobs, when the call asked for them and the
            provider gave them (``perplexity``, ``perplexity-score``).
        model: The model that answered (named when it gave no logprobs).
    """

    latency_ms: float | None = None
    cost_usd: float | None = None
    tokens: int | None = None
    input: str | None = None
    finish_reason: str | None = None
    logprobs: Logprobs | None = None
    model: str | None = None


class EmbedderLike(Protocol):
    """Anything that embeds texts as unit-norm rows (``core.providers.embeddings.Embedder``)."""

    def embed(self, texts: Sequence[str]) -> Any:
        """Return an array of shape ``(len(texts), d)`` with unit-norm rows."""


@dataclass(frozen=True)
class ScoringOptions:
    """Workspace settings that some assertion types need.

    Attributes:
        allow_python: Whether ``python`` assertions may run workspace code.
        workspace_root: The workspace folder (``python`` files are resolved in it).
        state_dir: The workspace's state folder (deepeval's cache goes there).
        embedder: The embedder for ``similar`` (default: the process-wide local one).
    """

    allow_python: bool = False
    workspace_root: Path | None = None
    state_dir: Path | None = None
    embedder: EmbedderLike | None = None


class Ungradable(Exception):
    """Raised by a scorer when what it grades is missing (no logprobs from the provider).

    The assertion is then not graded: it fails, negated or not, and its reason is this
    exception's one line (no exception class name in front of it).
    """


@dataclass(frozen=True)
class Outcome:
    """What a scorer returns: a value in [0, 1], pass or fail, and why.

    Attributes:
        value: The score, 0 (worst) to 1 (best).
        passed: Whether the assertion holds.
        reason: One line for a human.
    """

    value: float
    passed: bool
    reason: str

    @classmethod
    def check(cls, ok: bool, reason: str) -> Outcome:
        """Return a binary outcome: value 1 and passed, or value 0 and failed."""
        return cls(1.0 if ok else 0.0, ok, reason)


@dataclass(frozen=True)
class Score:
    """The grade of one assertion on one output.

    Attributes:
        name: The metric name (``spec.metric``, else the assertion type).
        type: The assertion type as written (``not-`` included).
        value: The score in [0, 1] (after negation).
        passed: Whether the assertion holds (after negation).
        reason: Why, for a human.
        weight: The assertion's weight in the case score.
        error: Set when the assertion could not be graded (the judge failed, the
            python function raised); such a score always counts as failed.
    """

    name: str
    type: str
    value: float
    passed: bool
    reason: str
    weight: float = 1.0
    error: str | None = None

    def __post_init__(self) -> None:
        # A reason or error may quote a provider's message or an exception: no key
        # goes on to the database, a report or the screen (promptdeck.secrecy).
        object.__setattr__(self, "reason", scrub(self.reason))
        if self.error:
            object.__setattr__(self, "error", scrub(self.error))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready mapping (``error`` left out when unset)."""
        data: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "value": self.value,
            "passed": self.passed,
            "reason": self.reason,
            "weight": self.weight,
        }
        if self.error is not None:
            data["error"] = self.error
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Score:
        """Rebuild a score from :meth:`to_dict` output."""
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            value=float(data["value"]),
            passed=bool(data["passed"]),
            reason=str(data.get("reason", "")),
            weight=float(data.get("weight", 1.0)),
            error=data.get("error"),
        )


@dataclass(frozen=True)
class AssertionContext:
    """Everything a scorer may look at besides the output.

    Attributes:
        spec: The assertion as written.
        case: The case being graded.
        meta: The call's latency, cost, tokens and input.
        options: Workspace settings.
        value: ``spec.value``, or the case's ``expected`` when the type allows it.
        threshold: ``spec.threshold``, or the type's default.
    """

    spec: AssertionSpec
    case: Case
    meta: CallMeta
    options: ScoringOptions
    value: Any
    threshold: float | None


class Scorer(Protocol):
    """A deterministic or local assertion: grade ``output`` in ``ctx``."""

    def __call__(self, output: str, ctx: AssertionContext) -> Outcome:
        """Return the outcome of the assertion on ``output``."""


class JudgedScorer(Protocol):
    """A model-graded assertion: grade ``output`` with a deepeval judge model."""

    async def __call__(self, output: str, ctx: AssertionContext, judge: Any) -> Outcome:
        """Return the outcome of the assertion on ``output``, asking ``judge``."""


ValueCheck = Callable[[Any], str | None]
"""Returns a problem with a spec's value (``None`` when it is fine)."""


@dataclass(frozen=True)
class AssertionType:
    """A registered assertion type.

    Attributes:
        name: The type name used in suites.
        value: How the type uses ``value`` (see :data:`ValueMode`).
        default_threshold: The threshold used when a spec gives none; ``None`` means
            the type takes no threshold.
        check: Validates a spec's value before a run.
        needs_context: The case must have ``context`` (grounding metrics).
        scorer: The function of a local type.
        judged: The function of a model-graded type.
        summary: One line describing the type.
    """

    name: str
    value: ValueMode
    default_threshold: float | None
    check: ValueCheck | None
    needs_context: bool
    scorer: Scorer | None
    judged: JudgedScorer | None
    summary: str

    @property
    def needs_judge(self) -> bool:
        """True for model-graded types."""
        return self.judged is not None


REGISTRY: dict[str, AssertionType] = {}
"""Every registered assertion type, by name."""

_F = TypeVar("_F", bound=Callable[..., Any])


def assertion(
    name: str,
    *,
    value: ValueMode = "none",
    threshold: float | None = None,
    check: ValueCheck | None = None,
    needs_context: bool = False,
) -> Callable[[_F], _F]:
    """Register a function as the assertion type ``name``.

    A plain function is a :class:`Scorer`; an ``async`` one a :class:`JudgedScorer`.
    The function's docstring's first line becomes the type's summary.

    Args:
        name: The type name (no ``not-`` prefix).
        value: How the type uses ``value``.
        threshold: The default threshold; ``None`` when the type takes none.
        check: Validates a spec's value (returns a problem or ``None``).
        needs_context: The case must have ``context``.

    Returns:
        A decorator that registers the function and returns it unchanged.

    Raises:
        ValueError: When ``name`` is already registered or starts with ``not-``.
    """
    if name.startswith("not-"):
        raise ValueError(f"an assertion type cannot start with 'not-': {name}")

    def register(fn: _F) -> _F:
        if name in REGISTRY:
            raise ValueError(f"assertion type {name!r} is registered twice")
        judged = inspect.iscoroutinefunction(fn)
        doc = (inspect.getdoc(fn) or name).splitlines()[0]
        REGISTRY[name] = AssertionType(
            name=name,
            value=value,
            default_threshold=threshold,
            check=check,
            needs_context=needs_context,
            scorer=None if judged else fn,
            judged=fn if judged else None,
            summary=doc,
        )
        return fn

    return register


def as_text(value: Any) -> str:
    """Return a value as text: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
