"""Compare as a playground, by keys only: per-column parameters, real variable editors,
and a new prompt from the workbench."""

from __future__ import annotations

import pytest
from sqlmodel import select
from textual.widgets import Input, Select, Static, TextArea

from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.tables import CompletionRow
from promptdeck.tui.screens.compare import CompareScreen
from promptdeck.tui.screens.params_dialog import ParamsDialog
from promptdeck.tui.widgets.compare_column import ColumnView
from tests.compare_fakes import install_fakes
from tests.tui.helpers import make_app, settle


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    return install_fakes(monkeypatch, {})


async def test_two_temperatures_of_one_model_side_by_side(
    workspace: Workspace, fake: FakeProvider
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await pilot.press(*"printer broken")  # the first empty variable has focus
        await pilot.press("shift+tab", "ctrl+u", *"fake/a, fake/a", "escape", "ctrl+r")
        await settle(pilot)
        assert [v.title for v in screen.query(ColumnView)] == [
            "classify-ticket@1 · fake/a",
            "classify-ticket@1 · fake/a",
        ]
        from textual.widgets import Footer

        await pilot.resize_terminal(80, 24)  # type: ignore[attr-defined]
        await settle(pilot)
        footer = screen.query_one(Footer)
        assert footer.virtual_size.width <= footer.size.width  # the column keys fit 80
        await pilot.resize_terminal(160, 48)  # type: ignore[attr-defined]
        await pilot.press("right_square_bracket", "p")
        await settle(pilot)
        assert isinstance(app.screen, ParamsDialog)
        await pilot.press(*"abc", "ctrl+s")  # a temperature must be a number
        assert isinstance(app.screen, ParamsDialog)
        assert "temperature must be a number" in str(app.screen.query_one("#params-error").render())
        await pilot.press("ctrl+u", *"1.5", "tab", *"40", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert [v.title for v in screen.query(ColumnView)] == [
            "classify-ticket@1 · fake/a",
            "classify-ticket@1 · fake/a · temperature=1.5 · max_tokens=40",
        ]
        sent = [(r.params.get("temperature"), r.params.get("max_tokens")) for r in fake.requests]
        assert sent[-2:] in ([(0, 5), (1.5, 40)], [(1.5, 40), (0, 5)])
        with workspace.session() as session:
            stored = [c.request.get("column_override") for c in session.exec(select(CompletionRow))]
        assert {"temperature": 1.5, "max_tokens": 40} in stored
        # The prompt file is untouched.
        text = (workspace.paths.prompts / "classify-ticket.prompt.yaml").read_text()
        assert "temperature: 0" in text


async def test_the_command_lines_column_parameters_open_in_their_columns(
    workspace: Workspace, fake: FakeProvider
) -> None:
    """`compare summarize -m fake/a -m fake/a --col-param 2:temperature=1.5 …` on a terminal."""
    from promptdeck.core.compare.overrides import ColumnOverride
    from promptdeck.tui.targets import CompareTarget

    own = {1: ColumnOverride({"temperature": 1.5}, "Be brief.")}
    target = CompareTarget(
        ("summarize",), ("fake/a", "fake/a"), {"text": "The board met."}, column_overrides=own
    )
    app = make_app(workspace, screen="compare", target=target)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert [v.title for v in screen.query(ColumnView)] == [
            "summarize@1 · fake/a",
            "summarize@1 · fake/a · temperature=1.5 · system*",
        ]
        sent = sorted(fake.requests, key=lambda r: r.params["temperature"])
        assert [r.params["temperature"] for r in sent] == [0.2, 1.5]
        assert sent[1].messages[0] == {"role": "system", "content": "Be brief."}
        # The screen keeps it as its own: `p` on column 2 shows it, ctrl+r runs it again.
        await pilot.press("escape", "right_square_bracket", "right_square_bracket", "p")
        await settle(pilot)
        assert isinstance(app.screen, ParamsDialog)
        assert app.screen.query_one("#param-temperature", Input).value == "1.5"
        before = screen.result
        await pilot.press("escape", "ctrl+r")
        await settle(pilot)
        assert screen.result is not None and screen.result is not before
        assert [c.column.override for c in screen.result.columns] == [None, own[1]]
        # At 80 columns the header wraps rather than cutting the override off.
        await pilot.resize_terminal(80, 24)  # type: ignore[attr-defined]
        await settle(pilot)
        title = screen.query(ColumnView)[1].query_one(".col-title", Static)
        lines = title.render_lines(title.region.reset_offset)
        shown = " ".join("".join(s.text for s in line).strip() for line in lines)
        assert "temperature=1.5 · system*" in shown, shown


async def test_the_variable_being_edited_shows_its_whole_caption(
    workspace: Workspace, fake: FakeProvider
) -> None:
    long = "How many bullet points to write, counted one per line of the answer; " * 2
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("How many bullet points to write.", long.strip()))
    app = make_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "enter")  # the prompt picker
        await pilot.press("down", "down", "down", "down", "enter")
        await settle(pilot)
        screen = app.screen
        assert str(screen.query_one("#compare-prompt", Select).value) == "summarize"
        bullets = screen.query_one("#var-bullets", Input)
        caption = bullets.parent.query_one(".var-caption", Static)  # type: ignore[union-attr]
        assert caption.size.height == 1  # cut to one line while another field is edited
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is bullets
        assert caption.size.height > 1  # the whole of it, wrapped, while bullets is edited
        lines = caption.render_lines(caption.region.reset_offset)
        shown = " ".join("".join(s.text for s in line).strip() for line in lines)
        assert "counted one per line of the answer" in shown and "default 3" in shown
        await pilot.press("tab")
        await pilot.pause()
        assert caption.size.height == 1


