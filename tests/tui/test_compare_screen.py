"""The Compare screen: a real compare with the fake provider, ratings, and snapshots."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from promptdeck.config import EnsembleConfig
from promptdeck.core.compare.columns import ColumnDone, ColumnResult, CompareColumn, CompareResult
from promptdeck.core.compare.ensembles import EnsembleResult, MemberAnswer
from promptdeck.core.gateway.engine import CallResult, CallSpec
from promptdeck.core.providers.base import Completion, Usage
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.feedback_repo import add_feedback, review_queue
from promptdeck.store.tables import Feedback, Trace
from promptdeck.tui.screens.compare import CompareScreen
from promptdeck.tui.widgets.compare_column import ColumnView
from tests.compare_fakes import install_fakes
from tests.tui.helpers import make_app, settle

ANSWERS = {
    "fake/alpha": "- The board moves the database to the cloud.",
    "fake/beta": "- The board moves its servers to a cloud service.",
}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    return install_fakes(monkeypatch, ANSWERS)


async def _open(pilot: Pilot[None]) -> CompareScreen:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CompareScreen)
    await pilot.press("escape")  # leave the first variable (focused on entry) for the grid
    return screen


async def test_a_compare_fills_two_columns_and_a_rating_is_stored(
    workspace: Workspace, fake: FakeProvider
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open(pilot)
        assert not isinstance(app.focused, Input)  # number keys still switch screens
        screen.query_one("#compare-prompt", Select).value = "summarize"
        await settle(pilot)
        screen.query_one("#var-text", TextArea).load_text("The board approved a cloud move.")
        screen.query_one("#compare-models", Input).value = "fake/alpha, fake/beta"
        screen.query_one("#compare-grid").focus()
        await pilot.press("ctrl+r")
        await settle(pilot)
        views = list(screen.query(ColumnView))
        assert [v.title for v in views] == [
            "summarize@1 · fake/alpha",
            "summarize@1 · fake/beta",
        ]
        assert [v.text for v in views] == list(ANSWERS.values())
        footer = str(views[0].query_one(".col-footer", Static).render())
        assert "tok/s" in footer and "cache miss" in footer and "stop" in footer
        similarity = str(screen.query_one("#compare-similarity", Static).render())
        assert "1↔2" in similarity
        assert {r.model for r in fake.requests} == {"fake/alpha", "fake/beta"}

        await pilot.press("right_square_bracket")
        await pilot.press("plus")
        await settle(pilot)
        assert "👍" in str(views[1].query_one(".col-footer", Static).render())

        await pilot.press("d")
        assert screen.diff_on
        await pilot.press("h")
        assert views[1].display is False
        await pilot.press("a")
        assert views[1].display is True
    with workspace.session() as session:
        rows = list(session.exec(select(Feedback)))
        beta = session.exec(
            select(Trace).where(Trace.uid == views[1].result.result.trace_id)  # type: ignore[union-attr]
        ).one()
    assert [(r.completion_id, r.thumbs) for r in rows] == [(beta.completion_id, 1)]


async def test_rating_dialog_stores_stars_and_a_comment(
    workspace: Workspace, fake: FakeProvider
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open(pilot)
        screen.run_compare(["summarize"], {"text": "Hello."}, ["fake/alpha"])
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one("#rate-stars", Input).value = "4"
        app.screen.query_one("#rate-comment", Input).value = "clear"
        app.screen.query_one("#rate-comment", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        footer = str(screen.query_one(ColumnView).query_one(".col-footer", Static).render())
        assert "4/5" in footer
    with workspace.session() as session:
        row = session.exec(select(Feedback)).one()
    assert (row.rating, row.comment, row.thumbs) == (4, "clear", None)


async def test_an_ensemble_column_and_the_review_queue(
    workspace: Workspace, fake: FakeProvider
) -> None:
    workspace.config = workspace.config.model_copy(
        update={
            "ensembles": {
                "duo": EnsembleConfig(members=["fake/alpha", "fake/beta"], strategy="majority")
            }
        }
    )
    app = make_app(workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open(pilot)
        screen.run_compare(["summarize"], {"text": "Hello."}, ["duo"])
        await settle(pilot)
        view = screen.query_one(ColumnView)
        assert view.is_ensemble and view.result is not None
        assert view.result.ensemble is not None and view.result.ensemble.requires_review
        await pilot.press("m")
        members = str(view.query_one(".col-members", Static).render())
        assert "fake/alpha" in members and "fake/beta" in members
        review = screen.query_one("#compare-review")
        assert review.row_count == 1  # type: ignore[attr-defined]
    with workspace.session() as session:
        assert [item.ensemble for item in review_queue(session)] == ["duo"]
        assert add_feedback(session, 1, rating=5).id is not None


async def test_opened_straight_at_compare_it_syncs_and_lists_the_prompts(
    workspace: Workspace,
) -> None:
    app = make_app(workspace, screen="compare")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert screen.query_one("#compare-prompt", Select).value == "classify-ticket"
        assert str(screen.query_one("#var-ticket", TextArea).placeholder) == "ticket"
        await pilot.press("escape", "3")
        assert app.current_mode == "evals"


# -- snapshots --------------------------------------------------------------------------


def _column(index: int, model: str, text: str, **kw: Any) -> ColumnResult:
    spec = CallSpec(model=model, messages=[], prompt_name="summarize", prompt_version=1)
    done = Completion(
        text=text,
        usage=Usage(40, len(text.split())),
        cost_usd=kw.get("cost", 0.00042),
        latency_ms=kw.get("latency", 812.0),
        ttft_ms=kw.get("ttft", 95.0),
        finish_reason="stop",
        model=model,
        answered_by=model,
    )
    result = CallResult(done, f"trace{index}", kw.get("cache", "miss"))
    return ColumnResult(CompareColumn(index, "summarize", model, spec), result, done.ttft_ms)


def _ensemble_column(index: int) -> ColumnResult:
    base = _column(index, "support-consensus", "- The board moves the database to the cloud.")
    members = tuple(
        MemberAnswer(m, _column(9, m, t).result)
        for m, t in [
            ("openai/gpt-4o-mini", "- The board moves the database to the cloud."),
            ("anthropic/claude-3-5-haiku", "- The database moves to a cloud service."),
            ("local/smollm2-135m", "- Servers are replaced next spring."),
        ]
    )
    ens = EnsembleResult(
        name="support-consensus",
        strategy="consensus",
        result=base.result,
        members=members,
        answered=tuple(m.member for m in members),
        matrix=((1.0, 0.91, 0.42), (0.91, 1.0, 0.47), (0.42, 0.47, 1.0)),
        agreement=0.6,
        chosen=("openai/gpt-4o-mini",),
        requires_review=True,
        decision="agreement 0.60 < 0.85: requires review",
    )
    return ColumnResult(base.column, base.result, 120.0, ens)


def _show(columns: list[ColumnResult], similarity: Any) -> Any:
    async def go(pilot: Pilot[None]) -> None:
        screen = await _open(pilot)
        ensembles = {c.column.model for c in columns if c.ensemble is not None}
        screen.post_message(CompareScreen.Planned([c.column for c in columns], ensembles))
        await pilot.pause()
        for c in columns:
            screen.post_message(CompareScreen.Progress(ColumnDone(c.column.index, c)))
        await pilot.pause()
        screen._show_similarity(CompareResult(tuple(columns), similarity))
        await pilot.pause()

    return go


def test_compare_screen_two_columns(snap_compare: Any, workspace: Workspace) -> None:
    """Two answers side by side, each with its footer (ttft, tok/s, latency, tokens, cost,
    cache, finish reason), the first column selected, the similarity row beneath, the
    empty review queue and the Compare keys in the footer."""
    columns = [
        _column(0, "fake/alpha", ANSWERS["fake/alpha"]),
        _column(1, "fake/beta", ANSWERS["fake/beta"], cache="exact", cost=0.0, latency=3.0),
    ]
    similarity = ((1.0, 0.82), (0.82, 1.0))
    assert snap_compare(
        make_app(workspace), terminal_size=(120, 36), run_before=_show(columns, similarity)
    )


def test_compare_screen_four_columns_with_an_ensemble(
    snap_compare: Any, workspace: Workspace
) -> None:
    """Four columns: three models and an ensemble whose footer says REVIEW, with its
    agreement matrix as a coloured heat map and its members folded beneath."""
    columns = [
        _column(0, "fake/alpha", ANSWERS["fake/alpha"]),
        _column(1, "fake/beta", ANSWERS["fake/beta"]),
        _column(2, "fake/gamma", "A completely different answer."),
        _ensemble_column(3),
    ]
    sim = tuple(tuple(1.0 if i == j else 0.5 for j in range(4)) for i in range(4))
    assert snap_compare(
        make_app(workspace), terminal_size=(140, 40), run_before=_show(columns, sim)
    )


def test_every_compare_binding_id_is_documented() -> None:
    from pathlib import Path

    from promptdeck.tui.screens.rate_dialog import RateDialog

    text = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text()
    ids = [b.id for owner in (CompareScreen, RateDialog) for b in owner.BINDINGS]  # type: ignore[union-attr]
    assert all(ids) and [i for i in ids if f"`{i}`" not in text] == []


def _palette(app: Any) -> list[str]:
    return [command.title for command in app.get_system_commands(app.screen)]


async def test_the_palette_offers_the_compare_actions_that_apply(
    workspace: Workspace, fake: FakeProvider
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open(pilot)
        offered = _palette(app)
        assert "Run compare" in offered and "Go to Prompts" in offered
        assert "Go to Compare" not in offered
        assert not {"Next column", "Hide column", "Rate column…"} & set(offered)

        # Run from the palette, by keyboard.
        screen.query_one("#compare-prompt", Select).value = "summarize"
        await settle(pilot)
        screen.query_one("#var-text", TextArea).load_text("The board approved a cloud move.")
        screen.query_one("#compare-models", Input).value = "fake/alpha, fake/beta"
        screen.query_one("#compare-grid").focus()
        await pilot.press("ctrl+p", *"Run compare")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        views = list(screen.query(ColumnView))
        assert len(views) == 2

        offered = _palette(app)
        for title in ("Next column", "Move column right", "Hide column", "Widen column"):
            assert title in offered
        for title in ("Show word differences", "Rate column 👍", "Rate column…"):
            assert title in offered
        for title in ("Previous column", "Move column left", "Narrow column", "Show all columns"):
            assert title not in offered
        assert "Fold or unfold members" not in offered  # not an ensemble

        await pilot.press("ctrl+p", *"Hide column")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert views[0].display is False
        offered = _palette(app)
        assert "Show all columns" in offered and "Hide column" not in offered

        await pilot.press("ctrl+p", *"Show all columns")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert views[0].display is True and not screen.hidden
