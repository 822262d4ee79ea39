"""Undo unicode tricks before rules look at a text, keeping a map back to the original.

Attackers hide words from naive matching with zero-width characters ("ig\u200bnore"),
look-alike letters from other scripts (Cyrillic "іgnоrе"), full-width or mathematical
letters ("ｉｇｎｏｒｅ", "𝐢𝐠𝐧𝐨𝐫𝐞") and invisible Unicode tag characters. :func:`normalize`

1. decodes tag characters (U+E0020-U+E007E) to the ASCII they mirror, so hidden text
   becomes visible, and drops other invisible characters (zero-width, bidi controls,
   soft hyphens, variation selectors);
2. applies NFKC to each character with its combining marks;
3. maps Cyrillic and Greek look-alikes to Latin inside words that mix scripts, and in
   whole words of look-alikes when the text is mostly Latin (so genuine Russian or
   Greek text is left alone).

Every character of the result remembers the span of the original it came from, so
findings on the normalised text can be reported (and redacted) in the original.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["HOMOGLYPHS", "NormalizedText", "normalize"]

HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ѐ": "e", "ё": "e", "о": "o", "р": "p", "с": "c",
    "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h",
    "ӏ": "l", "ԛ": "q", "ԝ": "w", "к": "k", "м": "m", "н": "h", "т": "t", "ь": "b",
    "п": "n", "г": "r", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H",
    "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J",
    "Ѕ": "S", "Ԛ": "Q", "Ԝ": "W", "Ԁ": "D", "Ӏ": "I", "Ү": "Y", "ү": "y",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ϲ": "c", "ϳ": "j",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
    # Latin letters that pass for others
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɩ": "i", "ʏ": "y", "ℓ": "l",
}  # fmt: skip
"""Look-alike letter -> the Latin letter it imitates."""

_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c\u200d"
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067"
    "\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f\u3164\ufe00\ufe01\ufe02\ufe03\ufe04"
    "\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f\ufeff\uffa0"
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class NormalizedText:
    """A normalised text and the way back to the original.

    Attributes:
        text: The normalised text.
        original: The text as given.
        starts: For each character of ``text``, where its source begins in ``original``
            (empty when the two are identical).
        ends: For each character of ``text``, where its source ends in ``original``.
    """

    text: str
    original: str
    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    @property
    def changed(self) -> bool:
        """True when normalising changed the text."""
        return self.text != self.original

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text to the span of the original it came from.

        Args:
            start: Start offset in :attr:`text`.
            end: End offset (exclusive) in :attr:`text`.

        Returns:
            ``(start, end)`` in :attr:`original`.
        """
        if not self.starts:
            return start, end
        if end <= start:
            at = self.starts[start] if start < len(self.starts) else len(self.original)
            return at, at
        return self.starts[start], self.ends[end - 1]


def _is_latin_letter(ch: str) -> bool:
    return (ch.isascii() and ch.isalpha()) or ("LATIN" in unicodedata.name(ch, ""))


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_HOMOGLYPH_TABLE = str.maketrans(HOMOGLYPHS)
_HAS_HOMOGLYPH = re.compile("[" + "".join(sorted(HOMOGLYPHS)) + "]")


@lru_cache(maxsize=64)
def normalize(text: str) -> NormalizedText:
    """Normalise a text against unicode tricks (see the module docstring).

    Results are cached (the scanners of one text share them).

    Args:
        text: Any text.

    Returns:
        The normalised text with its map back to ``text``.
    """
    if text.isascii():
        return NormalizedText(text, text)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cursor = 0
    for run in _NON_ASCII.finditer(text):
        begin = run.start()
        # A combining mark belongs with the (ASCII) letter before it.
        if begin > cursor and unicodedata.combining(text[begin]):
            begin -= 1
        if begin > cursor:
            pieces.append(text[cursor:begin])
            starts.extend(range(cursor, begin))
            ends.extend(range(cursor + 1, begin + 1))
        _normalize_run(text, begin, run.end(), pieces, starts, ends)
        cursor = run.end()
    if cursor < len(text):
        pieces.append(text[cursor:])
        starts.extend(range(cursor, len(text)))
        ends.extend(range(cursor + 1, len(text) + 1))
    result = _map_homoglyphs("".join(pieces))
    if result == text:
        return NormalizedText(text, text)
    return NormalizedText(result, text, tuple(starts), tuple(ends))


def _normalize_run(
    text: str, i: int, end: int, pieces: list[str], starts: list[int], ends: list[int]
) -> None:
    """Normalise ``text[i:end]`` character by character (with its combining marks)."""
    while i < end:
        ch = text[i]
        code = ord(ch)
        if 0xE0020 <= code <= 0xE007E:  # a tag character mirrors an ASCII one
            pieces.append(chr(code - 0xE0000))
            starts.append(i)
            ends.append(i + 1)
            i += 1
            continue
        if ch in _INVISIBLE or 0xE0000 <= code <= 0xE007F or 0xE0100 <= code <= 0xE01EF:
            i += 1
            continue
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]) and text[j] not in _INVISIBLE:
            j += 1
        piece = unicodedata.normalize("NFKC", text[i:j])
        pieces.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j


def _map_homoglyphs(text: str) -> str:
    """Replace look-alike letters, word by word (see the module docstring)."""
    if not _HAS_HOMOGLYPH.search(text):
        return text
    letters = [c for c in text if c.isalpha()]
    latin_share = sum(1 for c in letters if _is_latin_letter(c)) / max(1, len(letters))

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        if not _HAS_HOMOGLYPH.search(word):
            return word
        latin = other = 0
        for c in word:
            if c in HOMOGLYPHS or not c.isalpha():
                continue
            if _is_latin_letter(c):
                latin += 1
            else:
                other += 1
        if latin or (other == 0 and latin_share > 0.5):
            return word.translate(_HOMOGLYPH_TABLE)
        return word

    return _WORD.sub(fix, text)
