"""A scripted OpenAI-compatible server on 127.0.0.1 for tests (never the network)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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
    logprobs: list[float] | None = None
    """Token logprobs, sent (one per word when streamed) only to a request asking for them."""


@dataclass
class StubServer:
    replies: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    base: str = ""
    respond: Callable[[dict[str, Any]], Reply] | None = None
    """Picks the reply from the request's body (instead of ``replies``/``default``)."""

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
            words = reply.text.split(" ")
            for i, word in enumerate(words):
                chunk: dict[str, Any] = {
                    "choices": [{"index": 0, "delta": {"content": word + " "}}]
                }
                if logprobs is not None:  # the last word carries what is left
                    mine = logprobs[i : i + 1] if i < len(words) - 1 else logprobs[i:]
                    content = [{"token": word, "logprob": lp, "top_logprobs": []} for lp in mine]
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
