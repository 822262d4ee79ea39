"""A new eval run's first calls, sent while the store is still opening.

Before a run can be recorded the store must open: SQLAlchemy, SQLModel and the
tables load (about 0.4 s of imports that hold the interpreter), the database is
migrated and the prompt files synced. A headless ``eval SUITE`` does not wait for it
when it can be sure of every call it will make. From the suite and prompt files
alone, :meth:`EarlyStart.plan` runs the checks a run's plan runs (every model known,
every assertion valid, every prompt rendering for every case: nothing is sent for a
suite that would be refused), builds each cell's request exactly as the runner does
(:mod:`.cell_request`, :mod:`promptdeck.core.gateway.request_fit`) and leaves out
those the exact cache answers. Its requests are then sent in cell order, as many at
once as the run would, while the store opens in a thread.

When the run starts, the gateway's call for a cell takes the answer of its request
(:attr:`Gateway.early <promptdeck.core.gateway.engine.Gateway.early>`) instead of
calling again, and records it as the fresh call it was (its latency, cost and trace
as they happened); no request is sent once the run has started calling. Requests
match by exact-cache key, so an answer only ever serves its own request, and one
sent but never taken (the run stopped first) is recorded too: what was paid shows.
Every answer is journaled the moment it arrives (:mod:`~promptdeck.core.gateway.
early_answers`), so a kill before the run was recorded loses nothing: the next run
records it, and a rerun is served it from the cache.

A run qualifies only when nothing could stop or change its calls before they are
made: one suite named, a SQLite workspace, no budget that blocks or switches models,
no ``--max-cost``, the exact
cache on, no input guardrails, no semantic cache for the suite, prompts named
without a version or label, every model an OpenAI-compatible endpoint (no ensemble,
no local model, no litellm), and at most :data:`MAX_CELLS` cells. Anything else, or
anything unexpected while planning, and the run starts as it always did (and reports
its problems as it always did).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promptdeck.config import WorkspaceConfig, parse_config
from promptdeck.core.evals.cell_request import cell_call
from promptdeck.core.evals.plan_checks import check_suite
from promptdeck.core.evals.suites import SUITE_SUFFIX, Case, load_suite
from promptdeck.core.gateway.context_stage import ContextWindows
from promptdeck.core.gateway.early_answers import (
    EarlyAnswer,
    Journal,
    journaled_keys,
)
from promptdeck.core.gateway.keys import trace_uid
from promptdeck.core.gateway.request_fit import fit_request
from promptdeck.core.gateway.spec import CacheMode, CallSpec
from promptdeck.core.guardrails.policy import Policy
from promptdeck.core.prompts.checks import load_prompt
from promptdeck.core.prompts.files import PROMPT_SUFFIX, PromptFile, parse_canonical
from promptdeck.core.prompts.templating import render_prompt
from promptdeck.core.providers.router import ModelRouter
from promptdeck.core.providers.targets import Attempt, ProviderFactory, default_provider_factory
from promptdeck.core.scorers import ScoringOptions
from promptdeck.core.workspace.offline import apply_offline_environment
from promptdeck.core.workspace.references import check_references
from promptdeck.paths import WorkspacePaths, find_workspace
from promptdeck.safeload.limits import read_text
from promptdeck.timeutil import utcnow

if TYPE_CHECKING:
    from promptdeck.core.gateway.engine import Gateway

__all__ = ["MAX_CELLS", "EarlyStart"]

MAX_CELLS = 5000
"""Bigger runs start as usual: checking their cases twice would cost more than it saves."""

FAST_SWITCH = 0.0005
"""The GIL's hand-over interval while the first calls share the process with the store
loading (seconds; Python's default is 0.005)."""

_DATABASE_URL_VARIABLE = "PROMPTDECK_DATABASE_URL"


@dataclass(frozen=True)
class _Request:
    """One request to send early: its key, its call (as fitted), its model."""

    key: str
    spec: CallSpec
    model_name: str


class EarlyStart:
    """The first requests of a new run, sent while the store opens (see the module).

    Attributes:
        router: The router the requests go through; the run's gateway takes it over
            (one set of per-model limits and connection pools for all the calls).
        sent: How many requests were sent early.
    """

    def __init__(
        self, state: Path, router: ModelRouter, requests: list[_Request], concurrency: int
    ) -> None:
        self.router = router
        self.sent = 0
        self._requests = requests
        self._concurrency = concurrency
        self._calls: dict[str, asyncio.Task[EarlyAnswer]] = {}
        self._journal = Journal(state)
        self._issuer: asyncio.Task[None] | None = None
        self._stopped = False
        self._switch: float | None = None
        self._unjournaled = False

    # -- planning -----------------------------------------------------------------------

    @classmethod
    def plan(
        cls,
        workspace: Path | None,
        suites: Sequence[str],
        *,
        cache: CacheMode,
        concurrency: int | None,
        max_cost: float | None,
    ) -> EarlyStart | None:
        """The early start of ``eval SUITE``, or None when the run must start as usual."""
        if len(suites) != 1 or max_cost is not None:
            return None
        try:
            return cls._plan(find_workspace(workspace), suites[0], cache, concurrency)
        except Exception:  # the run starts as usual, and reports the problem as usual
            return None

    @classmethod
    def _plan(
        cls, paths: WorkspacePaths, name: str, cache: CacheMode, concurrency: int | None
    ) -> EarlyStart | None:
        text = read_text(paths.config, paths.config, what="workspace configuration")
        config = parse_config(text, paths.config)
        check_references(config, text, paths.config)
        if not _qualifies(config, paths):
            return None
        path = paths.suites / f"{name}{SUITE_SUFFIX}"
        if not path.is_file():
            return None
        suite = load_suite(path, paths)
        if suite.file.cache == "semantic":
            return None
        models = list(dict.fromkeys(suite.file.models)) or [config.default_model]
        router = ModelRouter(config, _provider_factory(config, paths.root))
        if not all(_plain_endpoint(config, router, m) for m in models):
            return None
        files = _prompt_files(paths, suite.file.prompts, config)
        if files is None:
            return None
        repeat = suite.file.repeat
        if len(files) * len(models) * repeat * len(suite.cases) > MAX_CELLS:
            return None
        apply_offline_environment(paths.state)
        options = ScoringOptions(
            allow_python=config.evals.allow_python,
            workspace_root=paths.root,
            state_dir=paths.state,
        )
        windows = ContextWindows(config, paths.root)
        requests = _requests(suite.name, suite.cases, files, models, repeat, windows, router, cache)
        if cache == "read" and paths.database.is_file():  # no file yet: nothing cached
            requests = _uncached(paths.database, requests)
        # Answers a killed run left are recorded before this run calls: not sent again.
        left = journaled_keys(paths.state)
        requests = [r for r in requests if r.key not in left]
        if not requests:  # the cache answers the run: it starts as usual
            return None
        # The whole plan's checks, before anything is sent (the run's own plan repeats
        # them; a suite it would refuse sends nothing).
        check_suite(suite, files, config, options)
        for model in models:  # its provider (and HTTP client) loaded now, not mid-call
            router.factory(router.resolve(model))
        return cls(paths.state, router, requests, concurrency or suite.file.concurrency or 8)

    # -- sending --------------------------------------------------------------------------

    def start(self) -> None:
        """Start sending (on the running event loop).

        Until :meth:`take` or :meth:`close`, the interpreter hands the GIL over every
        0.5 ms instead of 5 ms: the store loads in a thread meanwhile, and an answer
        that arrives should not wait for a slice of that thread's imports.
        """
        import aiohttp  # noqa: F401 (loaded before the loop sends: not mid-call)

        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch, FAST_SWITCH))
        self._issuer = asyncio.get_running_loop().create_task(self._issue())

    def _settle(self) -> None:
        """Stop sending; the GIL's hand-over interval back to what it was."""
        self._stopped = True
        if self._switch is not None:
            sys.setswitchinterval(self._switch)
            self._switch = None

    async def _issue(self) -> None:
        limit = asyncio.Semaphore(self._concurrency)
        for request in self._requests:
            await limit.acquire()
            if self._stopped:
                return
            task = asyncio.create_task(self._send(request))
            task.add_done_callback(lambda _: limit.release())
            self._calls[request.key] = task
            self.sent += 1

    async def _send(self, request: _Request) -> EarlyAnswer:
        spec = request.spec
        started, perf = utcnow(), time.perf_counter()
        attempts: list[Attempt] = []
        done = await self.router.complete(
            request.model_name,
            spec.messages,
            spec.params,
            spec.response_format,
            attempts=attempts,
            overrides=spec.overrides,
        )
        answer = EarlyAnswer(
            trace_uid(),
            request.key,
            spec,
            request.model_name,
            done,
            attempts,
            started,
            time.perf_counter() - perf,
        )
        if done.ok and not self._unjournaled:
            try:
                self._journal.append(answer)
            except OSError:  # not kept past a kill: send no more early, use this one
                self._unjournaled = True
                self._stopped = True
        return answer

    def take(self, key: str) -> asyncio.Task[EarlyAnswer] | None:
        """The answer (or the call under way) for ``key``, once; None: it was not sent.

        The first call of the run stops the sending: the run sends what is left.
        """
        self._settle()
        return self._calls.pop(key, None)

    async def close(self, gateway: Gateway | None) -> None:
        """Stop sending; record the answers no call took; remove the journal.

        Without a gateway (the store never opened) the journal stays, for the next
        run to record.
        """
        self._settle()
        if self._issuer is not None:
            self._issuer.cancel()
        left = list(self._calls.values())
        self._calls.clear()
        for task in left:
            task.cancel()  # a call under way that nothing will use
        await asyncio.gather(*left, return_exceptions=True)
        answers = [t.result() for t in left if not t.cancelled() and t.exception() is None]
        if gateway is None:
            self._journal.close()
            return
        await gateway.record_early(answers)
        self._journal.remove()


