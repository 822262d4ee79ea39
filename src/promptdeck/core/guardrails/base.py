"""Verdicts, the scan context, and the registry every scanner joins with one decorator.

A scanner is a function ``(text, context) -> Verdict`` registered with
:func:`scanner`::

    @scanner("refusal", sides=("output",), description="The model refused to answer.")
    def scan_refusal(text: str, context: ScanContext) -> Verdict: ...

:func:`scan_texts` runs several scanners over many texts and embeds them all in one
batch first when a scanner needs sentence vectors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from promptdeck.core.guardrails.chunks import CHUNK_CHARS, scan_chunked
from promptdeck.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "ScanContext",
    "ScanFunction",
    "ScannerSpec",
    "Side",
    "Span",
    "Verdict",
    "get_scanner",
    "resolve_scanners",
    "scan_texts",
    "scanner",
    "scanner_names",
    "scanners",
]

Side = Literal["input", "output"]


@dataclass(frozen=True)
class Span:
    """One finding inside a text.

    Attributes:
        start: Offset of its first character in the scanned text.
        end: Offset just past its last character.
        type: What was found (``EMAIL_ADDRESS``, ``OPENAI_API_KEY``, ``IGNORE_INSTRUCTIONS``...).
        text: The characters found (``scanned[start:end]``).
    """

    start: int
    end: int
    type: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        """Return the span as a JSON-ready mapping."""
        return {"start": self.start, "end": self.end, "type": self.type, "text": self.text}


@dataclass(frozen=True)
class Verdict:
    """What one scanner concluded about one text.

    Attributes:
        scanner: The scanner's name.
        flagged: True when the text violates what the scanner checks.
        score: How strongly, from 0 (clean) to 1 (certain violation).
        spans: The findings, in text order.
        reason: One line a user can read.
    """

    scanner: str
    flagged: bool
    score: float
    spans: tuple[Span, ...] = ()
    reason: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            object.__setattr__(self, "score", min(1.0, max(0.0, float(self.score))))

    def to_dict(self) -> dict[str, Any]:
        """Return the verdict as a JSON-ready mapping."""
        return {
            "flagged": self.flagged,
            "score": round(self.score, 4),
            "spans": [s.to_dict() for s in self.spans],
            "reason": self.reason,
        }


@dataclass(frozen=True, eq=False)
class ScanContext:
    """What a scanner may need besides the text itself.

    Attributes:
        input_text: The input the answer was produced from (``pii-leak``).
        reference: The documents the answer must be grounded in (``grounding``).
        json_schema: A JSON Schema the answer must match (``format``).
        pattern: A regular expression the whole answer must match (``format``).
        expect_json: For ``format`` with neither schema nor pattern: require JSON.
        context_window: The model's context window in tokens (``context-size``).
        thresholds: Per-scanner score thresholds overriding the defaults.
        embedding: The text's sentence vector when already computed (set by
            :func:`scan_texts`; scanners that need one compute it otherwise).
        part: Which chunk of a long text is scanned (:mod:`.chunks`): the classifiers'
            heads read a text's opening, so only part 0 is classified; the later parts
            go through the rules alone.
    """

    input_text: str | None = None
    reference: str | None = None
    json_schema: Mapping[str, Any] | None = None
    pattern: str | None = None
    expect_json: bool = True
    context_window: int | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)
    embedding: NDArray[np.float32] | None = None
    part: int = 0

    def threshold(self, scanner: str, default: float) -> float:
        """Return the threshold to apply for ``scanner``."""
        return float(self.thresholds.get(scanner, default))


ScanFunction = Callable[[str, ScanContext], Verdict]


@dataclass(frozen=True)
class ScannerSpec:
    """A registered scanner.

    Attributes:
        name: The name rules and commands use (``pii``, ``injection``...).
        func: The function doing the work.
        sides: Where it applies: the input, the output, or both.
        description: One line for listings.
        uses_embedding: True when it reads the text's sentence vector.
        default: True when ``guard`` runs it without being asked.
        whole_prompt: On a prompt call's input, True when it reads the whole rendered
            prompt (``context-size``) rather than the untrusted variable values.
        chunked: True when a long text is scanned in bounded chunks (:mod:`.chunks`).
    """

    name: str
    func: ScanFunction
    sides: tuple[Side, ...]
    description: str
    uses_embedding: bool = False
    default: bool = False
    whole_prompt: bool = False
    chunked: bool = False

    def scan(self, text: str, context: ScanContext | None = None) -> Verdict:
        """Scan one text (a long one in bounded chunks, when the scanner allows).

        Args:
            text: The text.
            context: What else the scanner may need.

        Returns:
            The verdict.
        """
        if self.chunked and len(text) > CHUNK_CHARS:
            return scan_chunked([self], text, context or ScanContext())[self.name]
        return self.func(text, context or ScanContext())


_REGISTRY: dict[str, ScannerSpec] = {}


def scanner(
    name: str,
    *,
    sides: Sequence[Side] = ("input",),
    description: str,
    uses_embedding: bool = False,
    default: bool = False,
    whole_prompt: bool = False,
    chunked: bool = False,
) -> Callable[[ScanFunction], ScanFunction]:
    """Register a scanning function under ``name`` (a decorator).

    Args:
        name: The scanner's name.
        sides: Where it applies.
        description: One line for listings.
        uses_embedding: True when it reads ``context.embedding``.
        default: True when ``guard`` runs it without being asked.
        whole_prompt: True when, on a prompt call's input, it must read the whole
            rendered prompt rather than the variable values.
        chunked: True when its findings are local, so a long text may be scanned in
            bounded, overlapping chunks (:mod:`.chunks`).

    Returns:
        The decorator; it returns the function unchanged.
    """

    def register(func: ScanFunction) -> ScanFunction:
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"a guardrail scanner named {name!r} is already registered")
        _REGISTRY[name] = ScannerSpec(
            name, func, tuple(sides), description, uses_embedding, default, whole_prompt, chunked
        )
        return func

    return register


_BUILTIN_ORDER = (
    "pii",
    "secrets",
    "injection",
    "jailbreak",
    "toxicity",
    "context-size",
    "pii-leak",
    "format",
    "refusal",
    "grounding",
)


def _load_builtin() -> None:
    # Importing the modules registers their scanners (all of them are light to import),
    # in this order: the order `guard` lists them in.
    import importlib

    for module in ("pii", "secrets", "classifiers", "output"):
        importlib.import_module(f"promptdeck.core.guardrails.{module}")


def scanners() -> dict[str, ScannerSpec]:
    """Return every registered scanner by name: input-side ones first, then output-only ones."""
    _load_builtin()
    # Built-in scanners in a fixed order (whatever module was imported first), then
    # any registered later, in registration order.
    rank = {name: i for i, name in enumerate(_BUILTIN_ORDER)}
    ordered = sorted(
        enumerate(_REGISTRY.values()),
        key=lambda item: (
            "input" not in item[1].sides,
            rank.get(item[1].name, len(rank) + item[0]),
        ),
    )
    return {spec.name: spec for _, spec in ordered}


def scanner_names() -> list[str]:
    """Return the names of every registered scanner."""
    return list(scanners())


def get_scanner(name: str) -> ScannerSpec:
    """Return the scanner called ``name``.

    Raises:
        UsageError: When no scanner has that name.
    """
    known = scanners()
    if name not in known:
        raise UsageError(f"unknown guardrail scanner {name!r}", f"use one of: {', '.join(known)}")
    return known[name]


def resolve_scanners(names: Iterable[str] | None) -> list[ScannerSpec]:
    """Return the scanners named (default: those run without being asked).

    Raises:
        UsageError: When a name is unknown.
    """
    if names is None:
        return [s for s in scanners().values() if s.default]
    return [get_scanner(n) for n in dict.fromkeys(names)]


def scan_texts(
    texts: Sequence[str],
    names: Iterable[str] | None = None,
    context: ScanContext | Sequence[ScanContext] | None = None,
) -> list[dict[str, Verdict]]:
    """Run scanners over texts, embedding all texts in one batch when needed.

    Args:
        texts: The texts.
        names: The scanners to run (default: those run without being asked).
        context: One context for all texts, or one per text.

    Returns:
        For each text, its verdicts by scanner name, in the order the scanners were given.

    Raises:
        UsageError: When a scanner name is unknown.
        RuntimeFailureError: When the embedding model cannot be loaded.
    """
    specs = resolve_scanners(names)
    if context is None or isinstance(context, ScanContext):
        contexts: Sequence[ScanContext] = [context or ScanContext()] * len(texts)
    else:
        contexts = context
        if len(contexts) != len(texts):
            raise ValueError("give one context per text")
    if any(s.uses_embedding for s in specs):
        from promptdeck.core.guardrails.classifier_model import embed_for_classifiers

        missing = [
            i
            for i, c in enumerate(contexts)
            if c.embedding is None and len(texts[i]) <= CHUNK_CHARS
        ]
        if missing:
            vectors = embed_for_classifiers([texts[i] for i in missing])
            contexts = list(contexts)
            for row, i in enumerate(missing):
                contexts[i] = dataclasses.replace(contexts[i], embedding=vectors[row])
    return [_scan_one(specs, text, ctx) for text, ctx in zip(texts, contexts, strict=True)]


def _scan_one(specs: Sequence[ScannerSpec], text: str, context: ScanContext) -> dict[str, Verdict]:
    """One text's verdicts; a long one goes through the chunked scanners chunk by chunk."""
    chunked = [s for s in specs if s.chunked] if len(text) > CHUNK_CHARS else []
    if not chunked:
        return {spec.name: spec.scan(text, context) for spec in specs}
    verdicts = scan_chunked(chunked, text, context)
    return {s.name: verdicts[s.name] if s.chunked else s.scan(text, context) for s in specs}
