"""JSON in text nobody vetted: a model's answer, a judge's verdict, a tool call's arguments.

Such text is no file with a line to name, and a bad one is not the user's mistake:
it is an answer that fails its check. So these readers raise
:class:`JSONLimitError`, a :class:`ValueError` like every JSON syntax error, which
the scorers and guardrails already turn into a failed check with its reason. The
bounds are the files' own (:data:`~promptdeck.safeload.limits.MAX_DEPTH`) plus a
size cap: nesting is counted before any parser recurses (``RecursionError`` is
caught too, for brackets a stray quote hid from the count), and a text past
:data:`MAX_ANSWER_JSON_CHARS` is never parsed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from promptdeck.safeload.limits import MAX_DEPTH

__all__ = [
    "MAX_ANSWER_JSON_CHARS",
    "JSONLimitError",
    "check_answer_json",
    "decode_answer_json",
    "parse_answer_json",
]

MAX_ANSWER_JSON_CHARS = 4 * 2**20
"""Longest text parsed as JSON (4 Mi characters): far past any answer's ``max_tokens``,
and short of the hundreds of megabytes a text of empty objects becomes once parsed."""

_TOKENS = re.compile(r'"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"|[\[\]{}]')
"""A JSON string (skipped) or one bracket."""

_TOO_DEEP = f"JSON nested more than {MAX_DEPTH} levels deep"


class JSONLimitError(ValueError):
    """Text refused as JSON because it is nested too deep or too long to parse safely."""


def check_answer_json(text: str) -> None:
    """Refuse ``text`` as JSON when it is too long or nested too deep (no parsing).

    Raises:
        JSONLimitError: Saying which limit, and the text's size for the size limit.
    """
    if len(text) > MAX_ANSWER_JSON_CHARS:
        raise JSONLimitError(
            f"JSON of {len(text):,} characters is past the limit of "
            f"{MAX_ANSWER_JSON_CHARS:,} characters"
        )
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise JSONLimitError(_TOO_DEEP)
        elif token in ("]", "}"):
            depth = max(0, depth - 1)


def parse_answer_json(text: str) -> Any:
    """Parse ``text`` as one JSON document, within the limits.

    Raises:
        JSONLimitError: Too long or nested too deep.
        json.JSONDecodeError: Not JSON (also a ``ValueError``).
    """
    check_answer_json(text)
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise JSONLimitError(_TOO_DEEP) from exc


def decode_answer_json(decoder: json.JSONDecoder, text: str, start: int) -> tuple[Any, int]:
    """``decoder.raw_decode(text, start)``, a ``RecursionError`` made a :class:`JSONLimitError`.

    Check the whole text with :func:`check_answer_json` first; this only catches
    what that count could not see.

    Raises:
        JSONLimitError: Nested too deep.
        json.JSONDecodeError: No JSON value starts at ``start``.
    """
    try:
        return decoder.raw_decode(text, start)
    except RecursionError as exc:
        raise JSONLimitError(_TOO_DEEP) from exc