PLAY = """\
name: aaa-play
template: "{{ tone }}|{{ code }}|{{ story }}|{{ n }}"
variables:
  tone: {enum: [formal, casual], default: formal, description: How it sounds.}
  code: {required: true, max_length: 6, pattern: "^[A-Z]+$", description: An upper-case code.}
  story: {required: true, description: A long text.}
  n: {type: integer, default: 3}
"""


async def test_variable_editors_fit_their_variables_and_check_as_you_type(
    workspace: Workspace, fake: FakeProvider
) -> None:
    (workspace.paths.prompts / "aaa-play.prompt.yaml").write_text(PLAY)
    app = make_app(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        tone = screen.query_one("#var-tone", Select)
        assert tone.value == "formal"  # an enum is a select, its default picked
        assert isinstance(screen.query_one("#var-code"), Input)  # a short string: one line
        story = screen.query_one("#var-story", TextArea)  # a long text: a text area
        assert screen.query_one("#var-n", Input).type == "integer"
        captions = [str(c.render()) for c in screen.query(".var-caption")]
        assert captions[0] == "tone — How it sounds. · default formal · one of formal, casual"
        assert captions[1].startswith("code* — An upper-case code.")
        # Focus is on the first empty field; a bad value is said as it is typed.
        assert app.focused is screen.query_one("#var-code", Input)
        await pilot.press(*"ab")
        error = screen.query_one("#var-error-code", Static)
        assert "does not match pattern" in str(error.render()) and error.display
        await pilot.press("ctrl+u", *"ABCDEFG")
        assert "over max_length 6" in str(error.render())
        await pilot.press("backspace")
        assert not error.display
        # The text area grows with its text.
        await pilot.press("tab")
        assert app.focused is story
        one_line = story.size.height
        await pilot.press(*"line one", "enter", *"line two", "enter", *"three")
        await pilot.pause()
        assert story.size.height >= one_line + 2
        await pilot.press("escape", "ctrl+r")
        await settle(pilot)
        sent = fake.requests[-1].messages[-1]["content"]
        assert sent == "formal|ABCDEF|line one\nline two\nthree|3"


async def test_a_new_prompt_from_the_template_or_a_copy_never_overwrites(
    workspace: Workspace,
) -> None:
    from promptdeck.tui.screens.new_prompt_dialog import NewPromptDialog
    from promptdeck.tui.screens.prompts import PromptsScreen

    folder = workspace.paths.prompts
    before = (folder / "summarize.prompt.yaml").read_text()
    app = make_app(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PromptsScreen) and screen.selected == "classify-ticket"
        # An existing name: refused, nothing written.
        await pilot.press("n")
        assert isinstance(app.screen, NewPromptDialog)
        await pilot.press(*"summarize", "enter")
        await settle(pilot)
        assert (folder / "summarize.prompt.yaml").read_text() == before
        assert any("already exists" in n.title for n in app._notifications)
        # A copy of the current prompt keeps its text, under the new name.
        await pilot.press("n", *"ticket-copy", "enter")
        await settle(pilot)
        copy = (folder / "ticket-copy.prompt.yaml").read_text()
        original = (folder / "classify-ticket.prompt.yaml").read_text()
        assert copy == original.replace("name: classify-ticket", "name: ticket-copy", 1)
        assert screen.selected == "ticket-copy"
        assert "ticket-copy" in [s.name for s in screen._snapshot.summaries]  # type: ignore[union-attr]
        # From the starter template.
        await pilot.press("n", *"fresh", "tab", "enter", "down", "enter", "shift+tab", "enter")
        await settle(pilot)
        fresh = (folder / "fresh.prompt.yaml").read_text()
        assert fresh.startswith("name: fresh\n") and "{{ text }}" in fresh
        # A bad name is one line saying what to do.
        await pilot.press("n", *"Bad Name", "enter")
        await settle(pilot)
        assert any("is not a prompt name" in n.title for n in app._notifications)
        assert not list(folder.glob("Bad*"))
