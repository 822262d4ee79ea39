"""What :mod:`promptdeck.secrecy` looks for in a text, built once per set of secrets.

A :class:`Plan` holds the literal forms of the secrets (their encodings, their ends)
and the regular expression that removes them; :func:`generic` masks key-like values
after ``Bearer``, ``api_key=``… whatever they are. A plan remembers the texts it found
clean, so a text scrubbed again (an answer is scrubbed where it is made, in each
record built from it, and when stored) costs a dictionary look-up.

A leaf module: it imports nothing of promptdeck's.
"""

from __future__ import annotations

import base64
import html
import json
import re
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "MIN_SECRET_LENGTH", "Plan", "generic"]

MIN_SECRET_LENGTH = 8
"""Shorter values are never scrubbed (they would match ordinary words)."""

MASK = "***"
"""What a secret is replaced with."""


_EDGE = 12
"""Characters from either end of a long key that are enough to scrub a run."""


_VALUE = r"[A-Za-z0-9_\-\.+/=~]{8,}"
_AFTER_WORD: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bearer", re.compile(r"(?i)bearer\s+(" + _VALUE + ")")),
    (
        "authorization",
        re.compile(r"(?i)authorization[\"'=: ]+(?:basic\s+|bearer\s+)?(" + _VALUE + ")"),
    ),
    ("api_key", re.compile(r"(?i)api_key[\"'=: ]+(" + _VALUE + ")")),
    ("api-key", re.compile(r"(?i)api-key[\"'=: ]+(" + _VALUE + ")")),
    ("apikey", re.compile(r"(?i)apikey[\"'=: ]+(" + _VALUE + ")")),
)
"""Words after which a key-like value is masked, known or not (headers, settings)."""
_QUERY = re.compile(
    r"(?i)(?:api[_-]?key|key|token|access_token|secret|sig|signature|password)=([^&\s\"'#]+)"
)
"""A query parameter that carries a key; masked after ``?`` or ``&``."""
_KEY_CHARS = r"[A-Za-z0-9_\-]"


def _base64_forms(secret: bytes) -> set[str]:
    forms: set[str] = set()
    for shift in range(3):
        padded = b"\0" * shift + secret
        whole = (len(padded) // 3) * 4
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            inner = encode(padded).decode("ascii")[(4 if shift else 0) : whole]
            if len(inner) >= MIN_SECRET_LENGTH:
                forms.add(inner)
    return forms


def _forms(secret: str) -> tuple[set[str], set[str]]:
    """(the literal strings to look for, the regular expressions that remove them)."""
    literal = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret, quote=True),
    } | _base64_forms(secret.encode("utf-8"))
    patterns = {re.escape(text) for text in literal}
    if len(secret) >= 2 * _EDGE - 8:
        head, tail = secret[:_EDGE], secret[-_EDGE:]
        literal |= {head, tail}
        patterns |= {re.escape(head) + _KEY_CHARS + "*", _KEY_CHARS + "*" + re.escape(tail)}
    return literal, patterns


class Plan:
    """What :func:`scrub` looks for, built once per set of secrets."""

    def __init__(self, values: frozenset[str]) -> None:
        self.values = values
        needles: set[str] = set()
        patterns: set[str] = set()
        for value in values:
            literal, found = _forms(value)
            needles |= literal
            patterns |= found
        # The shortest needles are enough to know whether the slow pass is needed.
        self.needles = tuple(sorted(needles, key=len))
        ordered = sorted(patterns, key=len, reverse=True)
        self.pattern = re.compile("|".join(ordered)) if ordered else None
        # Texts known to hold nothing to remove under this plan (an answer is scrubbed
        # where it is made, again in each record built from it, again when stored).
        self.clean: dict[str, None] = {}
        self.clean_chars = 0

    def scrub(self, text: str) -> str:
        """``text`` without the plan's secrets and generic key forms."""
        if self.pattern is not None and any(needle in text for needle in self.needles):
            text = self.pattern.sub(MASK, text)
        return generic(text)

    def keep_clean(self, text: str) -> None:
        """Remember that ``text`` has nothing to remove (bounded: at most ``_CLEAN_CHARS``)."""
        size = len(text)
        if size > _CLEAN_CHARS // 64:
            return
        if self.clean_chars + size > _CLEAN_CHARS:
            self.clean = {}
            self.clean_chars = 0
        self.clean[text] = None
        self.clean_chars += size


_CLEAN_CHARS = 1 << 22
"""Characters of clean texts a plan remembers, at most (then it forgets them all)."""


_QUERY_WORDS = ("key=", "token=", "secret=", "sig=", "signature=", "password=")


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [text[last:start], MASK]
        last = end
    return "".join(out) + text[last:]


def generic(text: str) -> str:
    """Mask values after ``Bearer``, ``api_key=``… and in ``?key=`` query parameters."""
    low = text.lower()
    spans: list[tuple[int, int]] = []
    for word, after in _AFTER_WORD:
        at = low.find(word)
        while at >= 0:
            found = after.match(text, at)
            if found is not None and found.group(1) != MASK:
                spans.append(found.span(1))
            at = low.find(word, at + 1)
    if "=" in text and any(word in low for word in _QUERY_WORDS):
        for found in _QUERY.finditer(text):
            if found.start() > 0 and text[found.start() - 1] in "?&;" and found.group(1) != MASK:
                spans.append(found.span(1))
    return _mask_spans(text, spans)
