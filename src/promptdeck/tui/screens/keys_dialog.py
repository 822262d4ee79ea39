"""F1: every key of the current screen, with the id to remap it by and what it does.

The ids are what ``[keymap]`` in ``promptdeck.toml`` takes (``"compare.run" = "f5"``);
the keys shown are the ones in force, after the user's keymap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

__all__ = ["KeyRow", "KeysDialog", "key_rows"]


@dataclass(frozen=True)
class KeyRow:
    """One binding as F1 lists it."""

    id: str
    key: str
    description: str


def key_rows(app: App[Any], screen: Screen[Any]) -> list[KeyRow]:
    """The screen's bindings, then the app's: id, key (after the keymap), description.

    Bindings without a description (Textual's own plumbing) are left out; one action
    bound to several keys is one row with the keys joined.
    """
    rows: dict[tuple[str, str], KeyRow] = {}
    for node in (screen, app):
        mapped = node._bindings.copy()
        mapped.apply_keymap(app._keymap)
        for key, bindings in mapped.key_to_bindings.items():
            for binding in bindings:
                if not binding.description:
                    continue
                ident = binding.id or "-"
                shown = app.get_key_display(binding.with_key(key))
                previous = rows.get((ident, binding.action))
                if previous is not None:
                    shown = f"{previous.key}, {shown}"
                rows[(ident, binding.action)] = KeyRow(ident, shown, binding.description)
    # The workbench's own keys (with an id to remap them by) first, Textual's after.
    return sorted(rows.values(), key=lambda row: row.id == "-")


class KeysDialog(ModalScreen[None]):
    """The keys of the screen below, in a table; F1 or Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1", "dismiss", "Close", id="keys.close"),
    ]

    def __init__(self, title: str, rows: list[KeyRow]) -> None:
        super().__init__()
        self._title = title
        self._rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="keys-box"):
            yield Static(f"Keys of {self._title}", id="keys-title")
            yield DataTable(id="keys-table", cursor_type="row", zebra_stripes=True)
            yield Static(
                'Remap one in promptdeck.toml: [keymap] "<id>" = "<key>"  ·  esc closes',
                id="keys-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Id", "Key", "Does")
        for row in self._rows:
            table.add_row(row.id, row.key, row.description)
        table.focus()

    async def action_dismiss(self, result: None = None) -> None:
        """Close the list."""
        self.dismiss(result)
