"""The engine's list of binding ids is the TUI's: every binding with an id, and no more."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.binding import Binding

import promptdeck.tui
from promptdeck.keymap_ids import KEYMAP_IDS


def _tui_binding_ids() -> set[str]:
    found: set[str] = set()
    for info in pkgutil.walk_packages(promptdeck.tui.__path__, "promptdeck.tui."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                for binding in getattr(obj, "BINDINGS", None) or []:
                    if isinstance(binding, Binding) and binding.id:
                        found.add(binding.id)
    return found


def test_keymap_ids_are_the_tuis_binding_ids() -> None:
    tui = _tui_binding_ids()
    assert tui, "no binding ids found: the collector is broken"
    assert tui - KEYMAP_IDS == set(), "add these to promptdeck/keymap_ids.py"
    assert KEYMAP_IDS - tui == set(), "no binding has these ids any more"
