"""Collected spans are text from the network: deep JSON in them is refused or kept as text."""

from __future__ import annotations

import pytest

from promptdeck.core.collect.decode import BadRequestError, decode_request
from promptdeck.core.collect.genai import read_llm_call

DEEP = "[" * 100_000 + "]" * 100_000


def test_a_deeply_nested_json_body_is_a_bad_request() -> None:
    with pytest.raises(BadRequestError, match="nested too deep"):
        decode_request(('{"resourceSpans": ' + DEEP + "}").encode(), json_body=True)


def test_deep_messages_in_an_attribute_are_kept_as_text() -> None:
    call = read_llm_call(
        {
            "gen_ai.request.model": "m",
            "gen_ai.input.messages": DEEP,
            "gen_ai.output.messages": DEEP,
        },
        [],
    )
    assert call is None or all(len(str(m)) < 10 * len(DEEP) for m in call.messages)
