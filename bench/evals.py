"""Benchmark `promptdeck --headless eval`, whole process included (not a timed test).

1. The matrix of the gateway benchmark as a suite: 200 cases × 3 models, two
   assertions per cell (`contains`, `regex`), concurrency 16, against a local
   OpenAI-compatible stub with 50 ms latency; beside it, a plain aiohttp client
   making the same 600 calls (the floor: the calls alone, timed in this process).
   Target: at most 1.3× the floor. Beside the wall time: when the process's first
   call reached the stub (its start-up: imports, opening the workspace, planning)
   and the process's CPU time, figures that load on a shared machine disturbs less
   than the ratio. For reference, the same plain client as a whole process of its
   own (interpreter start and the aiohttp import included, as for the eval).
   ``--runs N`` repeats the fresh run and its floors N times, interleaved, and
   reports medians. promptdeck's modules are compiled to bytecode first, as pip does
   when it installs a package (an editable checkout where PYTHONDONTWRITEBYTECODE is
   set would otherwise compile them again in every process it times).
2. The same run again, served from the exact cache. Target: under 1.5 s wall time.
3. Peak memory of a 20,000-cell suite (fast stub). Target: well under 500 MB.

Usage::

    .venv/bin/python bench/evals.py [--latency-ms 50] [--cases 200] [--big 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway import _cases, _free_port, _serve, _wait_for, plain_aiohttp

PROMPT = """\
name: bench
template: "Case {{ i }}: what is {{ i }} plus {{ j }}?"
system: You answer briefly.
variables:
  i: {type: integer, required: true}
  j: {type: integer, required: true}
