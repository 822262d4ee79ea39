"""Scrubbing text that arrives in pieces: a key cut across two stream deltas.

:func:`promptdeck.secrecy.scrub` sees one string at a time. A model that streams a key
back ("sk-pro" then "j-abc…") would pass each piece through unmasked, and the terminal
or the Compare column would show the whole key. :class:`StreamScrubber` holds back the
end of what arrived for as long as it could still be the start of a secret (a word not
yet ended, a prefix of a key or of one of its encoded forms) and scrubs what it lets
go together with the text just before it, so a ``Bearer`` or ``api_key=`` in an earlier
piece still masks the value in a later one.

A leaf module like :mod:`promptdeck.secrecy`: any layer may import it.
"""

from __future__ import annotations

from collections.abc import Mapping

from promptdeck.secrecy import scrub, secret_forms

__all__ = ["StreamScrubber"]

_CONTEXT = 64
"""Characters already let go that are scrubbed again with the next piece (for context)."""

_LONGEST_WORD = 256
"""A word longer than this is let go but for its last 256 characters (no key is longer)."""


class StreamScrubber:
    """Turns a stream of text pieces into a stream with every secret masked.

    ``feed`` each piece as it arrives and show what it returns; ``finish`` at the end
    returns the rest. The pieces returned, joined, equal :func:`scrub` of the whole text
    whenever a secret does not straddle the context window (64 characters).
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        self._pending = ""
        self._context = ""

    def feed(self, piece: str) -> str:
        """Take the next piece; return the text now safe to show (maybe empty)."""
        self._pending += piece
        cut = self._safe_end(self._pending)
        if cut == 0:
            return ""
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return self._release(ready)

    def finish(self) -> str:
        """The end of the stream: the rest, scrubbed."""
        ready, self._pending = self._pending, ""
        return self._release(ready) if ready else ""

    def _release(self, raw: str) -> str:
        context = self._context
        self._context = (context + raw)[-_CONTEXT:]
        if not context:
            return scrub(raw, self._environ)
        both = scrub(context + raw, self._environ)
        if both.startswith(context):
            return both[len(context) :]
        return scrub(raw, self._environ)

    def _safe_end(self, text: str) -> int:
        """How much of ``text`` can go now: not its last word, nor a secret's beginning."""
        end = len(text)
        # The word being written may be (or end in) a key: wait for its end.
        while end > 0 and not text[end - 1].isspace():
            end -= 1
        end = max(end, len(text) - _LONGEST_WORD)
        # A secret with spaces in it (a passphrase), or an encoded form: wait while the
        # text ends with the beginning of one.
        for form in secret_forms(self._environ):
            for size in range(min(len(form) - 1, len(text)), 0, -1):
                if text.endswith(form[:size]):
                    end = min(end, len(text) - size)
                    break
            at = text.find(form, max(0, end - len(form) + 1))
            if 0 <= at < end < at + len(form):
                end = at
        return end
