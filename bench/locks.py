"""Reproduce the "database is locked" mix with real processes (not a timed test).

Two `promptdeck --headless eval --no-cache` runs at concurrency 32 against a local
OpenAI-compatible stub, while a loop rewrites a prompt file and runs
`promptdeck --headless prompts list`. Prints how many of the `prompts list` runs
failed, and how (target: none, whatever the runs are doing).

Usage::

    .venv/bin/python bench/locks.py [--rounds 15] [--cases 400] [--latency-ms 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evals import _promptdeck, workspace
from gateway import _free_port, _serve, _wait_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--latency-ms", type=float, default=5)
    args = parser.parse_args()
    port = _free_port()
    server = multiprocessing.Process(
        target=_serve, args=(port, args.latency_ms / 1000, 900), daemon=True
    )
    server.start()
    _wait_for(port)
    env = {**os.environ, "BENCH_KEY": "bench"}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ws = workspace(Path(tmp), f"http://127.0.0.1:{port}/v1", args.cases, 1, 32)
            base = [*_promptdeck(), "--headless", "-w", str(ws)]
            evals = [
                subprocess.Popen(
                    [*base, "eval", "bench", "--no-cache", "--concurrency", "32"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(2)
            ]
            time.sleep(1.0)  # both runs are under way
            prompt = ws / "prompts" / "summarize.prompt.yaml"
            original = prompt.read_text(encoding="utf-8")
            failures: list[str] = []
            times: list[float] = []
            started = time.perf_counter()
            for n in range(args.rounds):
                prompt.write_text(f"description: round {n}\n{original}", encoding="utf-8")
                one = time.perf_counter()
                listed = subprocess.run(
                    [*base, "prompts", "list"], env=env, capture_output=True, text=True
                )
                times.append(time.perf_counter() - one)
                if listed.returncode != 0:
                    failures.append(listed.stderr.strip().splitlines()[0])
            loop = time.perf_counter() - started
            running = sum(p.poll() is None for p in evals)
            codes = [p.wait() for p in evals]
            eval_errors = [
                line for p in evals for line in (p.stderr.read() if p.stderr else "").splitlines()
            ]
        print(
            f"prompts list: {len(failures)} of {args.rounds} failed "
            f"({loop:.1f} s; {running} eval runs still going at the end of the loop)"
        )
        print("  seconds each: " + " ".join(f"{t:.2f}" for t in times))
        for line in failures[:3]:
            print(f"  {line}")
        locked = [line for line in eval_errors if "locked" in line or "busy" in line]
        print(f"eval runs: exit codes {codes}; {len(locked)} lock errors")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
