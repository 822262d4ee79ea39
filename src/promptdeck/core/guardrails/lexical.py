"""Hashed word and character n-grams: the lexical half of the ``toxicity`` classifier.

A sentence vector says what a text is about; abuse is often a matter of the words
themselves (slurs, profanity, their misspellings), which a mean-pooled vector of the
first few layers blurs. The ``toxicity`` head therefore also reads a bag of n-grams:
the words, pairs of adjacent words and character 3- to 5-grams of the lower-cased,
normalised text, each hashed (with integer arithmetic that is the same on every
platform) into one of :data:`LEXICAL_DIMENSIONS` buckets, counted, and the row scaled
to unit length. No word
list ships: only the weights of the buckets (``models/classifiers.npz``).

numpy is imported inside the function, so importing this module stays cheap.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["CHAR_NGRAMS", "LEXICAL_CHARS", "LEXICAL_DIMENSIONS", "lexical_features"]

LEXICAL_DIMENSIONS = 8192
"""Number of hash buckets (the length of a feature row)."""
LEXICAL_CHARS = 1000
"""Only the start of a text is read (the sentence vector reads its first 64 tokens)."""
CHAR_NGRAMS = (3, 4, 5)
"""Lengths of the character n-grams (taken with a space on either side of the text)."""

_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
_SPACE = re.compile(r"\s+")
_PRIME = 1_099_511_628_211  # FNV-1a's 64-bit prime
_MIX = 0xBF58476D1CE4E5B9  # splitmix64's first multiplier


def _word_grams(text: str) -> list[str]:
    """The words and adjacent word pairs of a lower-cased text, tagged ``w:`` and ``b:``."""
    words = _TOKEN.findall(text)
    return [f"w:{w}" for w in words] + [f"b:{a} {b}" for a, b in itertools.pairwise(words)]


def _char_buckets(text: str) -> NDArray[np.int64]:
    """Buckets of the character n-grams (of the UTF-8 bytes) of a lower-cased text.

    A polynomial hash over the bytes, finished by a 64-bit mixer; numpy's unsigned
    arithmetic wraps the same way on every platform.
    """
    import numpy as np

    padded = f" {_SPACE.sub(' ', text).strip()} ".encode()
    data = np.frombuffer(padded, dtype=np.uint8).astype(np.uint64)
    parts = []
    for n in CHAR_NGRAMS:
        if len(data) < n:
            continue
        h = np.full(len(data) - n + 1, n, dtype=np.uint64)
        for k in range(n):
            h = h * _PRIME + data[k : k + len(h)]
        parts.append(h)
    if not parts:
        return np.zeros(0, dtype=np.int64)
    h = np.concatenate(parts)
    h ^= h >> np.uint64(31)
    h *= _MIX
    h ^= h >> np.uint64(29)
    return (h % np.uint64(LEXICAL_DIMENSIONS)).astype(np.int64)


def lexical_features(texts: Sequence[str]) -> NDArray[np.float32]:
    """Hash each text's n-grams into a unit-length row of bucket counts.

    Words and word pairs are hashed with CRC-32, character n-grams with a polynomial
    hash of their UTF-8 bytes; an n-gram counts as often as it occurs.

    Args:
        texts: Normalised texts (:func:`promptdeck.core.guardrails.normalize`).

    Returns:
        ``(len(texts), LEXICAL_DIMENSIONS)`` float32 rows of norm 1 (0 for an empty text).
    """
    import numpy as np

    out = np.zeros((len(texts), LEXICAL_DIMENSIONS), dtype=np.float32)
    for row, text in enumerate(texts):
        lowered = text[:LEXICAL_CHARS].lower()
        words = [zlib.crc32(g.encode()) % LEXICAL_DIMENSIONS for g in _word_grams(lowered)]
        buckets = np.concatenate([np.array(words, dtype=np.int64), _char_buckets(lowered)])
        if len(buckets):
            counts = np.bincount(buckets, minlength=LEXICAL_DIMENSIONS)
            out[row] = counts / np.sqrt(float(counts @ counts))
    return out
