"""Start-up benchmark: how soon promptdeck answers and paints, and when the model is ready.

Run: make bench  (or .venv/bin/python bench/startup.py [--runs N])

Each figure is measured from the moment the process is spawned, over N runs, and
the median and worst are printed:
- help:        `promptdeck --help` to exit.
- first_paint: the workbench's first screen is up (Textual's auto-pilot hook, headless driver).
- prompt_list: the Prompts table holds the workspace's prompts (synced and read from SQLite).
- model_ready: litellm imported and the local model loaded in the background worker.
Targets (issue "workbench as a whole"): first paint under 1 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import asyncio, json, sys, time
t_spawn = float(sys.argv[1])
from pathlib import Path
from promptdeck.core.workspace import Workspace
from promptdeck.paths import find_workspace
from promptdeck.tui.app import PromptdeckApp

marks = {}
app = PromptdeckApp(Workspace.open(find_workspace(Path(sys.argv[2]))), watch_files=False)

async def auto(pilot):
    marks["first_paint"] = time.time() - t_spawn
    while True:
        table = app.screen.query("#prompt-table")
        if table and table.first().row_count > 0:
            break
        await asyncio.sleep(0.005)
    marks["prompt_list"] = time.time() - t_spawn
    while app.engine_state == "loading":
        await asyncio.sleep(0.01)
    marks["model_ready" if app.engine_state == "ready" else "model_failed"] = time.time() - t_spawn
    app.exit()

app.run(headless=True, size=(120, 40), auto_pilot=auto)
print(json.dumps(marks))
"""


def _promptdeck() -> list[str]:
    exe = Path(sys.executable).with_name("promptdeck")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "promptdeck"]


def measure(workspace: Path) -> dict[str, float]:
    start = time.time()
    subprocess.run([*_promptdeck(), "--help"], check=True, capture_output=True)
    marks = {"help": time.time() - start}
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, repr(start), str(workspace)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    marks.update(json.loads(out.strip().splitlines()[-1]))
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "bench"
        subprocess.run([*_promptdeck(), "init", str(workspace)], check=True, capture_output=True)
        runs = [measure(workspace) for _ in range(args.runs)]
    print(f"{'figure':<12} {'median':>8} {'worst':>8}   ({args.runs} runs, seconds from spawn)")
    for key in ("help", "first_paint", "prompt_list", "model_ready", "model_failed"):
        values = [r[key] for r in runs if key in r]
        if values:
            print(f"{key:<12} {statistics.median(values):>8.3f} {max(values):>8.3f}")


if __name__ == "__main__":
    main()
