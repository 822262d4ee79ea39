"""Benchmark the trace list on a workspace with 100,000 traces (not a timed test).

Fills a fresh workspace database with N traces (varied prompts, models, statuses,
one span each), then times the page queries the Traces screen runs: the newest
page, a deep page, and each filter. Target: a page under 100 ms.

Usage::

    .venv/bin/python bench/traces.py [--traces 100000]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from promptdeck.core.workspace.init import init_workspace
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.traces_repo import TraceFilter, list_traces

PROMPTS = ["summarize", "classify-ticket", "customer-support", "extract-invoice"]
MODELS = ["local/smollm2-135m", "openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"]


def fill(db: Path, count: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        at = (start + timedelta(seconds=i * 7)).isoformat(timespec="microseconds")
        rows.append(
            (
                f"{i:032x}",
                PROMPTS[i % 4] + "@1",
                "call",
                PROMPTS[i % 4],
                MODELS[i % 3],
                "error" if i % 17 == 0 else "ok",
                250.0 + i % 900,
                120,
                0.0001,
                at,
                at,
            )
        )
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO trace (uid, name, kind, prompt_name, model, status, latency_ms, "
            "total_tokens, cost_usd, started_at, ended_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO span (trace_id, name, kind, status, attributes, started_at) "
            "VALUES (?, 'chat', 'llm', 'ok', '{}', ?)",
            [(i + 1, r[9]) for i, r in enumerate(rows)],
        )
        conn.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = init_workspace(Path(tmp) / "ws")
        workspace = Workspace.open(paths)
        started = time.perf_counter()
        fill(paths.database, args.traces)
        print(f"filled {args.traces} traces in {time.perf_counter() - started:.1f} s")
        cases = [
            ("newest page", TraceFilter(), 0),
            ("page 1,000 (offset 50,000)", TraceFilter(), 50_000),
            ("filter: model", TraceFilter(model=MODELS[1]), 0),
            ("filter: prompt", TraceFilter(prompt=PROMPTS[2]), 0),
            ("filter: status=error", TraceFilter(status="error"), 0),
            ("filter: since", TraceFilter(since=datetime(2026, 1, 5, tzinfo=UTC)), 0),
        ]
        print(f"| query (page of 50, {args.traces} traces) | median | worst |")
        print("|---|---:|---:|")
        for label, where, offset in cases:
            times = []
            for _ in range(args.repeat):
                with workspace.session() as session:
                    t0 = time.perf_counter()
                    page = list_traces(session, where, limit=50, offset=offset)
                    times.append((time.perf_counter() - t0) * 1000)
            assert len(page) == 50, label
            print(f"| {label} | {statistics.median(times):.1f} ms | {max(times):.1f} ms |")
        workspace.close()


if __name__ == "__main__":
    main()
