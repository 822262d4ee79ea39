"""The ids of the TUI's key bindings, as ``[keymap]`` in ``promptdeck.toml`` may name them.

Plain data, so the engine can check a configuration without importing the TUI
(which defines the bindings themselves). ``tests/tui/test_keymap_ids.py`` holds the
two lists together: a binding added to a screen without its id here fails it.
"""

from __future__ import annotations

__all__ = ["KEYMAP_IDS"]

KEYMAP_IDS: frozenset[str] = frozenset(
    {
        "app.help",
        "comment.cancel",
        "compare.diff",
        "compare.hide",
        "compare.members",
        "compare.move_left",
        "compare.move_right",
        "compare.narrow",
        "compare.next",
        "compare.prev",
        "compare.rate",
        "compare.run",
        "compare.show_all",
        "compare.thumbs_down",
        "compare.thumbs_up",
        "compare.widen",
        "conflict.diff",
        "conflict.keep_mine",
        "conflict.later",
        "conflict.take_theirs",
        "dialog.cancel",
        "evals.comment",
        "evals.filter",
        "evals.grid",
        "evals.leave",
        "evals.rate_1",
        "evals.rate_2",
        "evals.rate_3",
        "evals.rate_4",
        "evals.rate_5",
        "evals.run",
        "evals.search",
        "evals.thumbs_down",
        "evals.thumbs_up",
        "guardrails.leave",
        "guardrails.refresh",
        "guardrails.suite",
        "guardrails.type",
        "keys.close",
        "prompts.approve",
        "prompts.diff",
        "prompts.edit",
        "prompts.history",
        "prompts.label",
        "prompts.leave",
        "prompts.lint",
        "prompts.resync",
        "prompts.revert",
        "prompts.save",
        "prompts.version",
        "screen.compare",
        "screen.evals",
        "screen.guardrails",
        "screen.leave_field",
        "screen.prompts",
        "screen.stats",
        "screen.traces",
        "stats.refresh",
        "traces.filter",
        "traces.newer",
        "traces.older",
        "traces.refresh",
        "traces.similar",
        "traces.to_case",
    }
)
