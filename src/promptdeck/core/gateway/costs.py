"""What a call costs: the alias's override, zero for local models, else litellm's price map.

litellm's bundled price map is read once (offline), off the event loop; after
that a price is a dictionary look-up.
"""

from __future__ import annotations

import asyncio
import math

from promptdeck.config import WorkspaceConfig
from promptdeck.core.providers.base import Usage
from promptdeck.core.providers.local_model import LOCAL_PREFIX

__all__ = ["CostBook", "estimate_tokens"]

Prices = tuple[float, float] | None


def estimate_tokens(text: str) -> int:
    """Count tokens roughly (4 characters a token) when a provider reports none."""
    return math.ceil(len(text) / 4) if text else 0


class CostBook:
    """Prices per model, looked up once.

    Attributes:
        config: The workspace configuration (for per-alias overrides).
    """

    def __init__(self, config: WorkspaceConfig) -> None:
        self.config = config
        self._known: dict[str, Prices] = {}

    def _override(self, name: str) -> Prices:
        alias = self.config.models.get(name)
        if alias is None:
            for candidate in self.config.models.values():
                if candidate.model == name:
                    alias = candidate
                    break
        if alias is None:
            return None
        if alias.input_cost_per_token is None and alias.output_cost_per_token is None:
            return None
        return (alias.input_cost_per_token or 0.0, alias.output_cost_per_token or 0.0)

    def prices(self, name: str, model: str) -> Prices:
        """Return (input, output) dollars per token for a model, or None when unknown.

        Args:
            name: The alias or model string the caller asked for.
            model: The litellm model string behind it.
        """
        if model in self._known and name == model:
            return self._known[model]
        override = self._override(name)
        if override is not None:
            return override
        if model.startswith(LOCAL_PREFIX):
            return (0.0, 0.0)
        if model not in self._known:
            from promptdeck.core.providers.litellm_adapter import model_prices

            self._known[model] = model_prices(model)
        return self._known[model]

    async def aprices(self, name: str, model: str) -> Prices:
        """As :meth:`prices`, reading litellm's map in a thread the first time."""
        if model in self._known or model.startswith(LOCAL_PREFIX) or self._override(name):
            return self.prices(name, model)
        return await asyncio.to_thread(self.prices, name, model)

    def warm(self, models: list[tuple[str, str]]) -> None:
        """Look up prices ahead of time (imports litellm once)."""
        for name, model in models:
            self.prices(name, model)

    @staticmethod
    def cost(prices: Prices, usage: Usage) -> float | None:
        """Dollars for ``usage`` at ``prices`` (None when the prices are unknown)."""
        if prices is None:
            return None
        return usage.prompt_tokens * prices[0] + usage.completion_tokens * prices[1]
