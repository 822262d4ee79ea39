"""The secrets scanner: provider token formats, private keys, passwords; no placeholders."""

from __future__ import annotations

import pytest

from promptdeck.core.guardrails import find_secrets, get_scanner

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwia"
    "WF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        (
            "key=sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6 ok",
            "OPENAI_API_KEY",
            "sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6",
        ),
        (
            "sk-ant-api03-abcDEF123_456-ghiJKL789mnoPQR012stuVWX345 end",
            "ANTHROPIC_API_KEY",
            "sk-ant-api03-abcDEF123_456-ghiJKL789mnoPQR012stuVWX345",
        ),
        ("AWS AKIAIOSFODNN7EXAMPLE used", "AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        (
            'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        (
            "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 here",
            "GITHUB_TOKEN",
            "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        ),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
            "GITHUB_TOKEN",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
        ),
        (
            "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
            "SLACK_TOKEN",
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
        ),
        (
            "maps AIzaSyD-1234567890abcdefghijklmnopqrstu!",
            "GOOGLE_API_KEY",
            "AIzaSyD-1234567890abcdefghijklmnopqrstu",
        ),
        (
            "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "STRIPE_SECRET_KEY",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        ),
        (f"Authorization: Bearer {JWT}", "JWT", JWT),
        (f"here:\n{PEM}\nthanks", "PRIVATE_KEY", PEM),
        ("db postgres://admin:s3cr3tP4ss@db.example.com:5432/app", "PASSWORD_IN_URL", "s3cr3tP4ss"),
        ('config: password = "Tr0ub4dor&3x"', "PASSWORD", "Tr0ub4dor&3x"),
    ],
)
def test_finds(text: str, kind: str, value: str) -> None:
    assert [(s.type, s.text) for s in find_secrets(text)] == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "use sk-short as a placeholder",
        "the risk-assessment-document-2024-final is ready",
        "password: <your password>",
        "api_key = YOUR_API_KEY",
        "password = ********",
        "https://user@example.com/path has no password",
        "eyJhbGciOi.eyJzdWIiOiIx.notasignature",  # too short to be a token
        "AKIA is how AWS keys start",
    ],
)
def test_does_not_find(text: str) -> None:
    assert find_secrets(text) == []


def test_zero_width_characters_do_not_hide_a_key() -> None:
    text = "AKIAIOSF\u200bODNN7EXAMPLE"
    spans = find_secrets(text)
    assert [s.type for s in spans] == ["AWS_ACCESS_KEY_ID"] and spans[0].text == text


def test_scanner_verdict() -> None:
    verdict = get_scanner("secrets").scan("export OPENAI_API_KEY=sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2")
    assert verdict.flagged and verdict.spans[0].type == "OPENAI_API_KEY"
    assert not get_scanner("secrets").scan("no keys here").flagged
