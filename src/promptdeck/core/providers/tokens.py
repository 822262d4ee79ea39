"""Count the tokens of chat messages for a model, and find its context window.

Local models count with their own tokenizer (llama.cpp, vocabulary only: no weights
loaded); other models with litellm's counter and price map (imported lazily, offline).
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from promptdeck.config import WorkspaceConfig
from promptdeck.core.providers.local_model import LOCAL_PREFIX, local_model_path
from promptdeck.core.workspace.offline import apply_offline_environment
from promptdeck.errors import RuntimeFailureError

__all__ = ["MESSAGE_OVERHEAD", "TokenCounting"]

MESSAGE_OVERHEAD = 4
"""Tokens a chat template adds around each message (role markers), approximately."""

_vocab_lock = threading.Lock()


@contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what native code writes to file descriptor 2 (llama.cpp's log)."""
    saved = os.dup(2)
    try:
        with Path(os.devnull).open("wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@lru_cache(maxsize=4)
def _vocabulary(path: Path) -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise RuntimeFailureError(
            "llama-cpp-python is not installed, so local token counts are unavailable",
            "run `make setup`",
        ) from exc
    with _quiet_native_stderr():
        vocabulary = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    # Freed before the interpreter tears llama_cpp down (its finalizer would then fail).
    atexit.register(vocabulary.close)
    return vocabulary


class TokenCounting:
    """Token counts and context windows for the models of one workspace."""

    def __init__(self, config: WorkspaceConfig, root: Path) -> None:
        self.config = config
        self.root = root

    def context_window(self, model: str) -> int | None:
        """Return the model's context window in tokens, or None when unknown."""
        for alias in self.config.models.values():
            if alias.model == model and alias.context_window:
                return alias.context_window
        if model.startswith(LOCAL_PREFIX):
            declared = self.config.local_models.get(model.removeprefix(LOCAL_PREFIX))
            return declared.context_window if declared else 2048
        info = self._litellm_info(model)
        window = info.get("max_input_tokens") or info.get("max_tokens")
        return int(window) if window else None

    def count(self, model: str, messages: list[dict[str, str]]) -> int:
        """Return the tokens the messages take for ``model``."""
        if model.startswith(LOCAL_PREFIX):
            vocabulary = _vocabulary(local_model_path(model, self.config, self.root))
            with _vocab_lock:
                return sum(
                    len(vocabulary.tokenize(m["content"].encode("utf-8"), add_bos=False))
                    + MESSAGE_OVERHEAD
                    for m in messages
                )
        litellm = self._litellm()
        return int(litellm.token_counter(model=model, messages=messages))

    def __call__(self, model: str, messages: list[dict[str, str]]) -> tuple[int, int | None]:
        """Count tokens and find the window (the lint hook)."""
        return self.count(model, messages), self.context_window(model)

    @staticmethod
    def _litellm() -> Any:
        apply_offline_environment()
        import litellm

        litellm.suppress_debug_info = True
        return litellm

    def _litellm_info(self, model: str) -> dict[str, Any]:
        from promptdeck.core.providers.litellm_adapter import model_info

        return dict(model_info(model) or {})
