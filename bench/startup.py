"""Start-up benchmark: how soon promptdeck answers and paints, and when the model is ready.

Run: make bench  (or .venv/bin/python bench/startup.py [--runs N])

Each figure is measured from the moment the process is spawned, over N runs, and
the median and worst are printed. The workbench is measured on the path a user
takes: the real ``promptdeck -w WORKSPACE`` console script in a pseudo-terminal of
120×40, with Textual's real terminal driver; the figures are the moments its
output first shows:
- help:        `promptdeck --help` to exit.
- first_paint: the first frame (the status bar's "workspace: bench" is on screen).
- prompt_list: the Prompts table holds the workspace's prompts ("N prompts" under
  it): the list the database stored, read with sqlite3 while the workspace opens
  (its summary says "as stored · reading the files…"); a new workspace shows it
  once synced.
- workspace:   Compare (on screen by then) names the model aliases ("aliases:"):
  the workspace opened (configuration validated, database migrated, SQLAlchemy
  loaded); the synced list follows it on the Prompts screen.
- model_ready: the status bar says the model is ready (litellm imported and the
  local model loaded in the background worker), or model_failed when it cannot load.
- compare:     once the list is on screen, `2` is pressed; seconds from that key
  until the Compare screen is on screen, its keys live (its hint line shows).
Then ctrl+q quits the app. Targets (issue "workbench as a whole"): first paint
under 1 s on a 2-core machine; (issue "workbench as a playground") the prompt list
under 0.6 s and Compare under 0.3 s after `2`.

Measured on the 2-core development machine shared with other work (wall-clock
figures vary by 2x or more with the load: read them beside the load average
printed; the child's CPU time until the list shows varies far less):
  load ~1, before the stored list (3bfd3f7): first_paint 0.45, prompt_list 1.23,
    compare 0.45 (medians of 5).
  load 3-4.4, before / after, two rounds of 5 runs each, medians (worst):
    prompt_list 2.08 (2.56), 1.73 (2.04) / 0.85 (1.31), 0.86 (0.92)
    compare     0.86 (1.08), 0.79 (1.19) / 0.75 (0.92), 0.57 (0.67)
    CPU of the process when the list shows: 1.1-1.3 s before, 0.46-0.50 s after.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

SIZE = (120, 40)
TIMEOUT = 60.0
_ESCAPES = re.compile(
    rb"\x1b(?:"
    rb"[()][0-9A-Za-z]"  # character set
    rb"|\[[0-9;?<>=!]*[ -/]*[@-~]"  # CSI
    rb"|\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    rb"|[^\[\]])"  # any other two-byte escape
)
MARKS = {
    "first_paint": re.compile(rb"workspace: bench"),
    "prompt_list": re.compile(rb"\d+ prompts"),
    "workspace": re.compile(rb"aliases: "),
    "model_ready": re.compile("● ready".encode()),
    "model_failed": re.compile(b"unavailable"),
}
COMPARE_MARK = re.compile(rb"ctrl\+r run")


class _Text:
    """The terminal output with its escape sequences stripped, fed chunk by chunk.

    Only the new text (plus a short overlap, for a marker split across chunks) is
    searched, so the benchmark's own work stays small while the app animates.
    """

    def __init__(self) -> None:
        self.pending = b""
        self.tail = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self.pending + chunk
        cut = data.rfind(b"\x1b")
        # Keep an escape sequence that may be incomplete for the next chunk.
        if cut != -1 and not _ESCAPES.match(data, cut) and len(data) - cut < 64:
            data, self.pending = data[:cut], data[cut:]
        else:
            self.pending = b""
        text = _ESCAPES.sub(b"", data)
        recent = self.tail[-64:] + text
        self.tail = (self.tail + text)[-2000:]
        return recent


def _promptdeck() -> list[str]:
    exe = Path(sys.executable).with_name("promptdeck")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "promptdeck"]


def _spawn_in_pty(argv: list[str]) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of SIZE, then the real console script
        cols, rows = SIZE
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        os.execvpe(argv[0], argv, env)
    return pid, fd


def measure_workbench(workspace: Path) -> dict[str, float]:
    """Spawn the workbench in a pseudo-terminal and time what its output shows."""
    start = time.time()
    pid, fd = _spawn_in_pty([*_promptdeck(), "-w", str(workspace)])
    marks: dict[str, float] = {}
    pressed: float | None = None
    text = _Text()
    try:
        while time.time() - start < TIMEOUT:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            now = time.time() - start
            recent = text.feed(chunk)
            for key, pattern in MARKS.items():
                if key not in marks and pattern.search(recent):
                    marks[key] = now
            if "prompt_list" in marks and pressed is None:
                os.write(fd, b"2")
                pressed = time.time() - start
            elif pressed is not None and "compare" not in marks and COMPARE_MARK.search(recent):
                marks["compare"] = now - pressed
            done = "model_ready" in marks or "model_failed" in marks
            if done and "compare" in marks:
                break
        if "first_paint" not in marks:
            tail = text.tail.decode(errors="replace")
            raise RuntimeError(f"the workbench did not paint in {TIMEOUT:.0f} s:\n{tail}")
    finally:
        _quit(pid, fd)
    return marks


def _quit(pid: int, fd: int) -> None:
    try:
        os.write(fd, b"\x11")  # ctrl+q
        deadline = time.time() + 10
        while time.time() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
            if select.select([fd], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):
                    os.read(fd, 65536)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    finally:
        os.close(fd)


def measure(workspace: Path) -> dict[str, float]:
    """One run: ``--help``, then the workbench."""
    start = time.time()
    subprocess.run([*_promptdeck(), "--help"], check=True, capture_output=True)
    marks = {"help": time.time() - start}
    marks.update(measure_workbench(workspace))
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "bench"
        subprocess.run([*_promptdeck(), "init", str(workspace)], check=True, capture_output=True)
        runs = [measure(workspace) for _ in range(args.runs)]
    load = os.getloadavg()[0]
    print(
        f"{'figure':<12} {'median':>8} {'worst':>8}   "
        f"({args.runs} runs, seconds from spawn; load average {load:.2f})"
    )
    figures = ("help", "first_paint", "prompt_list", "workspace", "model_ready", "model_failed")
    for key in (*figures, "compare"):
        values = [r[key] for r in runs if key in r]
        if values:
            print(f"{key:<12} {statistics.median(values):>8.3f} {max(values):>8.3f}")


if __name__ == "__main__":
    main()
