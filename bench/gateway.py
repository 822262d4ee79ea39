"""Benchmark the gateway's fast path against a plain aiohttp client (not a timed test).

Starts a local OpenAI-compatible stub server (aiohttp, 127.0.0.1 only, in its own
process, with a configurable latency, and a bounded lifetime), then makes the same
calls (200 cases × 3 models at concurrency 16 by default) three ways in one run:

1. a plain ``aiohttp`` client posting to ``/chat/completions`` (the floor);
2. promptdeck's gateway (routing, retries, limits, cost, traces, spend, exact
   cache writes, all recorded in a workspace database);
3. the gateway again on the same calls, now served from the exact cache.

Usage::

    .venv/bin/python bench/gateway.py [--latency-ms 50] [--cases 200] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODELS = ["stub-a", "stub-b", "stub-c"]


# -- the stub server (in its own process) ----------------------------------------------


def _serve(port: int, latency: float, lifetime: float) -> None:
    from aiohttp import web

    arrivals: list[float] = []

    async def handle(request: web.Request) -> web.Response:
        arrivals.append(time.time())
        body = await request.json()
        await asyncio.sleep(latency)
        content = f"answer to {body['messages'][-1]['content'][:40]}"
        return web.json_response(
            {
                "id": "bench",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18},
            }
        )

    async def seen(_request: web.Request) -> web.Response:
        """When the calls since the last look arrived (epoch seconds), then forget them."""
        found = {
            "count": len(arrivals),
            "first": min(arrivals, default=None),
            "last": max(arrivals, default=None),
        }
        arrivals.clear()
        return web.json_response(found)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handle)
        app.router.add_get("/v1/_arrivals", seen)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        await asyncio.sleep(lifetime)  # bounded: never outlives a stuck benchmark
        await runner.cleanup()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the stub server did not start")


# -- the three clients ------------------------------------------------------------------


def _cases(n: int) -> list[list[dict[str, str]]]:
    return [
        [
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": f"Case {i}: what is {i} plus {i * 7}?"},
        ]
        for i in range(n)
    ]


async def plain_aiohttp(base: str, cases: list[Any], concurrency: int) -> dict[str, Any]:
    import aiohttp

    sem = asyncio.Semaphore(concurrency)
    errors = 0

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:

        async def one(model: str, messages: Any) -> None:
            nonlocal errors
            async with (
                sem,
                session.post(
                    f"{base}/chat/completions",
                    json={"model": model, "messages": messages, "temperature": 0},
                ) as response,
            ):
                data = await response.json()
                if response.status != 200 or not data["choices"][0]["message"]["content"]:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*[one(m, c) for m in MODELS for c in cases])
        wall = time.perf_counter() - start
    return {"wall_s": wall, "errors": errors}


async def through_gateway(gateway: Any, cases: list[Any], concurrency: int) -> dict[str, Any]:
    from promptdeck.core.gateway.engine import CallSpec

    sem = asyncio.Semaphore(concurrency)
    results: list[Any] = []

    async def one(model: str, messages: Any) -> None:
        async with sem:
            results.append(
                await gateway.call(
                    CallSpec(model=model, messages=messages, params={"temperature": 0})
                )
            )

    cpu0 = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*[one(m, c) for m in MODELS for c in cases])
    calls = time.perf_counter() - start
    await gateway.flush()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    errors = [r.completion.error for r in results if r.completion.error]
    caches: dict[str, int] = {}
    for r in results:
        caches[r.cache] = caches.get(r.cache, 0) + 1
    return {
        "calls_s": calls,
        "wall_s": wall,
        "cpu_s": cpu,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "cache": caches,
    }


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from promptdeck.config import parse_config
    from promptdeck.core.gateway.engine import Gateway
    from promptdeck.core.workspace.init import init_workspace
    from promptdeck.core.workspace.offline import apply_offline_environment
    from promptdeck.core.workspace.workspace import Workspace

    apply_offline_environment()
    port = _free_port()
    base = f"http://127.0.0.1:{port}/v1"
    lifetime = max(120.0, args.cases * 3 * (args.latency_ms / 1000) * 4)
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(port, args.latency_ms / 1000, lifetime), daemon=True
    )
    server.start()
    try:
        _wait_for(port)
        cases = _cases(args.cases)
        n = len(cases) * len(MODELS)
        rss0 = _rss_mb()
        # Warm the connection path once (both clients), then the floor.
        await plain_aiohttp(base, cases[:4], args.concurrency)
        floor = await plain_aiohttp(base, cases, args.concurrency)
        rss_floor = _rss_mb()

        with tempfile.TemporaryDirectory() as tmp:
            paths = init_workspace(Path(tmp) / "bench")
            models = "\n".join(
                f'[models.{m}]\nmodel = "openai/{m}"\napi_base = "{base}"\n' for m in MODELS
            )
            text = f"max_retries = 2\n{models}\n[concurrency]\ndefault = {args.concurrency}\n"
            paths.config.write_text(text, encoding="utf-8")
            parse_config(text, paths.config)
            workspace = Workspace.open(paths)
            gateway = Gateway.for_workspace(workspace)
            warm = time.perf_counter()
            gateway.costs.warm([(m, f"openai/{m}") for m in MODELS])
            warm_s = time.perf_counter() - warm
            fresh = await through_gateway(gateway, cases, args.concurrency)
            rss_fresh = _rss_mb()
            cached = await through_gateway(gateway, cases, args.concurrency)
            rss_cached = _rss_mb()
            # A new gateway (a new process's view): every answer comes from the database.
            await gateway.aclose()
            cold = Gateway.for_workspace(workspace)
            cold.costs.warm([(m, f"openai/{m}") for m in MODELS])
            from_db = await through_gateway(cold, cases, args.concurrency)
            await cold.aclose()
            import sqlite3

            with sqlite3.connect(paths.database) as db:
                counts = {
                    t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("completion", "trace", "span", "spend", "cache_entry")
                }
            workspace.close()
    finally:
        server.terminate()
        server.join(5)
    return {
        "calls": n,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "aiohttp_floor": {**floor, "calls_per_s": n / floor["wall_s"]},
        "gateway_fresh": {
            **fresh,
            "calls_per_s": n / fresh["wall_s"],
            "ratio_to_floor": fresh["wall_s"] / floor["wall_s"],
        },
        "gateway_cached_rerun_same_process": {**cached, "calls_per_s": n / cached["wall_s"]},
        "gateway_cached_rerun_new_gateway": {**from_db, "calls_per_s": n / from_db["wall_s"]},
        "litellm_price_map_load_s": warm_s,
        "peak_rss_mb": {
            "start": rss0,
            "after_floor": rss_floor,
            "after_gateway": rss_fresh,
            "after_cached": rss_cached,
        },
        "rows_written": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2, default=str))
    fresh = result["gateway_fresh"]
    print(
        f"\nfloor {result['aiohttp_floor']['wall_s']:.2f} s · gateway {fresh['wall_s']:.2f} s "
        f"({fresh['ratio_to_floor']:.2f}× floor; target ≤ 1.5×) · cached rerun "
        f"{result['gateway_cached_rerun_new_gateway']['wall_s']:.2f} s (target < 1 s)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
