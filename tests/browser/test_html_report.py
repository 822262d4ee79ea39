"""The HTML report in a real headless browser (Debian's Chromium driven by Playwright).

These tests never skip: without a browser they fail and say how to install one
(`make test` installs Debian's `chromium` when it can). Select them with `-m browser`.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from promptdeck.core.evals.html_report import render_html
from promptdeck.core.evals.report_data import ReportData
from promptdeck.core.evals.results import summarize
from promptdeck.paths import WorkspacePaths
from tests.helpers import run_cli as run
from tests.report_runs import HOSTILE, UNPRICED, Runs, make_runs

pytestmark = pytest.mark.browser

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_HINT = (
    "the browser tests need Chromium: `apt-get install chromium` (Debian; `make test` does it "
    "when run as root or with sudo), or set PROMPTDECK_CHROMIUM to a Chromium executable"
)


def chromium_path() -> str:
    """The Chromium to drive: $PROMPTDECK_CHROMIUM, /usr/bin/chromium, or one on PATH."""
    for candidate in (
        os.environ.get("PROMPTDECK_CHROMIUM"),
        DEFAULT_CHROMIUM,
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"no Chromium found: {CHROMIUM_HINT}", pytrace=False)


def test_without_a_browser_the_tests_fail_and_say_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMPTDECK_CHROMIUM", str(tmp_path / "nope"))
    monkeypatch.setattr(sys.modules[__name__], "DEFAULT_CHROMIUM", "/nope")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match=r"no Chromium found.*apt-get install chromium"):
        chromium_path()


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, launched once the runs exist.

    Playwright's sync API runs an event loop in this thread while it is open, and
    `promptdeck eval` runs its own, so the runs are made before the browser starts.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


class Page:
    """A report opened in the browser, with every console message and page error kept."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.messages: list[tuple[str, str]] = []
        self.page.on("console", lambda m: self.messages.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.messages.append(("pageerror", str(e))))
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("html[data-ready='1']", timeout=20_000)

    def counts(self) -> dict[str, int]:
        data = self.page.eval_on_selector("#counts", "e => Object.assign({}, e.dataset)")
        return {k: int(v) for k, v in data.items()}

    def errors(self) -> list[tuple[str, str]]:
        return [m for m in self.messages if m[0] in ("error", "pageerror")]


