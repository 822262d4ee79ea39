"""Checks of answers (``pii-leak``, ``format``, ``refusal``, ``grounding``); ``context-size``.

- ``pii-leak``: personal data in the answer that the input (``context.input_text``)
  did not contain, compared by type and value whatever the formatting.
- ``format``: the answer must match ``context.pattern`` (a regular expression, the
  whole answer), or be JSON (``context.expect_json``, the default) and match
  ``context.json_schema`` when one is given (:mod:`.json_schema`).
- ``refusal``: the model declined ("I'm sorry, but I can't help with that").
- ``grounding``: a cheap lexical check: the share of the answer's content words and
  numbers that appear nowhere in ``context.reference`` (after light stemming). Flagged
  at 0.4 by default. A model-graded check (deepeval's faithfulness) is the thorough one.
- ``context-size``: the text's tokens against ``context.context_window``. Tokens are
  counted with the bundled MiniLM WordPiece tokenizer, an approximation of the target
  model's own count.
"""

from __future__ import annotations

import json
import re

from promptdeck.core.guardrails.base import ScanContext, Span, Verdict, scanner
from promptdeck.core.guardrails.json_schema import SchemaError, schema_errors
from promptdeck.core.guardrails.normalize import normalize
from promptdeck.core.guardrails.pii import find_pii, same_pii
from promptdeck.errors import ConfigError
from promptdeck.safeload.answers import JSONLimitError, parse_answer_json

__all__ = [
    "GROUNDING_THRESHOLD",
    "scan_context_size",
    "scan_format",
    "scan_grounding",
    "scan_pii_leak",
    "scan_refusal",
]

GROUNDING_THRESHOLD = 0.4
"""Default share of unsupported content words at which ``grounding`` flags an answer."""


@scanner(
    "context-size",
    description="The text's tokens against the model's context window.",
    whole_prompt=True,
)
def scan_context_size(text: str, context: ScanContext) -> Verdict:
    """Flag texts longer than ``context.context_window`` tokens (approximate count)."""
    from promptdeck.core.providers.embeddings import get_embedder

    tokens = get_embedder().count_tokens([text])[0]
    window = context.context_window
    if not window:
        return Verdict("context-size", False, 0.0, (), f"about {tokens} tokens; no window given")
    flagged = tokens > window
    reason = f"about {tokens} tokens for a window of {window}"
    return Verdict(
        "context-size",
        flagged,
        min(1.0, tokens / window),
        (),
        reason + (" (over)" if flagged else ""),
    )


@scanner(
    "pii-leak",
    sides=("output",),
    description="Personal data in the answer that was not in the input.",
)
def scan_pii_leak(text: str, context: ScanContext) -> Verdict:
    """Flag personal data in an answer that the input (``context.input_text``) did not hold."""
    given = find_pii(context.input_text or "")
    leaked = tuple(s for s in find_pii(text) if not any(same_pii(s, g) for g in given))
    if not leaked:
        return Verdict("pii-leak", False, 0.0, (), "no personal data beyond the input's")
    kinds = ", ".join(dict.fromkeys(s.type for s in leaked))
    return Verdict(
        "pii-leak", True, 1.0, leaked, f"the answer adds {len(leaked)} finding(s): {kinds}"
    )


@scanner(
    "format",
    sides=("output",),
    description="The answer must be JSON, match a JSON Schema, or match a regular expression.",
)
def scan_format(text: str, context: ScanContext) -> Verdict:
    """Check the answer's format (see the module docstring).

    Raises:
        ConfigError: When the pattern or the schema is invalid.
    """
    if context.pattern is not None:
        try:
            pattern = re.compile(context.pattern, re.DOTALL)
        except re.error as exc:
            raise ConfigError(
                f"format scanner: invalid pattern {context.pattern!r}: {exc}",
                "fix the regular expression in the guardrail's `pattern`",
            ) from exc
        if pattern.fullmatch(text.strip()):
            return Verdict("format", False, 0.0, (), "the answer matches the pattern")
        return Verdict("format", True, 1.0, (), f"the answer does not match {context.pattern!r}")
    if context.json_schema is None and not context.expect_json:
        return Verdict("format", False, 0.0, (), "no format required")
    stripped = text.strip()
    offset = len(text) - len(text.lstrip())
    try:
        value = parse_answer_json(stripped)
    except JSONLimitError as exc:
        return Verdict("format", True, 1.0, (), f"not accepted as JSON: {exc}")
    except json.JSONDecodeError as exc:
        at = offset + exc.pos
        span = Span(at, min(at + 1, len(text)), "JSON_ERROR", text[at : at + 1])
        fenced = " (it is wrapped in a code fence)" if stripped.startswith("```") else ""
        reason = f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{fenced}"
        return Verdict("format", True, 1.0, (span,), reason)
    if context.json_schema is None:
        return Verdict("format", False, 0.0, (), "valid JSON")
    try:
        errors = schema_errors(value, context.json_schema)
    except SchemaError as exc:
        raise ConfigError(
            f"format scanner: invalid JSON Schema: {exc}", "fix the guardrail's `schema`"
        ) from exc
    if not errors:
        return Verdict("format", False, 0.0, (), "valid JSON matching the schema")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return Verdict("format", True, 1.0, (), "; ".join(errors[:3]) + more)


