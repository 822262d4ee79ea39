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

A leaf module: any layer may import it, and it imports nothing of promptdeck's but
:mod:`promptdeck.secrecy_forms` (what a scrub looks for).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from promptdeck.secrecy_forms import MASK, MIN_SECRET_LENGTH, Plan

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
    "scrub_rows",
    "secret_forms",
    "secret_values",
]

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
    global _values
    if value and len(value.strip()) >= MIN_SECRET_LENGTH and value.strip() not in _values:
        with _lock:
            _values = _values | {value.strip()}


def remember_variable(name: str | None) -> None:
    """Register a variable that holds a key: its value, whatever it is, is scrubbed.

    Args:
        name: The variable's name (an alias's ``api_key_env``); None is ignored.
    """
    global _variables
    if name and name not in _variables:
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
        self.known: set[Any] = set()
        self.names: tuple[str, ...] = ()
        self.keys: tuple[Any, ...] = ()
        self.registered: frozenset[str] = frozenset()
        self.values: tuple[Any, ...] | None = None
        self.secrets: frozenset[str] = frozenset()
        self.parts: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
        self.union: frozenset[str] = frozenset()

    def current(self, registered: frozenset[str]) -> frozenset[str]:
        env = os.environ
        # CPython keeps os.environ's encoded variables in a dict that every change made
        # through os.environ updates: its raw values tell at C speed whether a secret
        # variable changed (decoding each one per call costs more than the scrub).
        data: dict[Any, Any] | None = getattr(env, "_data", None)
        encode = getattr(env, "encodekey", None)
        if data is None or encode is None:
            data, encode = env, str  # type: ignore[assignment]
        assert data is not None and encode is not None
        # The names, not only their count: a variable removed and another added.
        if len(data) != self.size or registered is not self.registered or data.keys() != self.known:
            self.size, self.registered = len(data), registered
            self.known = set(data.keys())
            self.names = tuple(n for n in env if n in registered or looks_secret(n))
            self.keys = tuple(encode(n) for n in self.names)
            self.values = None  # read them again, even when there are none now
        values = tuple(map(data.get, self.keys))
        if values != self.values:
            self.values = values
            read = (env.get(name) for name in self.names)
            self.secrets = frozenset(
                v.strip() for v in read if v and len(v.strip()) >= MIN_SECRET_LENGTH
            )
        return self.secrets

    def with_registered(self, found: frozenset[str], registered: frozenset[str]) -> frozenset[str]:
        """``found`` and the environment's secrets: the same set object while neither changed."""
        secrets = self.current(registered)
        if self.parts[0] is not found or self.parts[1] is not secrets:
            self.parts, self.union = (found, secrets), found | secrets
        return self.union


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
            return _env_watch.with_registered(found, names)
    return found | _from_environment(environ, set(names))


_plan = Plan(frozenset())


def _current_plan(environ: Mapping[str, str] | None = None) -> Plan:
    global _plan
    values = secret_values(environ)
    plan = _plan
    if values is not plan.values and values != plan.values:
        plan = _plan = Plan(values)
    return plan


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
    if environ is not None:
        return plan.scrub(text)
    if text in plan.clean:
        return text
    out = plan.scrub(text)
    if out is text or out == text:
        plan.keep_clean(text)
    return out


def scrub_row(values: Sequence[Any]) -> list[Any]:
    """:func:`scrub` every string of a database row, in one pass over them all.

    Args:
        values: The row's values (strings, numbers, bytes, None).

    Returns:
        The values, strings scrubbed.
    """
    return scrub_rows([values])[0]


def scrub_rows(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """:func:`scrub` every string of many rows, in one pass over them all when none holds a key.

    Args:
        rows: The rows' values (strings, numbers, bytes, None).

    Returns:
        The rows, strings scrubbed.
    """
    plan = _current_plan()
    clean = plan.clean
    texts = [v for row in rows for v in row if isinstance(v, str) and v and v not in clean]
    joined = "\0".join(texts)
    if texts and (joined.count("\0") != len(texts) - 1 or plan.scrub(joined) != joined):
        return [[scrub(v) if isinstance(v, str) else v for v in row] for row in rows]
    return [list(row) for row in rows]


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
