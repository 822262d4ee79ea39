"""Benchmark the single-file HTML report on a 20,000-cell run (not a timed test).

1. Build: a synthetic run of 2,500 cases × 4 models × 2 repeats (answers of ~350
   characters, each unique; a ~1,300-character system prompt shared by every cell; two
   assertions with reasons; failures, flaky cases, one model of unknown price), turned
   into the page (payload + HTML). CPU seconds and the file's size. Target: < 20 MB.
2. Browser: the page opened in headless Chromium (Debian's, through Playwright):
   time until the grid is drawn, then each filter (failed, errored, flaky, changed,
   a tag, a search) timed in the page from the event to the next painted frame, and a
   scroll to the middle of the grid. Target: each well under 100 ms.
3. With ``--stored``: the same size of run made for real (the fake provider, in
   process) and read back by ``promptdeck report`` (``load_report`` + render).

Usage::

    .venv/bin/python bench/report_html.py [--cases 2500] [--models 4] [--repeats 2]
        [--stored] [--keep report.html]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

from promptdeck.core.evals.compare import Comparison
from promptdeck.core.evals.html_report import render_html
from promptdeck.core.evals.report_data import CaseInfo, CellExtra, ReportData, cell_id
from promptdeck.core.evals.results import CellResult, summarize
from promptdeck.core.scorers import Score

CHROMIUM = os.environ.get("PROMPTDECK_CHROMIUM", "/usr/bin/chromium")
SYSTEM = (
    "You are a careful customer-support agent for a subscription service. Answer in two "
    "or three sentences, name the next step, never promise a refund you cannot give. "
) * 8
WORDS = [
    "refund",
    "charge",
    "account",
    "invoice",
    "parcel",
    "password",
    "outage",
    "billing",
    "plan",
    "card",
]


def synthetic(cases: int, models: int, repeats: int, words: int = 50) -> ReportData:
    """A run of ``cases × models × repeats`` cells, with what a real run holds."""
    cells: list[CellResult] = []
    extras: list[CellExtra] = []
    infos: dict[tuple[str, str], CaseInfo] = {}
    for case in range(cases):
        key = f"suites/big.suite.yaml#{case:010x}"
        ticket = f"Ticket {case}: my {WORDS[case % 10]} and my {WORDS[(case * 7) % 10]} failed"
        infos[("big", key)] = CaseInfo(
            f"suites/big.suite.yaml:{case + 3}",
            (WORDS[case % 10], "vip" if case % 13 == 0 else "standard"),
            {"ticket": ticket},
            WORDS[case % 10],
        )
        for m in range(models):
            for r in range(repeats):
                ok = (case * 31 + m * 7 + r) % 9 != 0
                error = "RateLimitError: 429 Too Many Requests" if (case + m) % 97 == 0 else None
                answer = (
                    None
                    if error
                    else f"[{case}/{m}/{r}] "
                    + " ".join(WORDS[(case + m + i * r + i) % 10] for i in range(words))
                )
                scores = (
                    ()
                    if error
                    else (
                        Score(
                            "icontains",
                            "icontains",
                            1.0 if ok else 0.0,
                            ok,
                            f"looked for {WORDS[case % 10]!r}",
                        ),
                        Score("max-length", "max-length", 1.0, True, "under 600 characters"),
                    )
                )
                cells.append(
                    CellResult(
                        suite="big",
                        prompt=f"support@{2 + m % 2}",
                        model=f"openai/model-{m}",
                        case_key=key,
                        case_index=case,
                        case_source="suites/big.suite.yaml",
                        case_description=f"case {case}",
                        repeat=r,
                        output=answer,
                        scores=scores,
                        score=1.0 if ok else 0.5,
                        passed=ok and not error,
                        error=error,
                        latency_ms=80.0 + (case * 13 + m) % 400,
                        tokens=420,
                        cost_usd=0.00042,
                        source="cached" if (case + r) % 5 == 0 else "fresh",
                    )
                )
                extras.append(
                    CellExtra(
                        messages=(("system", SYSTEM), ("user", ticket)),
                        cost_known=m != models - 1,
                        cache="exact" if (case + r) % 5 == 0 else None,
                        prompt_tokens=380,
                        completion_tokens=40,
                        trace=f"{case:016x}{m:08x}{r:08x}",
                    )
                )
    flipped = [cell_id(c) for c in cells[::50]]
    comparison = Comparison("base", "big", regressions=flipped[::2], improvements=flipped[1::2])
    before = {cell_id(c): c for c in cells[::50]}
    return ReportData(summarize(cells, run_id="big"), cells, extras, infos, [comparison], before)


def build(data: ReportData, out: Path) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    page = render_html(data)
    out.write_text(page, encoding="utf-8")
    clipped = page.count("more characters not shown here")
    print(
        f"build: {len(data.cells)} cells -> {out.stat().st_size / 1e6:.2f} MB "
        f"({clipped} texts shortened) in "
        f"{time.process_time() - cpu:.2f} s CPU ({time.perf_counter() - wall:.2f} s wall)"
    )


FILTER = """async ([selector, value]) => {
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  await frame();
  const t0 = performance.now();
  const input = document.querySelector(selector);
  if (input.type === "radio") { input.checked = true; }
  else { input.value = value; }
  input.dispatchEvent(new Event("change", {bubbles: true}));
  document.body.offsetHeight;
  await frame();
  return [performance.now() - t0, window.__promptdeckReport.lastFilterMs,
          document.getElementById("counts").dataset.cases];
}"""

SEARCH = """async (text) => {
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const box = document.getElementById("search");
  box.value = text;
  box.dispatchEvent(new Event("input", {bubbles: true}));
  await new Promise(r => setTimeout(r, 200));  // the search waits 120 ms for typing to stop
  await frame();
  return [window.__promptdeckReport.lastFilterMs, document.getElementById("counts").dataset.cases];
}"""

SCROLL = """async () => {
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const grid = document.getElementById("grid");
  const t0 = performance.now();
  grid.scrollTop = grid.scrollHeight / 2;
  await frame();
  return [performance.now() - t0, document.querySelectorAll("#grid-rows .grow").length];
}"""


def _filtered(name: str, took: float, inner: float, cases: str) -> None:
    print(
        f"filter {name:8} {took:6.1f} ms to the painted frame "
        f"({inner:5.1f} ms filtering) -> {cases} cases"
    )


def browse(path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        wall = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector("html[data-ready='1']", timeout=120_000)
        ready = page.evaluate("() => window.__promptdeckReport.readyMs")
        print(
            f"open: grid drawn {ready:.0f} ms after navigation "
            f"({(time.perf_counter() - wall) * 1000:.0f} ms wall, load included)"
        )
        rows = page.evaluate("() => document.querySelectorAll('#grid-rows .grow').length")
        cases = page.eval_on_selector("#counts", "e => e.dataset.cases")
        print(f"  rows in the page: {rows} (of {cases})")
        for value in ("failed", "errored", "flaky", "changed", "all"):
            took, inner, cases = page.evaluate(FILTER, [f"input[value='{value}']", ""])
            _filtered(value, took, inner, cases)
        took, inner, cases = page.evaluate(FILTER, ["#tag-filter", "vip"])
        _filtered("tag=vip", took, inner, cases)
        page.evaluate(FILTER, ["#tag-filter", ""])
        for text in ("nothing matches this", "[1234/", "my charge and my", ""):
            inner, cases = page.evaluate(SEARCH, text)
            print(f"search {text!r:24} {inner:6.1f} ms filtering -> {cases} cases")
        print("  (the first search builds each case's text to search: later ones are faster)")
        took, drawn = page.evaluate(SCROLL)
        print(f"scroll to the middle: {took:.1f} ms to the painted frame, {drawn} rows drawn")
        page.click("#grid-rows .gcell")
        page.wait_for_selector("#detail:not([hidden])")
        print(f"console errors: {errors or 'none'}")
        browser.close()


def stored(cases: int, models: int, repeats: int, root: Path) -> None:
    """A real run of that size (fake provider, in process), read back by `report`."""
    from promptdeck.cli.main import main
    from promptdeck.core.gateway import engine
    from promptdeck.core.providers.fake import FakeProvider

    provider = FakeProvider(
        default=lambda r: "billing" if "1" in r.messages[-1]["content"] else "other"
    )
    engine.make_provider_factory = lambda config, root: lambda t: provider  # type: ignore[assignment]
    ws = root / "ws"
    with contextlib.suppress(SystemExit):
        main(["init", str(ws)])
    rows = "\n".join(f"Ticket {i}: I was charged {i} times,billing" for i in range(cases))
    (ws / "datasets" / "big.csv").write_text("ticket,expected\n" + rows + "\n")
    models_line = ", ".join(f"local/m{m}" for m in range(models))
    (ws / "suites" / "big.suite.yaml").write_text(
        f"prompts: [classify-ticket]\nmodels: [{models_line}]\nrepeat: {repeats}\n"
        "concurrency: 64\ndefaults:\n  assert: [{type: equals}]\n"
        "cases:\n  - dataset: datasets/big.csv\n"
    )
    wall = time.perf_counter()
    with contextlib.suppress(SystemExit):
        main(["--headless", "--workspace", str(ws), "eval", "big", "--no-cache"])
    print(f"stored: ran {cases * models * repeats} cells in {time.perf_counter() - wall:.1f} s")
    from promptdeck.core.evals.html_report import render_html as render
    from promptdeck.core.evals.report_data import load_report
    from promptdeck.core.workspace.workspace import Workspace
    from promptdeck.paths import WorkspacePaths
    from promptdeck.store import runs_repo

    workspace = Workspace.open(WorkspacePaths(ws))
    try:
        with workspace.session() as session:
            uid = runs_repo.list_runs(session, "big", limit=1)[0].uid
        cpu, t0 = time.process_time(), time.perf_counter()
        data = load_report(workspace, [uid])
        loaded = time.perf_counter() - t0
        page = render(data)
        print(
            f"stored: load_report {loaded:.2f} s, whole report {time.perf_counter() - t0:.2f} s "
            f"wall / {time.process_time() - cpu:.2f} s CPU, {len(page.encode()) / 1e6:.2f} MB"
        )
    finally:
        workspace.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=2500)
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--words", type=int, default=50, help="words per answer (50: ~350 chars)")
    parser.add_argument("--stored", action="store_true", help="also a real run of that size")
    parser.add_argument("--keep", type=Path, help="keep the page here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "report.html"
        build(synthetic(args.cases, args.models, args.repeats, args.words), out)
        if not Path(CHROMIUM).exists():
            sys.exit(f"no Chromium at {CHROMIUM}: set PROMPTDECK_CHROMIUM")
        browse(out)
        if args.stored:
            stored(args.cases, args.models, args.repeats, Path(tmp))


if __name__ == "__main__":
    main()
