"""The untrusted part of a prompt call: the texts inside its variable values.

A prompt's template is written by its author; the values filled into it come from
users, suite cases or other programs. Input guardrails read those values
(:func:`untrusted_texts`), and ``redact`` puts the redacted values back into the
rendered messages (:func:`replace_values`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["replace_values", "untrusted_texts"]

_MAX_DEPTH = 32


def _leaves(value: Any, depth: int = 0) -> Iterable[str]:
    if depth > _MAX_DEPTH or value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item, depth + 1)
    elif isinstance(value, set | frozenset):
        for item in sorted(value, key=str):
            yield from _leaves(item, depth + 1)
    else:  # numbers, dates: rendered as their str()
        yield str(value)


def untrusted_texts(variables: Mapping[str, Any]) -> list[str]:
    """Return the distinct non-blank texts inside variable values, in order.

    Strings are taken as they are, also inside lists, tuples, sets and mappings (their
    values); numbers and other scalars as their ``str()`` (a card or phone number
    may be given as an int); booleans and None are skipped.

    Args:
        variables: The values a prompt was rendered with.

    Returns:
        The texts to scan.
    """
    texts = (text for value in variables.values() for text in _leaves(value))
    return [text for text in dict.fromkeys(texts) if text.strip()]


def _bounded(text: str) -> str:
    head = r"(?<!\w)" if re.match(r"\w", text[0]) else ""
    tail = r"(?!\w)" if re.match(r"\w", text[-1]) else ""
    return f"{head}{re.escape(text)}{tail}"


def replace_values(
    messages: Sequence[Mapping[str, str]], replacements: Mapping[str, str]
) -> tuple[list[dict[str, str]], set[str]]:
    """Replace every verbatim occurrence of each original text in the messages' contents.

    All replacements are made in one pass per message, longest original first, so a
    value that contains another one, or a replacement that happens to contain an
    original, is never replaced twice. An original that starts or ends with a word
    character only matches where it is not part of a longer word ("Ann" is not
    replaced inside "Annual"). Every role is rewritten: a variable may be rendered
    into the system message as well as the user's.

    Args:
        messages: The rendered messages.
        replacements: Original text to its replacement.

    Returns:
        The new messages (copies) and the originals found at least once.
    """
    originals = sorted((t for t in replacements if t), key=len, reverse=True)
    out = [dict(m) for m in messages]
    if not originals:
        return out, set()
    pattern = re.compile("|".join(_bounded(t) for t in originals))
    found: set[str] = set()

    def swap(match: re.Match[str]) -> str:
        found.add(match.group(0))
        return replacements[match.group(0)]

    for message in out:
        content = message.get("content")
        if isinstance(content, str):
            message["content"] = pattern.sub(swap, content)
    return out, found
