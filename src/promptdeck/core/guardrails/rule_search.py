r"""Find a rule's first match fast: jump to where it can start instead of trying every position.

Python's ``re`` tries a pattern that opens with ``\b(?:ignore|disregard|…)`` at every
position of the text, which made the scanners' rules cost about a second per megabyte.
Most rules can only start where one of a few words starts: :func:`start_literals`
reads them from the parsed pattern (conservatively: any doubt and the rule has none),
``str.find`` (C speed) finds their occurrences in the lower-cased text, and the pattern
is tried there only, with ``match`` (which still sees the characters before the position,
so ``\b`` and look-behinds hold). The first match found this way is the one ``search``
finds. Only ASCII texts take this path (their case folding is plain lower-casing); any
other text, and any rule without start words, is searched as before.
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promptdeck.core.guardrails.rules import Rule

__all__ = ["find_rule", "first_match", "start_literals"]

#: Below this length a text is simply searched (finding the words would not pay).
FAST_FROM = 2_000


def _starts(ops: list[Any], ignore_case: bool) -> set[str] | None:
    """The literal texts a match of ``ops`` must begin with (None: not known)."""
    index = 0
    while index < len(ops) and ops[index][0] is sre.AT:
        index += 1
    if index == len(ops):
        return None
    op, arg = ops[index]
    rest = ops[index + 1 :]
    if op is sre.LITERAL:
        chars = []
        for op2, arg2 in ops[index:]:
            if op2 is not sre.LITERAL:
                break
            chars.append(chr(arg2))
        return {"".join(chars)}
    if op is sre.SUBPATTERN:
        _, _, del_flags, sub = arg
        if ignore_case and del_flags & re.IGNORECASE:
            return None  # a case-sensitive part: left to the full search
        return _starts([*sub, *rest], ignore_case)
    if op is sre.BRANCH:
        found: set[str] = set()
        for branch in arg[1]:
            starts = _starts([*branch, *rest], ignore_case)
            if starts is None:
                return None
            found |= starts
        return found
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        low, _, sub = arg
        starts = _starts([*sub, *rest], ignore_case)
        if starts is None:
            return None
        if low == 0:
            after = _starts(rest, ignore_case)
            if after is None:
                return None
            starts |= after
        return starts
    return None


@lru_cache(maxsize=1024)
def _may_be_ascii(char: str, ignore_case: bool) -> bool:
    """True when ``char`` in a pattern can match a character of an ASCII text."""
    if char.isascii():
        return True
    flags = re.IGNORECASE if ignore_case else 0
    return any(re.fullmatch(re.escape(char), chr(code), flags) for code in range(128))


@lru_cache(maxsize=512)
def start_literals(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """Return the words a match of ``regex`` must start with (lower-cased), or None.

    None when they cannot be told for sure: a pattern opening with a character class,
    a wildcard, a case-sensitive group, a look-around… Words no ASCII text can hold
    are left out (only ASCII texts are searched this way).
    """
    ignore_case = bool(regex.flags & re.IGNORECASE)
    try:
        starts = _starts(list(sre_parse.parse(regex.pattern, regex.flags)), ignore_case)
    except (re.error, RecursionError, ValueError, TypeError):
        return None
    if not starts:
        return None
    # Only ASCII texts are searched this way: a word with a character no ASCII text can
    # hold (an emoji; not the Kelvin sign, which matches "k" ignoring case) starts nothing.
    starts = {w for w in starts if all(_may_be_ascii(c, ignore_case) for c in w)}
    if not starts or any(not w.isascii() for w in starts):
        return None
    words = {w.lower() for w in starts} if ignore_case else starts
    # A word that starts with another one adds nothing: the shorter finds it too.
    kept = sorted(words, key=len)
    minimal = [w for i, w in enumerate(kept) if not any(w.startswith(k) for k in kept[:i])]
    return tuple(minimal)


def find_rule(rule: Rule, text: str, lowered: str | None) -> re.Match[str] | None:
    """``rule.regex.search(text)``, faster where the rule says how (same match).

    A rule's ``windows`` bound where a match can lie; its ``requires`` words, one of
    which every match holds, rule out a text holding none of them; its ``starts``
    stand in for the start words :func:`start_literals` cannot read from its pattern.

    Args:
        rule: The rule.
        text: The (normalised) text.
        lowered: ``text.lower()`` when ``text`` is ASCII and long enough, else None.
    """
    if rule.windows is not None and len(text) >= FAST_FROM:
        for start, end in rule.windows(text):
            match = rule.regex.search(text, start, end)
            if match is not None:
                return match
        return None
    if (
        lowered is not None
        and rule.requires is not None
        and not any(word in lowered for word in rule.requires)
    ):
        return None
    return first_match(rule.regex, text, lowered, starts=rule.starts)


def first_match(
    regex: re.Pattern[str],
    text: str,
    lowered: str | None,
    *,
    starts: tuple[str, ...] | None = None,
) -> re.Match[str] | None:
    """``regex.search(text)``, trying only where the rule can start when that is known.

    Args:
        regex: The rule's pattern.
        text: The (normalised) text.
        lowered: ``text.lower()`` when ``text`` is ASCII and long enough, else None.
        starts: The lower-cased texts every match starts with, besides at the
            text's start (position 0), when the pattern's own cannot be read.
    """
    words = (starts or start_literals(regex)) if lowered is not None else None
    if words is None or lowered is None:
        return regex.search(text)
    haystack = lowered if regex.flags & re.IGNORECASE else text
    if starts is not None:
        at_start = regex.match(text)
        if at_start is not None:
            return at_start
    best: re.Match[str] | None = None
    for word in words:
        position = haystack.find(word)
        limit = best.start() if best is not None else len(text)
        while 0 <= position < limit:
            match = regex.match(text, position)
            if match is not None:
                best = match
                break
            position = haystack.find(word, position + 1)
    return best


def lowered_for_search(text: str) -> str | None:
    """The text lower-cased for :func:`first_match`, or None when it takes the plain search."""
    if len(text) < FAST_FROM or not text.isascii():
        return None
    return text.lower()
