"""A container mounted when its screen says so, not before the first paint."""

from __future__ import annotations

import contextlib

from textual.lazy import Lazy
from textual.widget import MountError, Widget

__all__ = ["Deferred"]


class Deferred(Lazy):
    """Textual's ``Lazy``, mounted when the screen calls :meth:`reveal`.

    ``Lazy`` mounts right after the first refresh; the Prompts screen's hidden tabs
    (editor, history, diff, lint) wait longer, until the prompt list is on screen,
    so neither the first paint nor the list waits for them.
    """

    async def mount_composed_widgets(self, widgets: list[Widget]) -> None:
        """Keep the children in the wrapped widget until :meth:`reveal`."""
        return

    async def reveal(self) -> None:
        """Mount the wrapped widget in place of this one (unless the app is leaving)."""
        parent = self.parent
        if not isinstance(parent, Widget) or not (parent.is_attached and self.is_attached):
            return
        if self.app._exit:
            return
        with contextlib.suppress(MountError):
            await parent.mount(self._replace_widget, after=self)
            await self.remove()
