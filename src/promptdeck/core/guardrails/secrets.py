"""Credentials: API keys and tokens of the common providers, private keys, passwords in URLs.

Each pattern is specific to its provider's documented token format (prefix, alphabet,
length); JSON Web Tokens are checked by decoding their header, passwords in URLs
and in ``password = ...`` assignments are reported without the surrounding text, and
obvious placeholders (``<your key>``, ``xxxx``, ``****``) are ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from promptdeck.core.guardrails.base import ScanContext, Span, Verdict, scanner
from promptdeck.core.guardrails.intervals import DisjointSpans
from promptdeck.core.guardrails.normalize import normalize

__all__ = ["SECRET_PATTERNS", "SecretPattern", "find_secrets", "scan_secrets"]


def _jwt_header_ok(token: str) -> bool:
    header = token.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        return isinstance(json.loads(decoded), dict) and "alg" in json.loads(decoded)
    except (binascii.Error, ValueError):
        return False


_PLACEHOLDER = re.compile(
    r"(?i)^(?:<.*>|\{.*\}|\$\{?\w+\}?|%\w+%|x{3,}|\*{3,}|\.{3,}|your[_-]?\w*|"
    r"example\w*|changeme|password|secret|none|null|redacted|\[redacted\])$"
)


def _not_placeholder(value: str) -> bool:
    return not _PLACEHOLDER.match(value) and len(set(value)) > 3


@dataclass(frozen=True)
class SecretPattern:
    """One kind of credential.

    Attributes:
        type: The span type reported (``OPENAI_API_KEY``...).
        regex: The pattern; when it has a group named ``secret``, only that group is reported.
        check: An extra test of the reported text, if any.
    """

    type: str
    regex: re.Pattern[str]
    check: Callable[[str], bool] | None = None


_B = r"(?<![A-Za-z0-9_-])"  # not in the middle of a longer token
_E = r"(?![A-Za-z0-9_-])"

SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "PRIVATE_KEY",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s]*)"
        ),
    ),
    SecretPattern("ANTHROPIC_API_KEY", re.compile(_B + r"sk-ant-[a-z0-9]{2,10}-[\w-]{32,}" + _E)),
    SecretPattern(
        "OPENAI_API_KEY",
        re.compile(_B + r"sk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}" + _E),
        lambda v: bool(re.search(r"\d", v)) and bool(re.search(r"[A-Za-z]{2}", v[3:])),
    ),
    SecretPattern("AWS_ACCESS_KEY_ID", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b")),
    SecretPattern(
        "AWS_SECRET_ACCESS_KEY",
        re.compile(
            r"(?i)aws.{0,20}?secret.{0,20}?[=:]\s*[\"']?(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
    ),
    SecretPattern("GITHUB_TOKEN", re.compile(_B + r"(?:gh[pousr]_[A-Za-z0-9]{36,255})" + _E)),
    SecretPattern("GITHUB_TOKEN", re.compile(_B + r"github_pat_[A-Za-z0-9_]{22,255}" + _E)),
    SecretPattern("GITLAB_TOKEN", re.compile(_B + r"glpat-[A-Za-z0-9_-]{20,}" + _E)),
    SecretPattern("SLACK_TOKEN", re.compile(_B + r"xox[abposre]-[A-Za-z0-9-]{10,}" + _E)),
    SecretPattern(
        "SLACK_WEBHOOK",
        re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}"),
    ),
    SecretPattern("GOOGLE_API_KEY", re.compile(_B + r"AIza[0-9A-Za-z_-]{35}" + _E)),
    SecretPattern(
        "STRIPE_SECRET_KEY", re.compile(_B + r"(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{16,}" + _E)
    ),
    SecretPattern("HUGGINGFACE_TOKEN", re.compile(_B + r"hf_[A-Za-z0-9]{30,}" + _E)),
    SecretPattern("SENDGRID_API_KEY", re.compile(_B + r"SG\.[\w-]{22}\.[\w-]{43}" + _E)),
    SecretPattern("NPM_TOKEN", re.compile(_B + r"npm_[A-Za-z0-9]{36}" + _E)),
    SecretPattern(
        "JWT",
        re.compile(_B + r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}" + _E),
        _jwt_header_ok,
    ),
    SecretPattern(
        "PASSWORD_IN_URL",
        re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,64}:(?P<secret>[^\s/@]{3,128})@[\w.-]+"),
        _not_placeholder,
    ),
    SecretPattern(
        "PASSWORD",
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|passphrase|api[_-]?key|secret[_-]?key|access[_-]?token"
            r"|auth[_-]?token|client[_-]?secret)\b[\"']?\s*[:=]\s*[\"']?(?P<secret>[^\s\"',;]{8,128})"
        ),
        _not_placeholder,
    ),
)
"""Every credential pattern, most specific first."""


def find_secrets(text: str) -> list[Span]:
    """Find credentials in a text.

    Args:
        text: The text (matched after normalisation; spans refer to ``text`` itself).

    Returns:
        Non-overlapping spans in text order (the more specific pattern wins an overlap).
    """
    norm = normalize(text)
    taken = DisjointSpans()
    spans: list[Span] = []
    for pattern in SECRET_PATTERNS:
        for match in pattern.regex.finditer(norm.text):
            group = "secret" if "secret" in pattern.regex.groupindex else 0
            start, end = match.span(group)
            value = norm.text[start:end]
            if pattern.check is not None and not pattern.check(value):
                continue
            if not taken.claim(start, end):
                continue
            o_start, o_end = norm.to_original(start, end)
            spans.append(Span(o_start, o_end, pattern.type, text[o_start:o_end]))
    return sorted(spans, key=lambda s: s.start)


@scanner(
    "secrets",
    sides=("input", "output"),
    description="API keys and tokens, private keys, passwords in URLs and assignments.",
    default=True,
    chunked=True,
)
def scan_secrets(text: str, context: ScanContext) -> Verdict:
    """Flag credentials (see the module docstring)."""
    spans = tuple(find_secrets(text))
    if not spans:
        return Verdict("secrets", False, 0.0, (), "no credentials found")
    kinds = ", ".join(dict.fromkeys(s.type for s in spans))
    return Verdict("secrets", True, 1.0, spans, f"found {len(spans)} credential(s): {kinds}")