# -- planning, step by step ---------------------------------------------------------------


def _qualifies(config: WorkspaceConfig, paths: WorkspacePaths) -> bool:
    """A workspace whose calls nothing can stop or change before they are made."""
    return (
        not os.environ.get(_DATABASE_URL_VARIABLE, "").strip()
        and not config.database_url
        and config.evals.max_cost is None
        # A budget that only warns neither stops nor switches a call.
        and all(budget.action == "warn" for budget in config.budgets.values())
        and config.cache.exact
    )


def _plain_endpoint(config: WorkspaceConfig, router: ModelRouter, model: str) -> bool:
    """An OpenAI-compatible endpoint whose fallbacks never serve a stored answer.

    A call sent early has no store to fall back on (``on_timeout = "cached"``), and an
    ensemble or a local model gains nothing from an early start.
    """
    seen: set[str] = set()
    todo = [model]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        target = router.resolve(name)
        if name in config.ensembles or target.kind != "http":
            return False
        alias = target.alias
        for then in (alias.on_rate_limit, alias.on_timeout, alias.on_error) if alias else ():
            if then == "cached":
                return False
            if then:
                todo.append(then)
    return True


def _prompt_files(
    paths: WorkspacePaths, refs: Sequence[str], config: WorkspaceConfig
) -> list[PromptFile] | None:
    """The suite's prompts as the sync will store them (None: not from files alone)."""
    files: dict[str, PromptFile] = {}
    for ref in refs:
        if "@" in ref:  # a stored version or label: only the store knows it
            return None
        if ref in files:
            continue
        path = paths.prompts / f"{ref}{PROMPT_SUFFIX}"
        rel = paths.relative(path)
        parsed = load_prompt(read_text(path, rel, what="prompt file"), rel)
        prompt = parse_canonical(ref, parsed.canonical)  # as the run reads its version
        guardrails = prompt.guardrails if prompt.guardrails is not None else config.guardrails
        if prompt.name != ref or Policy.of(guardrails).input:
            return None
        files[ref] = prompt
    return list(files.values()) or None


