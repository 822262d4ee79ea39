"""Answers to calls sent before their run was recorded, and the journal that keeps them.

A new eval run sends its first requests while the store is still opening
(:mod:`promptdeck.core.evals.early_start`). The gateway's calls then take these
answers instead of calling again (:attr:`Gateway.early
<promptdeck.core.gateway.engine.Gateway.early>`), matched by exact-cache key.

Each answer is appended to a journal,
``.promptdeck/early/<pid>-<start>-<token>.jsonl`` (one JSON line, secrets masked), the
moment it arrives, before anything uses it; the journal is removed once every answer
in it is recorded as a call. A process killed in between leaves its journal behind.
The next eval run in the workspace records what an orphaned journal holds (its cost,
its trace, its exact-cache entry), each answer once (it keeps the trace id it was
given when it arrived), so an answer that arrived is not paid for twice: a rerun is
served it from the cache.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from promptdeck.core.gateway.spec import CallSpec
from promptdeck.core.providers.base import Completion, Usage
from promptdeck.core.providers.logprobs import Logprobs
from promptdeck.core.providers.router import ModelRouter
from promptdeck.core.providers.targets import Attempt
from promptdeck.secrecy import scrub

if TYPE_CHECKING:
    from promptdeck.core.gateway.engine import Gateway

__all__ = [
    "EarlyAnswer",
    "EarlySource",
    "Journal",
    "claim_journal",
    "journaled_keys",
    "orphaned_journals",
    "read_journal",
    "record_orphaned",
]

JOURNALS = "early"
"""The folder of the journals, under the workspace's ``.promptdeck/``."""


@dataclass
class EarlyAnswer:
    """The answer to a request sent before its run was recorded.

    Attributes:
        uid: The trace id it is recorded under (kept from its arrival: recorded once).
        key: Its exact-cache key.
        spec: The call as it was sent.
        model_name: The model it was sent to (an alias or model string).
        completion: What came back.
        attempts: The models tried, in order.
        started: When it was sent (UTC).
        seconds: How long it took.
    """

    uid: str
    key: str
    spec: CallSpec
    model_name: str
    completion: Completion
    attempts: list[Attempt] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0


class EarlySource(Protocol):
    """Where the gateway finds the answers of requests sent early."""

    def take(self, key: str) -> Awaitable[EarlyAnswer | None] | None:
        """The answer (or the call under way) for ``key``, once; None: none was sent."""


