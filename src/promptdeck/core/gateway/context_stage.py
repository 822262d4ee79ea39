"""Part of the begin stage: does the rendered prompt fit the model's context window?

A prompt longer than the window is refused before any call, naming the prompt and
both sizes; one that fits but leaves less room than ``max_tokens`` is sent with
``max_tokens`` lowered to what is left, and says so in a warning recorded on the
call's ``context`` span. A model whose window is unknown is not checked.

Counting tokens costs a tokenizer (the local model's vocabulary, or litellm's
counter): it is skipped when the prompt's UTF-8 bytes plus ``max_tokens`` already fit,
since no token is shorter than a byte.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptdeck.config import WorkspaceConfig
from promptdeck.core.providers.targets import Target
from promptdeck.core.providers.tokens import MESSAGE_OVERHEAD, TokenCounting

__all__ = ["ContextFit", "ContextWindows"]

Counter = Callable[[str, list[dict[str, str]]], int]
"""(model, messages) -> the tokens they take."""


@dataclass(frozen=True)
class ContextFit:
    """What the window check decided for one call.

    Attributes:
        window: The model's context window (None: unknown, not checked).
        prompt_tokens: The prompt's tokens, when they were counted.
        refused: Why the call is refused (the prompt alone does not fit), or None.
        max_tokens: ``max_tokens`` lowered to what fits, or None to leave it.
        warnings: What to tell the user (and record on the trace).
    """

    window: int | None = None
    prompt_tokens: int | None = None
    refused: str | None = None
    max_tokens: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def checked(self) -> bool:
        """True when the tokens were counted against a known window."""
        return self.window is not None and self.prompt_tokens is not None


class ContextWindows:
    """Context windows and token counts for one gateway's calls.

    Attributes:
        count: Counts the tokens of messages for a model (replaceable in tests).
    """

    def __init__(self, config: WorkspaceConfig, root: Path) -> None:
        self._counting = TokenCounting(config, root)
        self._windows: dict[str, int | None] = {}
        self.count: Counter = self._counting.count

    def window(self, target: Target) -> int | None:
        """The context window of ``target`` (its alias's, the local model's, litellm's)."""
        if target.alias is not None and target.alias.context_window:
            return target.alias.context_window
        if target.model not in self._windows:
            try:
                self._windows[target.model] = self._counting.context_window(target.model)
            except Exception:  # an unreadable price map: the window is unknown
                self._windows[target.model] = None
        return self._windows[target.model]

    def fit(
        self,
        target: Target,
        messages: Sequence[Mapping[str, str]],
        params: Mapping[str, Any],
        prompt_name: str | None,
    ) -> ContextFit:
        """Check the messages and ``max_tokens`` against the target's window."""
        window = self.window(target)
        if window is None:
            return ContextFit()
        asked = params.get("max_tokens")
        reserve = asked if isinstance(asked, int) and asked > 0 else 0
        most = sum(len(m.get("content", "").encode("utf-8")) for m in messages)
        if most + MESSAGE_OVERHEAD * len(messages) + reserve <= window:
            return ContextFit(window)
        try:
            tokens = self.count(target.model, [dict(m) for m in messages])
        except Exception:  # no tokenizer here (a missing model file…): the provider decides
            return ContextFit(window)
        what = f"prompt {prompt_name!r}" if prompt_name else "the prompt"
        if tokens >= window:
            return ContextFit(
                window,
                tokens,
                refused=f"{what} is {tokens:,} tokens, over the {window:,}-token context "
                f"window of {target.name}",
            )
        if reserve and tokens + reserve > window:
            room = window - tokens
            warning = (
                f"max_tokens lowered from {reserve:,} to {room:,}: {what} takes {tokens:,} "
                f"of the {window:,}-token context window of {target.name}"
            )
            return ContextFit(window, tokens, max_tokens=room, warnings=[warning])
        return ContextFit(window, tokens)
