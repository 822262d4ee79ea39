"""A scripted OpenAI-compatible server on 127.0.0.1 for tests (never the network)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    status: int = 200
    text: str = "stub answer"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    delay: float = 0.0
    chunk: int = 0
    """Streamed in pieces of this many characters (0: word by word)."""
    logprobs: list[float] | None = None
    """Token logprobs, sent (one per piece when streamed) only to a request asking for them."""


_Permits = threading.Semaphore


@dataclass
class StubServer:
    replies: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    base: str = ""
    respond: Callable[[dict[str, Any]], Reply] | None = None
    """Picks the reply from the request's body (instead of ``replies``/``default``)."""
    gate: threading.Event | threading.Semaphore | None = None
    """When given, every answer waits until it is set (a test holds calls in flight)."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if self.respond is not None:
            reply = self.respond(body)
        else:
            reply = self.replies.pop(0) if self.replies else self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if self.gate is not None:  # set (an Event) or released (a Semaphore) by the test
            wait = self.gate.acquire if isinstance(self.gate, _Permits) else self.gate.wait
            await asyncio.to_thread(wait)
        if reply.status != 200:
            return web.Response(
                status=reply.status,
                text=reply.body or json.dumps({"error": {"message": f"status {reply.status}"}}),
                headers=reply.headers,
                content_type="application/json",
            )
        logprobs = reply.logprobs if body.get("logprobs") is True else None
        if body.get("stream"):
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            size = reply.chunk
            pieces = (
                [reply.text[at : at + size] for at in range(0, len(reply.text), size)]
                if size
                else [word + " " for word in reply.text.split(" ")]
            )
            for i, piece in enumerate(pieces):
                chunk: dict[str, Any] = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                if logprobs is not None:  # the last piece carries what is left
                    mine = logprobs[i : i + 1] if i < len(pieces) - 1 else logprobs[i:]
                    content = [{"token": piece, "logprob": lp, "top_logprobs": []} for lp in mine]
                    chunk["choices"][0]["logprobs"] = {"content": content}
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            done = {
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            }
            await response.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
            await response.write_eof()
            return response
        return web.json_response(
            {
                "id": "x",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.text},
                        "finish_reason": "stop",
                        "logprobs": None
                        if logprobs is None
                        else {
                            "content": [
                                {"token": f"t{i}", "logprob": lp, "top_logprobs": []}
                                for i, lp in enumerate(logprobs)
                            ]
                        },
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            }
        )


@asynccontextmanager
async def stub_server(server: StubServer | None = None) -> AsyncIterator[StubServer]:
    stub = server or StubServer()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", stub.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stub.base = f"http://127.0.0.1:{port}/v1"
    try:
        yield stub
    finally:
        await runner.cleanup()


@contextmanager
def run_stub_in_thread(server: StubServer) -> Iterator[str]:
    """Serve ``server`` from a thread of its own (for code that runs its own loop); the base URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        async with stub_server(server):
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the stub server did not start"
    try:
        yield server.base
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
