"""Secrets cut across stream deltas (promptdeck.secrecy_stream)."""

from __future__ import annotations

import base64
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdeck.secrecy import MASK, scrub
from promptdeck.secrecy_stream import StreamScrubber

KEY = "Zq81-unlabelled-9d0c7e5b3a"
ENV = {"ACME_TOKEN": KEY, "DB_PASSWORD": "correct horse battery staple"}


def _stream(pieces: list[str]) -> tuple[list[str], str]:
    scrubber = StreamScrubber(ENV)
    shown = [scrubber.feed(piece) for piece in pieces]
    shown.append(scrubber.finish())
    return shown, "".join(shown)


def _cuts(text: str, points: list[int]) -> list[str]:
    edges = [0, *sorted(set(points)), len(text)]
    return [text[a:b] for a, b in pairwise(edges)]


TEXTS = [
    f"Your key is {KEY}, keep it safe.",
    f"curl -H 'Authorization: Bearer {KEY}' https://x",
    f"The base64 is {base64.b64encode(KEY.encode()).decode()} ok",
    "The password is correct horse battery staple, do not share it.",
    f"{KEY}",
    f"api_key={KEY}&x=1",
    f"half {KEY[:14]}XXXXXXXXXX and {'Y' * 10}{KEY[-13:]} end",
]


@pytest.mark.parametrize("text", TEXTS)
def test_every_two_piece_cut_hides_the_key(text: str) -> None:
    for at in range(1, len(text)):
        shown, whole = _stream(_cuts(text, [at]))
        assert KEY not in whole, at
        assert "correct horse battery staple" not in whole, at
        for piece in shown:
            assert KEY[:14] not in piece and KEY[-13:] not in piece, (at, piece)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(TEXTS),
    st.lists(st.integers(min_value=1, max_value=120), max_size=12),
)
def test_any_cut_hides_the_key_and_keeps_the_rest(text: str, points: list[int]) -> None:
    _shown, whole = _stream(_cuts(text, [p for p in points if p < len(text)]))
    assert MASK in whole
    # However it was cut, the reader sees what the whole text scrubbed at once shows.
    assert whole == scrub(text, ENV)


def test_text_without_secrets_comes_through_whole_and_soon() -> None:
    text = "The capital of France is Paris. It lies on the Seine."
    scrubber = StreamScrubber(ENV)
    first = scrubber.feed("The capital of France ")
    assert first == "The capital of France "
    assert scrubber.feed("is Par") == "is "
    rest = scrubber.feed("is. It lies on the Seine.") + scrubber.finish()
    assert first + "is " + rest == text


def test_a_long_run_without_spaces_is_not_held_forever() -> None:
    scrubber = StreamScrubber(ENV)
    shown = "".join(scrubber.feed("字" * 50) for _ in range(20))
    assert len(shown) >= 1000 - 256
    assert shown + scrubber.finish() == "字" * 1000
