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
    from promptdeck.tui.screens.prompts import PromptsScreen

    text = (DOCS / "formats.md").read_text(encoding="utf-8")
    ids = [b.id for b in [*PromptdeckApp.BINDINGS, *PromptsScreen.BINDINGS]]  # type: ignore[union-attr]
    assert all(ids)
    missing = [i for i in ids if f"`{i}`" not in text]
    assert not missing, f"binding ids missing from docs/formats.md: {missing}"
