"""The OTLP/HTTP trace receiver behind ``promptdeck collect`` (aiohttp).

``POST /v1/traces`` takes an ``ExportTraceServiceRequest`` as protobuf
(``application/x-protobuf``) or JSON (``application/json``), plain or
``Content-Encoding: gzip``, and answers as the OTLP specification says: 200 with an
``ExportTraceServiceResponse`` in the request's encoding (``partial_success`` counting
spans left out), 400 for a body that is not an export, 401 without the bearer token
when one is required, 413 past the size limits (compressed or not: a gzip bomb stops
at the limit), 415 for another content type, 503 when the database stays busy.

Requests are decoded and written by one thread, one transaction each, so the event
loop keeps accepting while a batch is written and writes never contend.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptdeck.core.collect.decode import BadRequestError, decode_request
from promptdeck.core.collect.ingest import store_spans

if TYPE_CHECKING:
    from aiohttp import web
    from sqlmodel import Session

__all__ = ["MAX_BODY", "MAX_DECOMPRESSED", "Collector", "CollectorStats", "serve"]

MAX_BODY = 32 * 1024 * 1024
"""Largest request body accepted, as sent (bytes)."""
MAX_DECOMPRESSED = 128 * 1024 * 1024
"""Largest body accepted once decompressed (bytes)."""
PROTOBUF = "application/x-protobuf"
JSON_TYPE = "application/json"


class TooLargeError(Exception):
    """A body past a size limit."""


@dataclass
class CollectorStats:
    """What the collector has received since it started."""

    requests: int = 0
    spans: int = 0
    rejected: int = 0


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _status_protobuf(code: int, message: str) -> bytes:
    """A ``google.rpc.Status`` (code = 1, message = 2) in protobuf."""
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadRequestError(f"the body is not valid gzip ({exc})", "") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLargeError
    return out


class Collector:
    """Receive OTLP trace exports into a workspace.

    Args:
        session: Opens a session that commits on success (``Workspace.session``).
        token: The bearer token requests must carry, or None for none.
        max_body: Size limit of a request body as sent.
        max_decompressed: Size limit once decompressed.
        on_batch: Called (on the writer thread) after each stored request with its
            span count.
    """

    def __init__(
        self,
        session: Callable[[], AbstractContextManager[Session]],
        *,
        token: str | None = None,
        max_body: int = MAX_BODY,
        max_decompressed: int = MAX_DECOMPRESSED,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._session = session
        self._token = f"Bearer {token}".encode() if token else None
        self.max_body = max_body
        self.max_decompressed = max_decompressed
        self.on_batch = on_batch
        self.stats = CollectorStats()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collect-writer")

    def close(self) -> None:
        """Finish the writes under way and stop the writer thread."""
        self._writer.shutdown(wait=True)

    def app(self) -> web.Application:
        """The aiohttp application (serve it with ``auto_decompress=False``)."""
        from aiohttp import web

        application = web.Application(client_max_size=self.max_body + 1)
        application.router.add_post("/v1/traces", self.handle)
        return application

    def _authorized(self, header: str | None) -> bool:
        if self._token is None:
            return True
        return hmac.compare_digest((header or "").encode(), self._token)

    def _ingest(self, body: bytes, json_body: bool) -> tuple[int, list[str]]:
        spans, rejected = decode_request(body, json_body)
        if spans:
            with self._session() as session:
                rejected += store_spans(session, spans)
        self.stats.requests += 1
        self.stats.spans += len(spans)
        self.stats.rejected += len(rejected)
        if self.on_batch is not None:
            self.on_batch(len(spans))
        return len(spans), rejected

    async def _read(self, request: web.Request) -> bytes:
        if request.content_length is not None and request.content_length > self.max_body:
            raise TooLargeError
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > self.max_body:
                raise TooLargeError
            chunks.append(chunk)
        return b"".join(chunks)

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one ``POST /v1/traces``."""
        from aiohttp import web

        content_type = request.content_type
        json_body = content_type == JSON_TYPE
        if not self._authorized(request.headers.get("Authorization")):
            return self._error(401, "a bearer token is required", json_body)
        if content_type not in (PROTOBUF, JSON_TYPE):
            return self._error(415, f"unsupported content type {content_type!r}", json_body)
        encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
        try:
            body = await self._read(request)
            if encoding == "gzip":
                body = _gunzip(body, self.max_decompressed)
            elif encoding not in ("identity", ""):
                return self._error(415, f"unsupported content encoding {encoding!r}", json_body)
            loop = asyncio.get_running_loop()
            _, rejected = await loop.run_in_executor(self._writer, self._ingest, body, json_body)
        except TooLargeError:
            return self._error(413, "the request is too large", json_body)
        except BadRequestError as error:
            return self._error(400, error.title, json_body)
        except Exception as error:  # the database: busy past its timeout, full disk
            response = self._error(503, f"cannot store the spans: {error}", json_body)
            response.headers["Retry-After"] = "5"
            return response
        return web.Response(
            body=self._success(len(rejected), "; ".join(rejected[:5]), json_body),
            content_type=JSON_TYPE if json_body else PROTOBUF,
        )

    @staticmethod
    def _success(rejected: int, message: str, json_body: bool) -> bytes:
        if json_body:
            document: dict[str, Any] = {}
            if rejected:
                document["partialSuccess"] = {
                    "rejectedSpans": str(rejected),
                    "errorMessage": message,
                }
            return json.dumps(document).encode()
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceResponse,
        )

        response = ExportTraceServiceResponse()
        if rejected:
            response.partial_success.rejected_spans = rejected
            response.partial_success.error_message = message
        return bytes(response.SerializeToString())

    @staticmethod
    def _error(status: int, message: str, json_body: bool) -> web.Response:
        from aiohttp import web

        code = {400: 3, 401: 16, 413: 8, 415: 3, 503: 14}.get(status, 2)
        if json_body:
            body = json.dumps({"code": code, "message": message}).encode()
        else:
            body = _status_protobuf(code, message)
        return web.Response(
            status=status, body=body, content_type=JSON_TYPE if json_body else PROTOBUF
        )


async def serve(
    collector: Collector,
    host: str,
    port: int,
    *,
    ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve ``collector`` on ``host:port`` until ``stop`` is set (or the task is cancelled).

    Args:
        collector: The receiver.
        host: Address to bind.
        port: Port to bind (0: a free one).
        ready: Called with the bound port once listening.
        stop: Set to stop serving.
    """
    from aiohttp import web

    runner = web.AppRunner(collector.app(), auto_decompress=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = int(sockets[0].getsockname()[1]) if sockets else port
        if ready is not None:
            ready(bound)
        await (stop or asyncio.Event()).wait()
    finally:
        await runner.cleanup()
