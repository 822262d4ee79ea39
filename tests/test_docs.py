"""Docs that cannot drift: every setting of promptdeck.toml is documented, and so is
every key binding id."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from promptdeck.config import WorkspaceConfig

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        names.append(prefix + name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _fields(annotation, f"{prefix}{name}.")
        args = getattr(annotation, "__args__", ())
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names += _fields(arg, f"{prefix}{name}.*.")
    return names


def test_every_setting_is_documented() -> None:
    text = (DOCS / "formats.md").read_text(encoding="utf-8")

    def documented(name: str) -> bool:
        key = name.rsplit(".", 1)[-1]
        return f"`{key}`" in text or f"`[{key}]`" in text or f"`[{key}." in text

    missing = [n for n in _fields(WorkspaceConfig) if not documented(n)]
    assert not missing, f"settings missing from docs/formats.md: {missing}"


def test_every_binding_id_is_documented() -> None:
    from promptdeck.tui.app import PromptdeckApp
    from promptdeck.tui.screens.label_dialog import LabelDialog
    from promptdeck.tui.screens.prompts import PromptsScreen
    from promptdeck.tui.screens.stats import StatsScreen
    from promptdeck.tui.screens.traces import TracesScreen

    text = (DOCS / "formats.md").read_text(encoding="utf-8")
    from promptdeck.tui.screens.comment_dialog import CommentDialog
    from promptdeck.tui.screens.compare import CompareScreen
    from promptdeck.tui.screens.evals import EvalsScreen, ResultGrid
    from promptdeck.tui.screens.guardrails import GuardrailsScreen
    from promptdeck.tui.screens.rate_dialog import RateDialog

    owners = [
        PromptdeckApp,
        PromptsScreen,
        TracesScreen,
        StatsScreen,
        LabelDialog,
        EvalsScreen,
        ResultGrid,
        CommentDialog,
        GuardrailsScreen,
        CompareScreen,
        RateDialog,
    ]
    ids = [b.id for owner in owners for b in owner.BINDINGS]  # type: ignore[union-attr]
    assert all(ids)
    missing = [i for i in ids if f"`{i}`" not in text]
    assert not missing, f"binding ids missing from docs/formats.md: {missing}"


def test_cli_reference_matches_the_help_texts() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "gen_cli_docs", DOCS.parent / "scripts" / "gen_cli_docs.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.render()
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert current == expected, "docs/cli.md is stale: run .venv/bin/python scripts/gen_cli_docs.py"


SNAPSHOTS = Path(__file__).resolve().parent / "tui" / "__snapshots__"
DOC_IMAGES = {
    "prompts.svg": "test_every_screen/test_screen[prompts-promptdeck-dark-160x48].svg",
    "compare-running.svg": (
        "test_compare_screen/test_compare_screen_four_columns_with_an_ensemble.svg"
    ),
    "evals.svg": "test_every_screen/test_screen[evals-promptdeck-dark-160x48].svg",
    "traces.svg": "test_traces_stats/test_traces_screen_snapshot.svg",
    "stats.svg": "test_traces_stats/test_stats_screen_snapshot.svg",
    "guardrails.svg": "test_every_screen/test_screen[guardrails-promptdeck-dark-160x48].svg",
}


def test_doc_screenshots_are_the_current_snapshots() -> None:
    """The screenshots in docs/ are copies of snapshot tests, so they show today's screens.

    After a snapshot update: ``cp tests/tui/__snapshots__/<snapshot> docs/images/<image>``.
    """
    shown = {p.name for p in (DOCS / "images").glob("*.svg")}
    assert shown == set(DOC_IMAGES), "map every docs image to the snapshot it copies"
    stale = [
        image
        for image, snapshot in DOC_IMAGES.items()
        if (DOCS / "images" / image).read_bytes() != (SNAPSHOTS / snapshot).read_bytes()
    ]
    assert not stale, f"docs/images out of date (copy from tests/tui/__snapshots__): {stale}"