@pytest.fixture
def runs(
    demo_paths: WorkspacePaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runs:
    return make_runs(demo_paths, monkeypatch, capsys)


def _report(capsys: pytest.CaptureFixture[str], runs: Runs, tmp: Path, uid: str) -> Path:
    out = tmp / f"{uid}.html"
    code, _, err = run(capsys, *runs.args, "report", uid, "--html", str(out))
    assert code == 0, err
    return out


def test_the_report_loads_counts_filters_and_opens_a_cell(
    capsys: pytest.CaptureFixture[str], runs: Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTDECK_USER", "erin")
    rate = ["feedback", runs.second, "--case", "1", "--model", "local/smollm2-135m"]
    code, _, err = run(capsys, *runs.args, *rate, "--rating", "4", "--comment", "<i>good</i>")
    assert code == 0, err
    report = _report(capsys, runs, tmp_path, runs.second)
    with chromium() as browser:
        _check_report(Page(browser, report))


def _check_report(view: Page) -> None:
    page = view.page
    assert view.errors() == []
    assert view.counts() == {"cases": 5, "cells": 20, "passed": 8, "failed": 6, "errors": 2}
    assert page.locator("#grid-rows .grow").count() == 5
    assert page.locator("#grid-head .ghead").count() == 2
    # failed: the cases with a failed cell (double charge, login, the flaky outage)
    page.check("input[value='failed']")
    assert view.counts()["cases"] == 3
    assert page.locator("#grid-rows .grow").count() == 3
    page.check("input[value='errored']")
    assert view.counts() == {"cases": 1, "cells": 4, "passed": 2, "failed": 0, "errors": 2}
    page.check("input[value='flaky']")
    assert view.counts()["cases"] == 1
    assert page.locator("#grid-rows .gcell[data-status='flaky']").count() == 2
    page.check("input[value='changed']")  # since the blessed first run
    assert view.counts()["cases"] == 2
    assert page.locator("#grid-rows .chg").count() == 2
    page.check("input[value='all']")
    page.select_option("#tag-filter", "money")
    assert view.counts()["cases"] == 2
    page.select_option("#tag-filter", "")
    page.fill("#search", "refund")  # an answer of the second run
    page.wait_for_function("() => document.getElementById('counts').dataset.cases === '1'")
    page.fill("#search", "")
    page.wait_for_function("() => document.getElementById('counts').dataset.cases === '5'")
    # a cell opens its prompt, answer, assertions, cost and cache state
    page.locator("#grid-rows .gcell[data-status='error']").first.click()
    body = page.locator("#detail-body")
    assert "the model refused the request" in body.inner_text()
    assert "Not graded: the call failed." in body.inner_text()
    page.keyboard.press("Escape")
    unpriced = page.evaluate(
        "u => [...document.querySelectorAll('#grid-head .ghead')]"
        ".findIndex(h => h.title.includes(u))",
        UNPRICED,
    )
    row = page.locator("#grid-rows .grow", has_text="double charge")
    row.locator(f".gcell[data-col='{unpriced}']").click()
    text = body.inner_text()
    assert "cost: $?" in text and "$0.0000" not in text  # no price known: unknown, never 0
    assert text.count("cache: miss (fresh call)") == 2  # --no-cache: both repeats called
    page.keyboard.press("Escape")
    page.locator("#grid-rows .grow", has_text="double charge").locator(".gcell").first.click()
    text = body.inner_text()
    for expected in ("Ticket: I was charged twice", "refund", "equals", "expected 'billing'"):
        assert expected in text
    assert re.search(r"Before \(classify-ticket@1, run \d{8}-\d{6}-\w+\)", text)
    page.keyboard.press("Escape")
    page.locator("#grid-rows .grow", has_text="login").locator(".gcell").first.click()
    # the rating, its comment as text, who rated
    assert "4/5 “<i>good</i>” (by erin)" in body.inner_text()
    page.keyboard.press("Escape")
    page.click("[data-tab='stats']")
    assert "95 % CI" in page.locator("#stats-view").inner_text()
    page.click("[data-tab='compare']")
    compare = page.locator("#compare-view").inner_text()
    assert "Paired exact McNemar test" in compare and "Regressions (2)" in compare
    assert view.errors() == []
    assert all(url.startswith("file://") for url in view.requests)


def test_an_answer_holding_a_script_is_shown_not_run(
    capsys: pytest.CaptureFixture[str], runs: Runs, tmp_path: Path
) -> None:
    report = _report(capsys, runs, tmp_path, runs.first)
    empty = tmp_path / "empty.html"
    empty.write_text(render_html(ReportData(summarize([]), [], [], {}), title=HOSTILE))
    with chromium() as browser:
        _check_hostile(Page(browser, report))
        view = Page(browser, empty)  # a run with no cell yet: nothing to show, no error
        assert view.counts() == {"cases": 0, "cells": 0, "passed": 0, "failed": 0, "errors": 0}
        assert view.page.locator("#empty").is_visible()
        assert view.page.title() == HOSTILE and view.page.evaluate("window.__pwned") is None
        view.page.click("[data-tab='stats']")
        assert view.errors() == []


def _check_hostile(view: Page) -> None:
    page = view.page
    page.fill("#search", "sign in")
    page.wait_for_function("() => document.getElementById('counts').dataset.cases === '1'")
    page.locator("#grid-rows .gcell").first.click()
    assert HOSTILE in page.locator("#detail-body").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#detail-body img, #detail-body script").count() == 0
    page.keyboard.press("Escape")
    page.click("[data-tab='stats']")
    assert page.evaluate("window.__pwned") is None
    assert view.errors() == []
