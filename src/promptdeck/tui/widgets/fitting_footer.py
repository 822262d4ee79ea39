"""The workbench's footer: every key when there is room, the spare ones stepping aside when not.

Textual's footer scrolls sideways with the mouse wheel only (no scrollbar, no key,
nothing saying more keys lie past the edge), and the app's own keys (F1, the screen
numbers) come last in it: a footer wider than the terminal would hide F1 itself.
So a screen names its *spare* keys (``FOOTER_SPARE``: actions still in F1 and the
command palette); they show while the footer has room and leave it, the first named
first, when it has not (an 80-column terminal). The footer is laid out again on
every resize and whenever its keys change (focus, a dialog).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.widget import Widget

__all__ = ["FittingFooter"]

LAYOUT_TRIES = 10
"""How many refreshes a fit waits for newly composed keys to be laid out."""


def _key_width(key: FooterKey) -> int:
    """How many cells a compact footer key takes: ``k Description`` and its margin."""
    width = cell_len(key.key_display)
    if key.description:
        width += 1 + cell_len(key.description)
    return width + 1


def _outer_width(widget: Widget) -> int:
    return widget.outer_size.width + widget.styles.margin.width


class FittingFooter(Footer):
    """A compact footer whose spare keys (the screen's ``FOOTER_SPARE``) show when they fit."""

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self._left: set[str] = set()
        self._tries = 0
        """The spare actions the last fit left out (kept out of a recompose at once)."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.action in self._left:
                widget.display = False  # no flash of a key that does not fit
            yield widget
        self._tries = 0
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        """Fit the keys to the new width."""
        self.fit()

    @property
    def spare_actions(self) -> tuple[str, ...]:
        """The screen's spare actions, the first to leave first."""
        return tuple(getattr(self.screen, "FOOTER_SPARE", ()))

    def fit(self) -> None:
        """Show every spare key that fits beside the others; hide the rest."""
        spare_actions = self.spare_actions
        if not spare_actions or not self.is_attached:
            return
        spare: dict[str, FooterKey] = {}
        used = 0
        for child in self.children:
            if (
                isinstance(child, FooterKey)
                and child.action in spare_actions
                and not child.has_class("-command-palette")
            ):
                spare[child.action] = child
            elif child.display and not child.outer_size.width:
                if self._tries < LAYOUT_TRIES:  # new keys not laid out yet: measure later
                    self._tries += 1
                    self.call_after_refresh(self.fit)
                return
            else:
                used += _outer_width(child)  # the palette key too: it is docked right
        room = self.size.width - used
        keep: set[str] = set()
        for action in reversed(spare_actions):  # the last named is the last to leave
            key = spare.get(action)
            if key is not None and _key_width(key) <= room:
                keep.add(action)
                room -= _key_width(key)
        for action, key in spare.items():
            key.display = action in keep
        self._left = set(spare) - keep