"""


def workspace(root: Path, base: str, cases: int, models: int, concurrency: int) -> Path:
    ws = root / "ws"
    subprocess.run([*_promptdeck(), "init", str(ws)], check=True, capture_output=True)
    aliases = "".join(
        f'\n[models.m{n}]\nmodel = "openai/bench-{n}"\n'
        f'api_base = "{base}"\napi_key_env = "BENCH_KEY"\n'
        for n in range(models)
    )
    config = ws / "promptdeck.toml"
    config.write_text(
        config.read_text().replace("default = 8", f"default = {concurrency}") + aliases
    )
    (ws / "prompts" / "bench.prompt.yaml").write_text(PROMPT)
    rows = "\n".join(json.dumps({"vars": {"i": i, "j": i * 7}}) for i in range(cases))
    (ws / "datasets" / "bench.jsonl").write_text(rows + "\n")
    model_list = ", ".join(f"m{n}" for n in range(models))
    (ws / "suites" / "bench.suite.yaml").write_text(
        f"prompts: [bench]\nmodels: [{model_list}]\nconcurrency: {concurrency}\n"
        "defaults:\n  assert:\n    - {type: contains, value: answer}\n"
        "    - {type: regex, value: 'Case \\d+'}\ncases:\n  - dataset: datasets/bench.jsonl\n"
    )
    return ws


def _promptdeck() -> list[str]:
    exe = Path(sys.executable).with_name("promptdeck")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "promptdeck"]


@dataclass(frozen=True)
class Timed:
    """One timed ``promptdeck --headless eval`` process.

    Attributes:
        wall: Seconds from spawning the process to its exit.
        peak_mb: Its peak RSS.
        code: Its exit code.
        cpu: Its user + system CPU seconds.
        first_call: Seconds from spawning it to its first request at the stub (None:
            it made no call, e.g. every answer came from the cache).
    """

    wall: float
    peak_mb: float
    code: int
    cpu: float
    first_call: float | None


def _first_arrival(base: str) -> tuple[int, float | None]:
    """How many calls reached the stub since the last look, and when the first did."""
    with urllib.request.urlopen(f"{base}/_arrivals", timeout=10) as response:
        seen = json.load(response)
    return int(seen["count"]), seen["first"]


def timed_eval(ws: Path, base: str) -> Timed:
    """Run the suite in a fresh process, against the stub at ``base``."""
    env = {**os.environ, "BENCH_KEY": "bench"}
    _first_arrival(base)  # forget earlier calls
    spawned = time.time()
    start = time.perf_counter()
    process = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%M %U %S",
            *_promptdeck(),
            "--headless",
            "-w",
            str(ws),
            "eval",
            "bench",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    peak_kb, user, system = process.stderr.strip().splitlines()[-1].split()
    calls, first = _first_arrival(base)
    return Timed(
        wall,
        int(peak_kb) / 1024,
        process.returncode,
        float(user) + float(system),
        first - spawned if calls and first is not None else None,
    )


def floor_process(base: str, cases: int, concurrency: int) -> float:
    """The floor's calls as a whole process: wall seconds from spawn to exit."""
    here = Path(__file__).resolve().parent
    code = (
        f"import asyncio, sys; sys.path.insert(0, {str(here)!r}); "
        "from gateway import _cases, plain_aiohttp; "
        f"asyncio.run(plain_aiohttp({base!r}, _cases({cases}), {concurrency}))"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def compile_promptdeck() -> None:
    """Compile the promptdeck the eval processes import (as installing it would)."""
    found = subprocess.run(
        [sys.executable, "-c", "import promptdeck; print(promptdeck.__file__)"],
        check=True,
        capture_output=True,
        text=True,
    )
    compileall.compile_dir(Path(found.stdout.strip()).parent, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--big", type=int, default=20000, help="cells of the memory run (0: skip)")
    parser.add_argument("--runs", type=int, default=1, help="fresh runs (medians reported)")
    args = parser.parse_args()
    compile_promptdeck()
    port = _free_port()
    server = multiprocessing.Process(
        target=_serve, args=(port, args.latency_ms / 1000, 900), daemon=True
    )
    server.start()
    _wait_for(port)
    base = f"http://127.0.0.1:{port}/v1"
    calls = args.cases * args.models
    try:
        # plain_aiohttp sends every case to each of the gateway bench's three models.
        assert args.models == 3, "the floor client is written for three models"
        floors: list[float] = []
        process_floors: list[float] = []
        fresh_runs: list[Timed] = []
        for _ in range(args.runs):
            floors.append(
                asyncio.run(plain_aiohttp(base, _cases(args.cases), args.concurrency))["wall_s"]
            )
            process_floors.append(floor_process(base, args.cases, args.concurrency))
            with tempfile.TemporaryDirectory() as tmp:
                ws = workspace(Path(tmp), base, args.cases, args.models, args.concurrency)
                fresh_runs.append(timed_eval(ws, base))
                if len(fresh_runs) == 1:
                    cached = timed_eval(ws, base)
        median = statistics.median
        floor = median(floors)
        process_floor = median(process_floors)
        wall = median(t.wall for t in fresh_runs)
        ratio = median(t.wall / f for t, f in zip(fresh_runs, floors, strict=True))
        firsts = [t.first_call for t in fresh_runs if t.first_call is not None]
        first = f"{median(firsts):.2f} s" if firsts else "none"
        cpu = median(t.cpu for t in fresh_runs)
        peak = max(t.peak_mb for t in fresh_runs)
        setting = f"{calls} calls, {args.latency_ms:.0f} ms, concurrency {args.concurrency}"
        if args.runs > 1:
            setting += f", medians of {args.runs} runs"
        print(f"| run ({setting}) | wall | first call | CPU (user+sys) | peak RSS |")
        print("|---|---:|---:|---:|---:|")
        print(f"| plain aiohttp (floor, in-process) | {floor:.2f} s | | | |")
        print(
            f"| plain aiohttp as a whole process (reference) | {process_floor:.2f} s"
            f" ({wall / process_floor:.2f}× by eval) | | | |"
        )
        print(
            f"| promptdeck --headless eval (whole process) | {wall:.2f} s"
            f" ({ratio:.2f}× floor) | {first} | {cpu:.2f} s | {peak:.0f} MB |"
        )
        print(
            f"| same run from the exact cache | {cached.wall:.2f} s | | {cached.cpu:.2f} s"
            f" | {cached.peak_mb:.0f} MB |"
        )
        if args.runs > 1:
            each = ", ".join(f"{t.wall / f:.2f}×" for t, f in zip(fresh_runs, floors, strict=True))
            print(f"each run's ratio: {each}")
        codes = sorted({t.code for t in fresh_runs})
        print(
            f"exit code of the fresh run: {', '.join(map(str, codes))} (0: all assertions passed)"
        )
        print(f"load average: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
        if args.big:
            with tempfile.TemporaryDirectory() as tmp:
                big_port = _free_port()
                fast = multiprocessing.Process(
                    target=_serve, args=(big_port, 0.0, 1800), daemon=True
                )
                fast.start()
                _wait_for(big_port)
                ws = workspace(Path(tmp), f"http://127.0.0.1:{big_port}/v1", args.big, 1, 32)
                big = timed_eval(ws, f"http://127.0.0.1:{big_port}/v1")
                fast.terminate()
            print(
                f"| {args.big} cells, 0 ms stub | {big.wall:.1f} s"
                f" | {big.peak_mb:.0f} MB peak RSS |"
            )
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
