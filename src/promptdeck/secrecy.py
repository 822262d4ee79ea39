"""The process-wide register of secrets, and the one scrubber every sink's text passes through.

A key never leaves the process: every text promptdeck writes (an error built from a
provider's exception, a trace attribute, a cell's answer or error, a report, an
export, a printed line, a log record) passes through :func:`scrub` first. What it
removes:

- the value of every variable promptdeck reads a key from (an alias's
  ``api_key_env``, whatever it is called: :func:`read_key`, :func:`remember_variable`),
  and every value handed to :func:`remember`;
- the value of every environment variable whose name looks like a key's
  (``*_API_KEY``, ``*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*_PASSWORD``,
  ``*_CREDENTIALS``, ``*_AUTH``, ``*_PAT`` and the like: :func:`looks_secret`), so the
  keys litellm reads by its own names are covered too;
- their encoded forms: percent-encoded (a key in a URL), JSON- and HTML-escaped, and
  base64 at each of the three alignments (a key inside a ``Basic`` auth header echo,
  whatever user name precedes it); for keys of 16 characters or more, any run
  that starts with their first 12 characters or ends with their last 12 (a key cut
  short by a server's message, or with its head masked by a middle ellipsis);
- whatever follows ``Bearer``, ``Authorization:`` (``Basic`` too), ``api_key=`` or
  ``x-api-key:``, and a ``key=``/``token=`` query parameter, known or not.

Values shorter than 8 characters are not treated as secrets: scrubbing ``ollama``
or ``none`` out of every text would mangle more than it protects.

A leaf module: any layer may import it, and it imports nothing of promptdeck's.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "install_log_scrubbing",
    "looks_secret",
    "read_key",
    "remember",
    "remember_variable",
    "scrub",
    "scrub_data",
    "scrub_row",
    "secret_forms",
    "secret_values",
]

MASK = "***"
"""What a secret is replaced with."""

MIN_SECRET_LENGTH = 8
"""Shorter values are never scrubbed (they would match ordinary words)."""

_EDGE = 12
"""Characters from either end of a long key that are enough to scrub a run."""

_SECRET_WORD = re.compile(
    r"(?:^|_)(?:API_?KEY|[A-Z]*APIKEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PASSPHRASE"
    r"|CREDENTIALS?|AUTH|PAT|SIGNATURE|PRIVATE)S?(?:_|$)",
    re.IGNORECASE,
)
_NOT_A_VALUE = re.compile(
    r"_(?:URL|URI|FILE|DIR|PATH|ENDPOINT|HOST|PORT|COUNT|TTL|SECONDS|SIZE|INTERVAL"
    r"|ENABLED|VERSION|NAME|TYPE|MODE|REGION)$",
    re.IGNORECASE,
)
_VALUE = r"[A-Za-z0-9_\-\.+/=~]{8,}"
_AFTER_WORD: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bearer", re.compile(r"(?i)bearer\s+(" + _VALUE + ")")),
    (
        "authorization",
        re.compile(r"(?i)authorization[\"'=: ]+(?:basic\s+|bearer\s+)?(" + _VALUE + ")"),
    ),
    ("api_key", re.compile(r"(?i)api_key[\"'=: ]+(" + _VALUE + ")")),
    ("api-key", re.compile(r"(?i)api-key[\"'=: ]+(" + _VALUE + ")")),
    ("apikey", re.compile(r"(?i)apikey[\"'=: ]+(" + _VALUE + ")")),
)
"""Words after which a key-like value is masked, known or not (headers, settings)."""
_QUERY = re.compile(
    r"(?i)(?:api[_-]?key|key|token|access_token|secret|sig|signature|password)=([^&\s\"'#]+)"
)
"""A query parameter that carries a key; masked after ``?`` or ``&``."""
_KEY_CHARS = r"[A-Za-z0-9_\-]"

_lock = threading.Lock()
_values: frozenset[str] = frozenset()
_variables: frozenset[str] = frozenset()


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a key.

    Args:
        name: The variable's name (``LAB_API_KEY``, ``HF_TOKEN``, ``AWS_SECRET_ACCESS_KEY``).

    Returns:
        True for names with a key-like word (key, token, secret, password,
        credentials, auth, pat) that do not name a path, URL or setting.
    """
    return bool(_SECRET_WORD.search(name)) and not _NOT_A_VALUE.search(name)


