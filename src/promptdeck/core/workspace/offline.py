"""Keep third-party libraries offline and telemetry-free.

litellm fetches a price list at import and deepeval phones home and loads ``.env``
files unless told otherwise; both read these variables at import time, so
:func:`apply_offline_environment` must run before either is imported. Every entry
point calls it first.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

__all__ = ["FORCED", "apply_offline_environment"]

FORCED: dict[str, str] = {
    # litellm: use the bundled price map, never fetch one; no debug banners.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_TELEMETRY": "False",
    # deepeval: no telemetry, no reading of ./.env into the environment.
    "DEEPEVAL_TELEMETRY_OPT_OUT": "1",
    "DEEPEVAL_DISABLE_DOTENV": "1",
    # Hugging Face libraries: never reach a hub at run time.
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
}
"""Variables set whatever their current value: privacy is not optional."""

DEFAULTS: dict[str, str] = {
    "LITELLM_LOG": "ERROR",
    "TOKENIZERS_PARALLELISM": "false",
}
"""Variables set only when the user has not set them."""


def apply_offline_environment(
    state_dir: Path | None = None, environ: MutableMapping[str, str] | None = None
) -> None:
    """Set the environment that keeps litellm, deepeval and HF offline and quiet.

    Args:
        state_dir: The workspace's state folder; deepeval's cache goes there
            instead of a ``.deepeval/`` folder in the current directory.
        environ: The environment to change (default: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    env.update(FORCED)
    for key, value in DEFAULTS.items():
        env.setdefault(key, value)
    if state_dir is not None:
        env["DEEPEVAL_CACHE_FOLDER"] = str(state_dir / "deepeval")
