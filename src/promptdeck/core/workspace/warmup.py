"""Load the heavy parts of the engine ahead of the first model call.

Front ends call :func:`warm_up` off their main thread (the TUI in a worker after
its first paint) so that nothing a user sees waits for litellm or the model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from promptdeck.config import WorkspaceConfig
from promptdeck.core.providers.local_model import LOCAL_PREFIX, get_local_model
from promptdeck.core.workspace.offline import apply_offline_environment
from promptdeck.errors import PromptdeckError

__all__ = ["WarmupResult", "warm_up"]


@dataclass(frozen=True)
class WarmupResult:
    """How warming up went.

    Attributes:
        model: The default model it prepared.
        ready: True when the model can be called.
        message: A short status for the user ("ready in 0.4 s", or what is wrong).
        seconds: Wall time spent.
    """

    model: str
    ready: bool
    message: str
    seconds: float


def warm_up(config: WorkspaceConfig, root: Path) -> WarmupResult:
    """Import litellm and load the default model when it is local.

    Args:
        config: The workspace configuration.
        root: The workspace folder.

    Returns:
        The outcome; failures are values, not exceptions.
    """
    start = time.perf_counter()
    model = config.resolve_model(config.default_model)
    apply_offline_environment()
    try:
        import litellm

        litellm.suppress_debug_info = True
        if model.startswith(LOCAL_PREFIX):
            get_local_model(model, config, root).load()
    except PromptdeckError as error:
        return WarmupResult(model, False, error.title, time.perf_counter() - start)
    except ImportError as exc:
        return WarmupResult(model, False, f"cannot import {exc.name}", time.perf_counter() - start)
    seconds = time.perf_counter() - start
    return WarmupResult(model, True, f"ready in {seconds:.1f} s", seconds)
