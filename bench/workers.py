"""Benchmark eval workers against one PostgreSQL server (not a timed test).

A suite of ``--cells`` cells (one prompt, one model, ``--cells`` cases) is queued
(`eval --queue --no-cache`) against a local OpenAI-compatible stub answering after
``--latency-ms``; then 1, 2 and 4 ``promptdeck worker --once`` processes, each at
``--concurrency``, work it off a throwaway PostgreSQL server (tests/pg.py's helper).
For each: wall time from the workers' spawn to the last one's exit, calls/s, each
worker's peak RSS (target < 150 MB) and CPU seconds, and the server's CPU (the
postmaster with its exited backends, from /proc). Then the same run on SQLite with
one worker, for reference. The ideal is linear in workers until the CPU is the bound;
on a shared two-core machine it is reached early: read the CPU columns.

Usage::

    .venv/bin/python bench/workers.py [--cells 20000] [--latency-ms 200] [--concurrency 32]
        [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway import _free_port, _serve, _wait_for

TICKS = os.sysconf("SC_CLK_TCK")


def _workspace(root: Path, base: str, cells: int, concurrency: int) -> Path:
    from promptdeck.core.workspace.init import init_workspace

    paths = init_workspace(root / "ws")
    config = paths.root / "promptdeck.toml"
    # The calls a process makes at once to one provider ([concurrency], 8 by default)
    # must not be what bounds a worker at --concurrency.
    config.write_text(
        config.read_text().replace("default = 8", f"default = {concurrency}")
        + f'\n[models.lab]\nmodel = "openai/lab"\napi_base = "{base}"\napi_key_env = "BENCH_KEY"\n'
    )
    rows = "\n".join(json.dumps({"vars": {"ticket": f"ticket {i}"}}) for i in range(cells))
    (paths.datasets / "many.jsonl").write_text(rows + "\n")
    (paths.suites / "many.suite.yaml").write_text(
        "prompts: [classify-ticket]\nmodels: [lab]\n"
        "defaults:\n  assert: [{type: icontains, value: answer}]\n"
        "cases:\n  - dataset: datasets/many.jsonl\n"
    )
    return paths.root


def _promptdeck() -> list[str]:
    return [sys.executable, "-m", "promptdeck"]


def _cpu(pid: int, children: bool = False) -> float:
    """A process's CPU seconds (with its waited-for children's, when asked)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def _peak_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Result:
    """One measured configuration."""

    label: str
    workers: int
    wall: float
    cells: int
    peaks: list[float]
    cpus: list[float]
    server_cpu: float | None

    def line(self) -> str:
        peaks = ", ".join(f"{p:.0f}" for p in self.peaks)
        cpus = ", ".join(f"{c:.1f}" for c in self.cpus)
        server = f"{self.server_cpu:.1f} s" if self.server_cpu is not None else "-"
        return (
            f"{self.label:<10} {self.workers} worker(s): {self.wall:7.1f} s wall, "
            f"{self.cells / self.wall:6.1f} calls/s, peak RSS MB [{peaks}], "
            f"worker CPU s [{cpus}], database CPU {server}"
        )


def run_workers(ws: Path, env: dict[str, str], n: int, concurrency: int) -> tuple[float, list]:
    """Queue the suite, then run ``n`` workers to the end; (wall, [(peak, cpu)])."""
    subprocess.run(
        [*_promptdeck(), "--headless", "-w", str(ws), "eval", "many", "--queue", "--no-cache"],
        env=env,
        check=True,
        capture_output=True,
    )
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                *_promptdeck(),
                "--headless",
                "-w",
                str(ws),
                "worker",
                "--once",
                "--concurrency",
                str(concurrency),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(n)
    ]
    seen: dict[int, tuple[float, float]] = {p.pid: (0.0, 0.0) for p in procs}
    while any(p.poll() is None for p in procs):
        for p in procs:
            peak = _peak_mb(p.pid)
            if peak is not None and p.returncode is None:
                seen[p.pid] = (max(seen[p.pid][0], peak), _cpu(p.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    assert all(p.returncode == 0 for p in procs), [p.returncode for p in procs]
    return wall, [seen[p.pid] for p in procs]


def _done(ws: Path, env: dict[str, str]) -> int:
    out = subprocess.run(
        [*_promptdeck(), "--headless", "-w", str(ws), "eval", "list", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(json.loads(out)[0]["done"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=20000)
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    from tests.pg import start_server

    port = _free_port()
    stub = multiprocessing.Process(
        target=_serve, args=(port, args.latency_ms / 1000, 7200), daemon=True
    )
    stub.start()
    _wait_for(port)
    base = f"http://127.0.0.1:{port}/v1"
    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    tmp.chmod(0o755)  # as root the server runs as nobody (tests/pg.py)
    pg_base = tmp / "pg"
    pg_base.mkdir()
    server, stop = start_server(pg_base)
    postmaster = int((pg_base / "data" / "postmaster.pid").read_text().split()[0])
    results: list[Result] = []
    print(
        f"{args.cells} cells, stub latency {args.latency_ms:.0f} ms, concurrency "
        f"{args.concurrency} per worker, {os.cpu_count()} CPUs (shared: figures are noisy)"
    )
    try:
        for n in [int(x) for x in args.workers.split(",")]:
            url = server.create_database()
            env = {**os.environ, "BENCH_KEY": "bench", "PROMPTDECK_DATABASE_URL": url}
            ws = _workspace(tmp / f"pg{n}", base, args.cells, args.concurrency)
            subprocess.run(
                [*_promptdeck(), "--headless", "-w", str(ws), "db", "upgrade"],
                env=env,
                check=True,
                capture_output=True,
            )
            before = _cpu(postmaster, children=True)
            wall, measured = run_workers(ws, env, n, args.concurrency)
            server_cpu = _cpu(postmaster, children=True) - before
            assert _done(ws, env) == args.cells
            results.append(
                Result(
                    "postgresql",
                    n,
                    wall,
                    args.cells,
                    [m[0] for m in measured],
                    [m[1] for m in measured],
                    server_cpu,
                )
            )
            print(results[-1].line(), flush=True)
        env = {k: v for k, v in os.environ.items() if k != "PROMPTDECK_DATABASE_URL"}
        env["BENCH_KEY"] = "bench"
        ws = _workspace(tmp / "sqlite", base, args.cells, args.concurrency)
        wall, measured = run_workers(ws, env, 1, args.concurrency)
        assert _done(ws, env) == args.cells
        results.append(
            Result(
                "sqlite",
                1,
                wall,
                args.cells,
                [m[0] for m in measured],
                [m[1] for m in measured],
                None,
            )
        )
        print(results[-1].line(), flush=True)
    finally:
        subprocess.run(stop, capture_output=True, check=False)
        stub.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
