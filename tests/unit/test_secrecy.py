"""The register of secrets and its scrubber (promptdeck.secrecy)."""

from __future__ import annotations

import base64
import io
import json
import logging
from urllib.parse import quote

import pytest

from promptdeck import secrecy
from promptdeck.cli.output import ScrubbedStream
from promptdeck.core.evals.cell import CellResult
from promptdeck.core.scorers.base import Score

KEY = "Zq81-unlabelled-9d0c7e5b3a"


@pytest.mark.parametrize(
    "name",
    [
        "OPENAI_API_KEY",
        "HF_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "WATSONX_ZENAPIKEY",
        "AZURE_AD_TOKEN",
        "SUPABASE_KEY",
        "DATABASE_PASSWORD",
        "VERTEXAI_CREDENTIALS",
        "GITHUB_PAT",
        "my_service_secret",
    ],
)
def test_names_that_hold_keys(name: str) -> None:
    assert secrecy.looks_secret(name)


@pytest.mark.parametrize(
    "name",
    ["HOME", "PATH", "TOKENIZERS_PARALLELISM", "KEYMAP", "AZURE_KEY_VAULT_URI", "HF_TOKEN_PATH"],
)
def test_names_that_do_not(name: str) -> None:
    assert not secrecy.looks_secret(name)


def test_a_key_read_from_any_variable_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "Vx-read-for-a-call-5e6f7a8b9c"  # this test's own: the register is process-wide
    monkeypatch.setenv("PLAIN_NAME_1", key)
    assert secrecy.scrub(f"401: {key}") == f"401: {key}"  # nothing says it is a key yet
    assert secrecy.read_key("PLAIN_NAME_1") == key
    assert secrecy.scrub(f"401: {key}.") == "401: ***."
    monkeypatch.setenv(
        "PLAIN_NAME_1", "Wy-rotated-value-0a9b8c7d6e"
    )  # a known variable's new value
    assert secrecy.scrub("x Wy-rotated-value-0a9b8c7d6e y") == "x *** y"


def test_a_registered_variable_is_scrubbed_before_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLAIN_NAME_2", "Qm-unread-0c1d2e3f4a5b6c")
    secrecy.remember_variable("PLAIN_NAME_2")
    assert secrecy.scrub("echo Qm-unread-0c1d2e3f4a5b6c") == "echo ***"


def test_encoded_and_partial_forms() -> None:
    secrecy.remember(KEY)
    for user in ("", "u:", "ab:", "abc:"):
        basic = base64.b64encode(f"{user}{KEY}".encode()).decode()
        assert KEY not in secrecy.scrub(basic)
        assert basic[len(user) // 3 * 4 + 4 : -4] not in secrecy.scrub(f"Basic {basic}")
    texts = {
        f"https://h/v1?k={quote(KEY)}": quote(KEY),
        json.dumps({"k": KEY}): KEY,
        f"cut: {KEY[:14]}…": KEY[:12],
        f"masked: sk-…{KEY[-13:]}": KEY[-12:],
    }
    for text, leaked in texts.items():
        assert leaked not in secrecy.scrub(text), text


def test_generic_forms_and_no_false_alarms() -> None:
    assert secrecy.scrub("Authorization: Bearer abcdefgh12345") == "Authorization: Bearer ***"
    assert secrecy.scrub("Authorization: Basic dXNlcjpwYXNz") == "Authorization: Basic ***"
    assert secrecy.scrub("x-api-key: q1w2e3r4t5y6") == "x-api-key: ***"
    assert secrecy.scrub("GET /v1?key=abc&token=def&a=1") == "GET /v1?key=***&token=***&a=1"
    prose = "The bearer of the basic token limits: a key insight, api keys, monkey=banana."
    assert secrecy.scrub(prose) == prose


def test_short_values_are_not_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_API_KEY", "ollama")
    secrecy.remember("none")
    assert secrecy.scrub("ollama says none") == "ollama says none"


def test_scrub_is_idempotent_and_rows_are_scrubbed_together() -> None:
    secrecy.remember(KEY)
    once = secrecy.scrub(f"{KEY} Bearer {KEY}")
    assert secrecy.scrub(once) == once
    row = ["ok", 3, None, f"err {KEY}", b"\x00bytes", 1.5]
    assert secrecy.scrub_row(row) == ["ok", 3, None, "err ***", b"\x00bytes", 1.5]
    assert secrecy.scrub_row(["a\0b", KEY]) == ["a\0b", "***"]
    assert secrecy.scrub_data({KEY: [KEY, 1, {"x": KEY}]}) == {"***": ["***", 1, {"x": "***"}]}


def test_cells_and_scores_are_scrubbed_where_they_are_made() -> None:
    secrecy.remember(KEY)
    score = Score("m", "contains", 0.0, False, f"saw {KEY}", error=f"raised {KEY}")
    cell = CellResult("s", "p@1", "m", "k", 0, "f:1", output=KEY, error=KEY, scores=(score,))
    assert KEY not in json.dumps(cell.to_dict())


def test_log_records_and_streams_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    secrecy.remember(KEY)
    secrecy.install_log_scrubbing()
    secrecy.install_log_scrubbing()  # once is enough; twice changes nothing
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info("calling with %s", KEY)
    assert KEY not in caplog.text and "calling with ***" in caplog.text
    inner = io.StringIO()
    stream = ScrubbedStream(inner)
    assert stream.write(f"key={KEY}\n") == len(f"key={KEY}\n")
    assert inner.getvalue() == "key=***\n"


def test_a_text_found_clean_is_scrubbed_once_a_variable_holds_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Texts known to be clean are remembered, but only while the secrets stay the same."""
    key = "Tk-rotating-value-7f6e5d4c3b"
    text = f"answer: {key}"
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "short")  # too short to be a secret
    assert secrecy.scrub(text) == text
    assert secrecy.scrub(text) == text  # remembered as clean
    monkeypatch.setenv("SOME_SERVICE_TOKEN", key)  # the same variable, now a key
    assert secrecy.scrub(text) == "answer: ***"
    monkeypatch.delenv("SOME_SERVICE_TOKEN")
    assert secrecy.scrub(text) == text
    monkeypatch.setenv("ANOTHER_SERVICE_TOKEN", key)  # a new variable
    assert secrecy.scrub(text) == "answer: ***"
    assert secrecy.scrub_rows([[text, 1]]) == [["answer: ***", 1]]


def test_many_rows_are_scrubbed_together_and_only_where_a_key_is() -> None:
    secrecy.remember(KEY)
    rows = [[f"row {i}", i, None, b"\x00", 0.5] for i in range(50)]
    rows[31][0] = f"echo {KEY}"
    scrubbed = secrecy.scrub_rows(rows)
    assert scrubbed[31][0] == "echo ***"
    assert scrubbed[:31] == rows[:31] and scrubbed[32:] == rows[32:]
    assert secrecy.scrub_rows([["a\0b", KEY], ["c"]]) == [["a\0b", "***"], ["c"]]
    assert secrecy.scrub_rows([]) == []


def test_a_secret_variable_that_replaces_another_is_scrubbed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One variable removed and another added (the count unchanged): the new key is seen."""
    monkeypatch.setenv("PLAIN_SETTING_X", "nothing secret here")
    assert secrecy.scrub("warm up") == "warm up"
    monkeypatch.delenv("PLAIN_SETTING_X")
    monkeypatch.setenv("BRAND_NEW_API_KEY", "fresh-key-0123456789")
    assert secrecy.scrub("it is fresh-key-0123456789") == "it is ***"
