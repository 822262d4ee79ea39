"""What a model name resolves to, the attempts a call makes, and who serves each kind.

A :class:`Target` is a model string (or alias) resolved against ``promptdeck.toml``;
its ``kind`` says which provider serves it. :class:`DefaultProviders` builds the real
providers, one of each kind, on first use; tests inject a factory of their own.
:class:`~promptdeck.core.providers.router.ModelRouter` makes the calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptdeck.config import ModelAlias, WorkspaceConfig
from promptdeck.core.providers.base import Completion, Provider
from promptdeck.core.providers.local_model import LOCAL_PREFIX
from promptdeck.core.providers.openai_http import is_openai_compatible
from promptdeck.errors import UsageError

__all__ = [
    "Attempt",
    "DefaultProviders",
    "ProviderFactory",
    "Target",
    "check_model",
    "default_provider_factory",
]


def check_model(config: WorkspaceConfig, name: str) -> None:
    """Refuse a model name that is no alias, ensemble, ``provider/model`` or known model.

    Decided from the configuration and litellm's bundled model map (read without
    importing litellm), so an unknown name is refused at once, before any call.

    Raises:
        UsageError: Naming the model, with the aliases and ensembles that would work.
    """
    if name in config.models or name in config.ensembles or "/" in name.strip("/"):
        return
    from promptdeck.core.providers.litellm_adapter import model_info

    if name.strip() and model_info(name) is not None:
        return
    known = sorted([*config.models, *config.ensembles])
    raise UsageError(
        f"unknown model {name!r}",
        "use provider/model (e.g. openai/gpt-4o-mini)"
        + (f" or one of: {', '.join(known)}" if known else "")
        + " — aliases and ensembles are defined in promptdeck.toml",
    )


@dataclass(frozen=True)
class Target:
    """A model name resolved against the configuration.

    Attributes:
        name: What the caller asked for (an alias or a model string).
        model: The litellm model string.
        api_base: The OpenAI-compatible endpoint, if any.
        api_key_env: The variable holding the key, if any.
        params: The alias's default parameters.
        alias: The alias, when ``name`` is one.
    """

    name: str
    model: str
    api_base: str | None = None
    api_key_env: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    alias: ModelAlias | None = None

    @property
    def kind(self) -> str:
        """Which provider serves it: ``local``, ``http`` or ``litellm``."""
        if self.model.startswith(LOCAL_PREFIX):
            return "local"
        if is_openai_compatible(self.model, self.api_base):
            return "http"
        return "litellm"


@dataclass(frozen=True)
class Attempt:
    """One model tried for a call (for the trace's provider spans).

    Attributes:
        target: The model tried.
        provider: The provider's name.
        completion: Its outcome (an error value on failure).
        reason: Why it was tried: ``primary``, ``on_rate_limit``, ``on_timeout``, ``on_error``.
        started: ``time.time()`` when it started.
        params: The parameters it was called with (its alias's, merged).
    """

    target: Target
    provider: str
    completion: Completion
    reason: str
    started: float
    params: Mapping[str, Any] = field(default_factory=dict)


ProviderFactory = Callable[[Target], Provider]
"""Builds (or returns a shared) provider for a target; tests inject a fake one."""


class DefaultProviders:
    """The real providers: one instance of each kind, shared by all calls."""

    def __init__(self, config: WorkspaceConfig, root: Path) -> None:
        self.config = config
        self.root = root
        self.providers: dict[str, Provider] = {}

    def __call__(self, target: Target) -> Provider:
        """Return the provider serving ``target``."""
        kind = target.kind
        if kind not in self.providers:
            if kind == "local":
                from promptdeck.core.providers.local import LocalProvider

                self.providers[kind] = LocalProvider(self.config, self.root)
            elif kind == "http":
                from promptdeck.core.providers.openai_http import OpenAIHTTPProvider

                self.providers[kind] = OpenAIHTTPProvider()
            else:
                from promptdeck.core.providers.litellm_adapter import LitellmProvider

                self.providers[kind] = LitellmProvider()
        return self.providers[kind]

    async def aclose(self) -> None:
        """Close the providers' connection pools."""
        for provider in self.providers.values():
            closer = getattr(provider, "aclose", None)
            if closer is not None:
                await closer()


def default_provider_factory(config: WorkspaceConfig, root: Path) -> DefaultProviders:
    """The real providers for a workspace."""
    return DefaultProviders(config, root)