class Journal:
    """One process's journal of early answers (created with its first line).

    Args:
        state: The workspace's ``.promptdeck/`` folder.
    """

    def __init__(self, state: Path) -> None:
        self.path = state / JOURNALS / _journal_name()
        self._file: Any = None

    def append(self, answer: EarlyAnswer) -> None:
        """Write one answer (flushed to the OS: a killed process keeps it)."""
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(scrub(json.dumps(_answer_json(answer), ensure_ascii=False)) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the journal and keep it (for the next run to record)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def remove(self) -> None:
        """Close and delete the journal: every answer in it is recorded.

        One that cannot be deleted stays: the next run reads it and records nothing
        twice (each answer keeps its trace id).
        """
        self.close()
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


def orphaned_journals(state: Path) -> list[Path]:
    """The journals of processes that are gone (left by a kill), oldest first."""
    folder = state / JOURNALS
    try:
        found = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return []
    return [path for path in found if not _alive(*path.name.split("-")[:2])]


def _journal_name() -> str:
    """``<pid>-<start>-<token>.jsonl``: the process, when it started, a random token."""
    return f"{os.getpid()}-{_started(os.getpid())}-{secrets.token_hex(4)}.jsonl"


def _started(pid: int) -> str:
    """When a process started (clock ticks since boot, from ``/proc``), or ``0``: unknown.

    With it, a journal whose process id now belongs to another process is an orphan.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return stat.rsplit(")", 1)[1].split()[19]  # field 22, after the command's name
    except (OSError, IndexError):
        return "0"


def _alive(pid: str, started: str = "0") -> bool:
    """The journal's process still runs (the same process, when its start is known)."""
    if not pid.isdigit():
        return False
    if int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except OSError:  # it exists, under another user
            pass
    return not started.isdigit() or started == "0" or _started(int(pid)) in (started, "0")


def claim_journal(path: Path) -> Path | None:
    """Take an orphaned journal over (renamed as this process's), or None: another did.

    The rename is atomic, so two runs starting at once never record the same journal;
    one killed while recording leaves it an orphan again (its answers are recorded
    once: each keeps its trace id).
    """
    mine = path.with_name(_journal_name())
    try:
        path.rename(mine)
    except OSError:
        return None
    return mine


def journaled_keys(state: Path) -> set[str]:
    """The keys of the answers left in orphaned journals (the next run records them)."""
    keys: set[str] = set()
    for path in orphaned_journals(state):
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                keys.add(str(json.loads(line)["key"]))
            except (ValueError, KeyError, TypeError):
                continue
    return keys


def read_journal(path: Path, router: ModelRouter) -> list[EarlyAnswer]:
    """The answers of a journal (a line cut short by a kill, or damaged, is skipped)."""
    answers: list[EarlyAnswer] = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return answers
    for line in text.splitlines():
        try:
            answers.append(_answer_from(json.loads(line), router))
        except Exception:  # noqa: S112 (a damaged line, whatever the damage, is skipped)
            continue
    return answers


async def record_orphaned(gateway: Gateway, state: Path) -> int:
    """Record the answers journaled by runs killed before they were stored.

    Returns:
        How many answers were recorded (0: no journal was left, or each was recorded).
    """
    recorded = 0
    for path in orphaned_journals(state):
        mine = claim_journal(path)  # another run starting now may have claimed it
        if mine is not None:
            recorded += await gateway.record_early(read_journal(mine, gateway.router))
            with contextlib.suppress(OSError):  # left: read again, recorded nothing twice
                mine.unlink(missing_ok=True)
    return recorded


# -- the journal's lines ------------------------------------------------------------------


def _answer_json(answer: EarlyAnswer) -> dict[str, Any]:
    spec, done = answer.spec, answer.completion
    last = answer.attempts[-1] if answer.attempts else None
    return {
        "uid": answer.uid,
        "key": answer.key,
        "model_name": answer.model_name,
        "started": answer.started.isoformat(),
        "seconds": answer.seconds,
        "spec": {
            "model": spec.model,
            "messages": [dict(m) for m in spec.messages],
            "params": dict(spec.params),
            "overrides": dict(spec.overrides),
            "response_format": spec.response_format,
            "repeat": spec.repeat,
            "cache": spec.cache,
            "prompt_name": spec.prompt_name,
            "name": spec.name,
            "kind": spec.kind,
        },
        "completion": {
            "text": done.text,
            "prompt_tokens": done.usage.prompt_tokens,
            "completion_tokens": done.usage.completion_tokens,
            "estimated": done.usage.estimated,
            "cost_usd": done.cost_usd,
            "latency_ms": done.latency_ms,
            "ttft_ms": done.ttft_ms,
            "finish_reason": done.finish_reason,
            "model": done.model,
            "answered_by": done.answered_by,
            "provider": done.provider,
            "retries": done.retries,
            "logprobs": [done.logprobs.count, done.logprobs.total] if done.logprobs else None,
        },
        "attempt": (
            {
                "target": last.target.name,
                "provider": last.provider,
                "reason": last.reason,
                "started": last.started,
            }
            if last is not None
            else None
        ),
    }


def _answer_from(data: Mapping[str, Any], router: ModelRouter) -> EarlyAnswer:
    s, c = data["spec"], data["completion"]
    spec = CallSpec(
        model=str(s["model"]),
        messages=[{str(k): str(v) for k, v in m.items()} for m in s["messages"]],
        params=dict(s["params"]),
        overrides=dict(s["overrides"]),
        response_format=s.get("response_format"),
        repeat=int(s["repeat"]),
        cache=s.get("cache", "read"),
        prompt_name=s.get("prompt_name"),
        name=str(s.get("name", "chat")),
        kind=str(s.get("kind", "eval")),
    )
    logprobs = c.get("logprobs")
    done = Completion(
        text=str(c["text"]),
        usage=Usage(int(c["prompt_tokens"]), int(c["completion_tokens"]), bool(c["estimated"])),
        cost_usd=c.get("cost_usd"),
        latency_ms=float(c["latency_ms"]),
        ttft_ms=c.get("ttft_ms"),
        finish_reason=c.get("finish_reason"),
        model=str(c.get("model", "")),
        answered_by=str(c.get("answered_by", "")),
        provider=str(c.get("provider", "")),
        retries=int(c.get("retries", 0)),
        logprobs=Logprobs(int(logprobs[0]), float(logprobs[1])) if logprobs else None,
    )
    attempts: list[Attempt] = []
    if (last := data.get("attempt")) is not None:
        target = router.resolve(str(last["target"]))
        params = router.params(target, spec.params, spec.overrides)
        attempts.append(
            Attempt(
                target,
                str(last["provider"]),
                done,
                str(last["reason"]),
                float(last["started"]),
                params,
            )
        )
    return EarlyAnswer(
        uid=str(data["uid"]),
        key=str(data["key"]),
        spec=spec,
        model_name=str(data["model_name"]),
        completion=done,
        attempts=attempts,
        started=_utc(datetime.fromisoformat(str(data["started"]))),
        seconds=float(data["seconds"]),
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
