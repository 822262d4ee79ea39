"""What the worker tests share: a stub server in a thread, a queued suite, the database."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from promptdeck.core.evals.plan import plan_suite
from promptdeck.core.evals.queue import queue_run
from promptdeck.core.evals.worker import Worker
from promptdeck.core.gateway.engine import Gateway
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from tests.stub_openai import Reply, StubServer, run_stub_in_thread


@dataclass
class Stub:
    """The stub OpenAI-compatible server, served from a thread of its own."""

    base: str
    server: StubServer
    gate: threading.Event = field(default_factory=threading.Event)

    def tickets(self) -> Counter[str]:
        """How often each ticket was asked for."""
        return Counter(str(r["messages"][-1]["content"]) for r in list(self.server.requests))

    @property
    def calls(self) -> int:
        """Requests received so far."""
        return len(self.server.requests)


@contextmanager
def threaded_stub(delay: float = 0.0, *, held: bool = False) -> Iterator[Stub]:
    """Serve the stub answering ``technical`` (after ``delay``); ``held``: wait for its gate."""
    gate = threading.Event()
    if not held:
        gate.set()
    server = StubServer(default=Reply(text="technical", delay=delay), gate=gate)
    with run_stub_in_thread(server) as base:
        try:
            yield Stub(base, server, gate)
        finally:
            gate.set()


@contextmanager
def lab_workspace(
    paths: WorkspacePaths, base: str, n: int, extra_toml: str = ""
) -> Iterator[Workspace]:
    """The workspace at ``paths`` with :func:`configure`'s model and suite, open and synced."""
    configure(paths, base, n, extra_toml)
    workspace = Workspace.open(paths)
    try:
        workspace.sync()
        yield workspace
    finally:
        workspace.close()


def configure(paths: WorkspacePaths, base: str, n: int, extra_toml: str = "") -> None:
    """A ``lab`` model at the stub and a suite ``many`` of ``n`` tickets asking it."""
    toml = paths.root / "promptdeck.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        f'{text}\n[models.lab]\nmodel = "openai/lab"\napi_base = "{base}"\n{extra_toml}',
        encoding="utf-8",
    )
    rows = "\n".join(json.dumps({"vars": {"ticket": f"ticket {i}"}}) for i in range(n))
    (paths.datasets / "many.jsonl").write_text(rows + "\n")
    (paths.suites / "many.suite.yaml").write_text(
        "prompts: [classify-ticket]\nmodels: [lab]\n"
        "defaults:\n  assert: [{type: icontains, value: tech}]\n"
        "cases:\n  - dataset: datasets/many.jsonl\n"
    )


def queue(workspace: Workspace, suite: str = "many", cache: str = "read") -> str:
    """Queue a run of ``suite``; its id."""
    return queue_run(workspace, plan_suite(workspace, suite), cache=cache)


def cell_rows(workspace: Workspace, uid: str) -> list[Any]:
    """The run's cells: id, status, output, claimed_by."""
    from sqlalchemy import text

    with workspace.session() as session:
        return list(
            session.execute(
                text(
                    "SELECT c.id, c.status, c.output, c.claimed_by FROM run_cell c "
                    "JOIN run r ON r.id = c.run_id WHERE r.uid = :uid ORDER BY c.id"
                ),
                {"uid": uid},
            ).all()
        )


def scalar(workspace: Workspace, sql: str, **params: Any) -> Any:
    """One value read from the workspace's database."""
    from sqlalchemy import text

    with workspace.session() as session:
        return session.execute(text(sql), params).scalar()


class WorkerThread:
    """A worker with a gateway of its own, run in a thread (as another process would)."""

    def __init__(self, workspace: Workspace, **options: Any) -> None:
        self.workspace = workspace
        self.options = options
        self.loop = asyncio.new_event_loop()
        self.worker: Worker | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.budget_refresh: float | None = None

    def _main(self) -> None:
        async def go() -> None:
            gateway = Gateway.for_workspace(self.workspace)
            try:
                self.worker = Worker(self.workspace, gateway, **self.options)
                if self.budget_refresh is not None:
                    gateway.budgets.refresh_seconds = self.budget_refresh
                self.ready.set()
                await self.worker.run()
            finally:
                await gateway.aclose()

        try:
            self.loop.run_until_complete(go())
        except BaseException as exc:
            self.error = exc
        finally:
            self.ready.set()

    def start(self) -> WorkerThread:
        """Start it; return it."""
        self.thread.start()
        assert self.ready.wait(30)
        return self

    def stop(self) -> None:
        """Ctrl+C: finish the cells in hand and leave."""
        assert self.worker is not None
        self.loop.call_soon_threadsafe(self.worker.stop)

    def join(self, timeout: float = 120) -> None:
        """Wait for it to end; raise what it raised."""
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the worker did not end"
        if self.error is not None:
            raise self.error