def remember(value: str | None) -> None:
    """Register a secret value read for a call: it is scrubbed from every text from now on.

    Args:
        value: The secret (ignored when None or shorter than :data:`MIN_SECRET_LENGTH`).
    """
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        global _values
        with _lock:
            _values = _values | {value.strip()}


def remember_variable(name: str | None) -> None:
    """Register a variable that holds a key: its value, whatever it is, is scrubbed.

    Args:
        name: The variable's name (an alias's ``api_key_env``); None is ignored.
    """
    if name:
        global _variables
        with _lock:
            _variables = _variables | {name}


def read_key(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Read a key from the environment and register it (name and value) as a secret.

    Args:
        name: The variable's name.
        environ: The environment (default: ``os.environ``).

    Returns:
        The key, or None when the variable is unset or empty.
    """
    remember_variable(name)
    value = (os.environ if environ is None else environ).get(name) or None
    remember(value)
    return value


def _from_environment(env: Mapping[str, str], names: set[str]) -> frozenset[str]:
    return frozenset(
        value.strip()
        for name, value in env.items()
        if (name in names or looks_secret(name)) and len(value.strip()) >= MIN_SECRET_LENGTH
    )


class _EnvWatch:
    """The process environment's secrets, read again only when they may have changed.

    Scanning every variable's name costs tens of microseconds, and :func:`scrub` runs
    for every text written; so the scan is redone only when the set of variables
    changes (one was added or removed) and otherwise only the secret ones are re-read.
    """

    def __init__(self) -> None:
        self.size = -1
        self.names: tuple[str, ...] = ()
        self.registered: frozenset[str] = frozenset()
        self.values: tuple[str | None, ...] = ()
        self.secrets: frozenset[str] = frozenset()

    def current(self, registered: frozenset[str]) -> frozenset[str]:
        env = os.environ
        if len(env) != self.size or registered != self.registered:
            self.size, self.registered = len(env), registered
            self.names = tuple(n for n in env if n in registered or looks_secret(n))
            self.values = ()
        values = tuple(env.get(name) for name in self.names)
        if values != self.values:
            self.values = values
            self.secrets = frozenset(
                v.strip() for v in values if v and len(v.strip()) >= MIN_SECRET_LENGTH
            )
        return self.secrets


_env_watch = _EnvWatch()


def secret_values(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """Every value :func:`scrub` removes (before encoding).

    Args:
        environ: The environment (default: ``os.environ``).

    Returns:
        The registered values, the registered variables' values and the values of
        variables whose names look secret, each at least :data:`MIN_SECRET_LENGTH` long.
    """
    found, names = _values, _variables
    if environ is None:
        with _lock:
            return found | _env_watch.current(names)
    return found | _from_environment(environ, set(names))


def _base64_forms(secret: bytes) -> set[str]:
    forms: set[str] = set()
    for shift in range(3):
        padded = b"\0" * shift + secret
        whole = (len(padded) // 3) * 4
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            inner = encode(padded).decode("ascii")[(4 if shift else 0) : whole]
            if len(inner) >= MIN_SECRET_LENGTH:
                forms.add(inner)
    return forms


def _forms(secret: str) -> tuple[set[str], set[str]]:
    """(the literal strings to look for, the regular expressions that remove them)."""
    literal = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret, quote=True),
    } | _base64_forms(secret.encode("utf-8"))
    patterns = {re.escape(text) for text in literal}
    if len(secret) >= 2 * _EDGE - 8:
        head, tail = secret[:_EDGE], secret[-_EDGE:]
        literal |= {head, tail}
        patterns |= {re.escape(head) + _KEY_CHARS + "*", _KEY_CHARS + "*" + re.escape(tail)}
    return literal, patterns


class _Plan:
    """What :func:`scrub` looks for, built once per set of secrets."""

    def __init__(self, values: frozenset[str]) -> None:
        self.values = values
        needles: set[str] = set()
        patterns: set[str] = set()
        for value in values:
            literal, found = _forms(value)
            needles |= literal
            patterns |= found
        # The shortest needles are enough to know whether the slow pass is needed.
        self.needles = tuple(sorted(needles, key=len))
        ordered = sorted(patterns, key=len, reverse=True)
        self.pattern = re.compile("|".join(ordered)) if ordered else None


_plan = _Plan(frozenset())
_QUERY_WORDS = ("key=", "token=", "secret=", "sig=", "signature=", "password=")


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [text[last:start], MASK]
        last = end
    return "".join(out) + text[last:]


def _generic(text: str) -> str:
    """Mask values after ``Bearer``, ``api_key=``… and in ``?key=`` query parameters."""
    low = text.lower()
    spans: list[tuple[int, int]] = []
    for word, after in _AFTER_WORD:
        at = low.find(word)
        while at >= 0:
            found = after.match(text, at)
            if found is not None and found.group(1) != MASK:
                spans.append(found.span(1))
            at = low.find(word, at + 1)
    if "=" in text and any(word in low for word in _QUERY_WORDS):
        for found in _QUERY.finditer(text):
            if found.start() > 0 and text[found.start() - 1] in "?&;" and found.group(1) != MASK:
                spans.append(found.span(1))
    return _mask_spans(text, spans)


def _current_plan(environ: Mapping[str, str] | None = None) -> _Plan:
    global _plan
    values = secret_values(environ)
    if values != _plan.values:
        _plan = _Plan(values)
    return _plan


def secret_forms(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every literal form :func:`scrub` looks for (keys, their encodings, their ends).

    Args:
        environ: The environment (default: ``os.environ``).

    Returns:
        The forms, shortest first.
    """
    return _current_plan(environ).needles


def scrub(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Remove every secret (and its encoded forms) from ``text``.

    Fast when there is nothing to remove: plain substring tests decide whether the
    regular expressions run at all.

    Args:
        text: Any text bound for the user, the database, a report, an export or a log.
        environ: The environment (default: ``os.environ``).

    Returns:
        The text with each secret replaced by ``***``.
    """
    if not text:
        return text
    plan = _current_plan(environ)
    if plan.pattern is not None and any(needle in text for needle in plan.needles):
        text = plan.pattern.sub(MASK, text)
    return _generic(text)


def scrub_row(values: Sequence[Any]) -> list[Any]:
    """:func:`scrub` every string of a database row, in one pass over them all.

    Args:
        values: The row's values (strings, numbers, bytes, None).

    Returns:
        The values, strings scrubbed.
    """
    texts = [v for v in values if isinstance(v, str)]
    joined = "\0".join(texts)
    if texts and (joined.count("\0") != len(texts) - 1 or scrub(joined) != joined):
        return [scrub(v) if isinstance(v, str) else v for v in values]
    return list(values)


def scrub_data(data: Any) -> Any:
    """:func:`scrub` every string inside JSON-like data (keys and values alike).

    Args:
        data: Strings, numbers, mappings, lists and tuples, nested.

    Returns:
        A copy with every string scrubbed (other values as they were).
    """
    if isinstance(data, str):
        return scrub(data)
    if isinstance(data, Mapping):
        return {scrub_data(k): scrub_data(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [scrub_data(item) for item in data]
    return data


def _scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call: leave it to logging's own reporting
        return record
    record.msg, record.args = scrub(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    return record


def install_log_scrubbing() -> None:
    """Scrub every log record of the process (promptdeck's and its libraries') once created.

    Idempotent: the record factory is wrapped once.
    """
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_promptdeck_scrubs", False):
        return

    def scrubbed(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _scrub_record(factory(*args, **kwargs))

    scrubbed._promptdeck_scrubs = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(scrubbed)