_REFUSAL = re.compile(
    r"\b(?:"
    r"(?:i'?m|i\s+am)\s+(?:really\s+|very\s+)?sorry,?\s+(?:but\s+)?(?:i|we)\s+(?:can(?:no|')t|"
    r"cannot|won'?t|will\s+not|am\s+(?:not\s+able|unable)|'m\s+(?:not\s+able|unable))|"
    r"i\s+(?:can(?:no|')t|cannot|won'?t|will\s+not|am\s+unable\s+to|'m\s+unable\s+to|"
    r"am\s+not\s+able\s+to|'m\s+not\s+able\s+to|must\s+decline\s+to|have\s+to\s+decline\s+to)\s+"
    r"(?:help|assist|provide|comply|fulfil+|do\s+that|answer|support|create|generate|write|"
    r"share|engage|participate|give|offer)|"
    r"i\s+(?:must|have\s+to|need\s+to)\s+(?:respectfully\s+)?decline|"
    r"as\s+an\s+ai(?:\s+(?:language\s+)?model)?,?\s+i\s+(?:can(?:no|')t|cannot|am\s+not|don'?t|"
    r"do\s+not|won'?t)|"
    r"(?:it|this)\s+(?:would\s+be|is)\s+(?:inappropriate|unethical|irresponsible)\s+(?:for\s+me\s+)?to|"
    r"(?:against|violates?)\s+my\s+(?:guidelines|programming|policies|principles|ethical)|"
    r"i'?m\s+not\s+(?:comfortable|going\s+to)\s+(?:help|provid|assist|writ|creat|do)"
    r")",
    re.IGNORECASE,
)


@scanner("refusal", sides=("output",), description="The model refused to answer.")
def scan_refusal(text: str, context: ScanContext) -> Verdict:
    """Flag answers in which the model declines (score 1 near the start, 0.7 later)."""
    norm = normalize(text.replace("’", "'"))
    match = _REFUSAL.search(norm.text)
    if match is None:
        return Verdict("refusal", False, 0.0, (), "no refusal found")
    start, end = norm.to_original(match.start(), match.end())
    score = 1.0 if match.start() < 200 else 0.7
    where = "opens with" if match.start() < 200 else "contains"
    span = Span(start, end, "REFUSAL", text[start:end])
    return Verdict("refusal", True, score, (span,), f"the answer {where} a refusal")


_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "either",
        "else",
        "etc",
        "even",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "like",
        "may",
        "me",
        "might",
        "more",
        "most",
        "much",
        "must",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "often",
        "on",
        "once",
        "one",
        "only",
        "or",
        "other",
        "others",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "per",
        "please",
        "rather",
        "same",
        "shall",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "though",
        "through",
        "thus",
        "to",
        "too",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "very",
        "via",
        "was",
        "we",
        "well",
        "were",
        "what",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yes",
        "yet",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "answer",
        "question",
        "based",
        "according",
        "context",
        "text",
        "given",
        "information",
        "provided",
        "mentioned",
        "states",
        "stated",
        "say",
        "says",
        "said",
    ]
)
_TOKEN = re.compile(r"[^\W_]+(?:[.,'][^\W_]+)*")


def _stem(word: str) -> str:
    for suffix in ("ingly", "edly", "ing", "ies", "ied", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _content(text: str) -> list[tuple[int, int, str]]:
    """Content words and numbers of a text: (start, end, stem)."""
    out = []
    for match in _TOKEN.finditer(text):
        word = match.group().lower()
        if word in _STOPWORDS or (len(word) < 3 and not word.isdigit()):
            continue
        key = word.replace(",", "") if re.fullmatch(r"[\d.,]+", word) else _stem(word)
        out.append((match.start(), match.end(), key))
    return out


@scanner(
    "grounding",
    sides=("output",),
    description="Answer words and numbers that the given context does not contain.",
)
def scan_grounding(text: str, context: ScanContext) -> Verdict:
    """Flag answers whose content words are mostly absent from ``context.reference``."""
    if not context.reference:
        return Verdict("grounding", False, 0.0, (), "no reference context given")
    known = {key for _, _, key in _content(context.reference)}
    words = _content(text)
    if not words:
        return Verdict("grounding", False, 0.0, (), "the answer has no content words")
    missing = [(s, e) for s, e, key in words if key not in known]
    score = len(missing) / len(words)
    threshold = context.threshold("grounding", GROUNDING_THRESHOLD)
    spans = tuple(Span(s, e, "UNSUPPORTED", text[s:e]) for s, e in missing)
    flagged = score >= threshold
    reason = (
        f"{len(missing)} of {len(words)} content words are not in the context "
        f"({'at or above' if flagged else 'below'} threshold {threshold:.2f})"
    )
    return Verdict("grounding", flagged, score, spans, reason)