def _requests(
    suite: str,
    cases: Sequence[Case],
    files: Sequence[PromptFile],
    models: Sequence[str],
    repeat: int,
    windows: ContextWindows,
    router: ModelRouter,
    cache: CacheMode,
) -> list[_Request]:
    """Every cell's request, in the run's cell order, each once (refused ones left out)."""
    config = router.config
    requests: list[_Request] = []
    seen: set[str] = set()
    for case in cases:
        for prompt in files:
            rendered = render_prompt(prompt, case.vars, allow_extra=True, config=config)
            for model in models:
                for index in range(repeat):
                    spec = cell_call(
                        rendered,
                        case.asserts,
                        model=model,
                        repeat=index,
                        cache=cache,
                        name=f"{suite}#{case.index}",
                        prompt_name=prompt.name,
                    )
                    fitted = fit_request(spec, model, router, windows)
                    if fitted.fit.refused or fitted.key in seen:
                        continue
                    seen.add(fitted.key)
                    requests.append(_Request(fitted.key, fitted.spec, model))
    return requests


def _uncached(database: Path, requests: list[_Request]) -> list[_Request]:
    """The requests the exact cache does not answer (read with ``sqlite3``, read-only)."""
    found: set[str] = set()
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        for start in range(0, len(requests), 500):
            keys = [r.key for r in requests[start : start + 500]]
            marks = ",".join("?" * len(keys))
            query = f"SELECT key FROM cache_entry WHERE kind = 'exact' AND key IN ({marks})"  # noqa: S608
            rows = connection.execute(query, keys)  # (only placeholders are joined in)
            found.update(str(row[0]) for row in rows)
    finally:
        connection.close()
    return [r for r in requests if r.key not in found]


def _provider_factory(config: WorkspaceConfig, root: Path) -> ProviderFactory:
    """The providers the run's gateway would build (its factory, when already loaded)."""
    engine = sys.modules.get("promptdeck.core.gateway.engine")
    if engine is not None:
        factory: ProviderFactory = engine.make_provider_factory(config, root)
        return factory
    return default_provider_factory(config, root)
