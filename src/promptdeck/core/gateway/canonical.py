"""What the semantic cache compares a request's texts by: canonical forms and match keys.

Two texts that differ only by a trivial rewording get the same **canonical form**:
case, whitespace, punctuation, a leading ``Q:`` / ``Question:``, ``please`` or
``kindly`` at either end, ``thanks`` at the end, apostrophes and the usual English
contractions (``what's`` = ``whats`` = ``what is``), hyphens inside words
(``well-known`` = ``wellknown``), dots of initials (``U.S.`` = ``US``), thousands
separators in numbers, a dollar sign. Symbols that carry meaning stay
(``% + - * / = < >`` …, a minus sign, other currencies), and so do numbers (``3.5``
is not ``35``) and every word.

The **match key** of a text is its canonical words without articles, each plural
ending (``-s``, ``-es``, ``-ies``) cut off. A semantic hit requires equal match keys:
embeddings alone find "What is the capital of Spain?" near "… of France?", "Is it
not safe …" near "Is it safe …" (0.99) and "gives 3 to Mary" near "gives 2 to Mary"
(0.99), so no similarity threshold separates a rewording from a different question.
The key lets through only changes of articles and number of nouns (and the verb
forms that follow them: ``does a spider`` / ``do spiders``); the similarity of the
canonical forms must still reach the threshold.

Pure functions, no third-party imports.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["canonical_text", "canonical_tokens", "match_key"]

_PREFIX = re.compile(r"^\s*(?:(?:q|question|query)\s*[:.)\]-]\s*)+", re.IGNORECASE)
_APOSTROPHE = re.compile(r"(?<=\w)['’‘`´](?=\w)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_JOINED = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
"""A hyphen inside a word ("well-known" is "wellknown", as with the hyphen deleted)."""
_HYPHEN = re.compile(r"-(?!\s*\.?\d)")
"""A hyphen or dash that is not a minus sign (one before a number is kept)."""
_INITIALS = re.compile(r"(?<![^\W\d_])((?:[^\W\d_]\.){2,})")
"""Dotted initials ("U.S.", "a.m."): read without their dots."""
_DROPPED_SYMBOLS = frozenset("$")
"""Symbols read as punctuation: "$5" asks what "5" asks."""
_TOKEN = re.compile(r"(?<!\d)\.\d+|\d+(?:\.\d+)*|[^\W\d_]+|\S", re.UNICODE)
_KEPT_PUNCTUATION = frozenset("%#&@*/\\‰-")
"""Punctuation that carries meaning in a question ("5 %", "a/b", "-3"), kept as words."""

_CONTRACTIONS: dict[str, tuple[str, ...]] = {
    "aint": ("is", "not"),
    "arent": ("are", "not"),
    "cant": ("can", "not"),
    "cannot": ("can", "not"),
    "couldnt": ("could", "not"),
    "didnt": ("did", "not"),
    "doesnt": ("does", "not"),
    "dont": ("do", "not"),
    "hadnt": ("had", "not"),
    "hasnt": ("has", "not"),
    "havent": ("have", "not"),
    "isnt": ("is", "not"),
    "mustnt": ("must", "not"),
    "neednt": ("need", "not"),
    "shouldnt": ("should", "not"),
    "wasnt": ("was", "not"),
    "werent": ("were", "not"),
    "wont": ("will", "not"),
    "wouldnt": ("would", "not"),
    "whats": ("what", "is"),
    "thats": ("that", "is"),
    "theres": ("there", "is"),
    "heres": ("here", "is"),
    "whos": ("who", "is"),
    "wheres": ("where", "is"),
    "hows": ("how", "is"),
    "whens": ("when", "is"),
    "whys": ("why", "is"),
    "hes": ("he", "is"),
    "shes": ("she", "is"),
    "im": ("i", "am"),
    "youre": ("you", "are"),
    "theyre": ("they", "are"),
    "ive": ("i", "have"),
    "youve": ("you", "have"),
    "weve": ("we", "have"),
    "theyve": ("they", "have"),
    "youll": ("you", "will"),
    "theyll": ("they", "will"),
    "itll": ("it", "will"),
}
_POLITE_EDGE = frozenset({"please", "pls", "plz", "kindly"})
"""Dropped at either end of a text."""
_THANKS_END: tuple[tuple[str, ...], ...] = (("thank", "you"), ("thanks",), ("thx",))
"""Dropped at the end of a text."""
_KEY_DROPPED = frozenset({"a", "an", "the", "please", "kindly"})
"""Words a match key leaves out: articles and politeness."""
_NOT_PLURAL = frozenset(
    {"this", "thus", "hers", "ours", "yours", "theirs", "always", "perhaps", "whereas", "unless"}
)


def _token_kept(token: str) -> bool:
    if token[0].isalnum() or (token[0] == "." and len(token) > 1):
        return True  # a word, a number, or a number like ".5"
    if token in _DROPPED_SYMBOLS:
        return False
    if token in _KEPT_PUNCTUATION:
        return True
    # Symbols (currency, maths, degrees, emoji) carry meaning; other punctuation does not.
    return unicodedata.category(token[0]).startswith("S")


def canonical_tokens(text: str) -> tuple[str, ...]:
    """The words and symbols of ``text`` in canonical form (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _PREFIX.sub("", text)
    text = _APOSTROPHE.sub("", text)
    text = _THOUSANDS.sub("", text)
    text = _INITIALS.sub(lambda m: m.group(1).replace(".", ""), text)
    text = _JOINED.sub("", text)
    text = _HYPHEN.sub(" ", text)
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if not _token_kept(token):
            continue
        tokens.extend(_CONTRACTIONS.get(token, (token,)))
    start, end = 0, len(tokens)
    while start < end and tokens[start] in _POLITE_EDGE:
        start += 1
    trimmed = True
    while trimmed:
        trimmed = False
        while start < end and tokens[end - 1] in _POLITE_EDGE:
            end, trimmed = end - 1, True
        for thanks in _THANKS_END:
            if end - start >= len(thanks) and tuple(tokens[end - len(thanks) : end]) == thanks:
                end, trimmed = end - len(thanks), True
    return tuple(tokens[start:end])


def canonical_text(text: str) -> str:
    """``text`` in canonical form, as one string (its tokens joined by single spaces)."""
    return " ".join(canonical_tokens(text))


def _singular(word: str) -> str:
    if len(word) < 4 or not word.isalpha() or word in _NOT_PLURAL:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith(("shes", "ches", "xes", "zes", "oes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def match_key(canonical: str) -> str:
    """The match key of a canonical text: no articles, no plural endings.

    Two texts can be served for one another only when their keys are equal.
    """
    return " ".join(_singular(w) for w in canonical.split() if w not in _KEY_DROPPED)
