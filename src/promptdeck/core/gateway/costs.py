"""What a call costs, and how many tokens it counts when its provider says nothing.

Prices resolve by the name a call was made with:

- an alias with ``input_cost_per_token`` / ``output_cost_per_token`` costs that, and
  only calls through that alias do (a side it leaves out is litellm's price for its
  model, else 0);
- any other alias, and a bare model string, costs litellm's price for the model:
  zero for ``local/…``, its bundled price map otherwise (read once, offline);
- a model the map does not know has an unknown price: the call's cost is ``None``,
  shown as unknown, never 0 and never another alias's price.

The gateway prices every fresh call, the eval runner its estimate (and
``--max-cost``), and budgets count what the gateway priced, all through one
:class:`CostBook`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from promptdeck.config import ModelAlias, WorkspaceConfig
from promptdeck.core.providers.base import Completion, Usage
from promptdeck.core.providers.local_model import LOCAL_PREFIX
from promptdeck.core.providers.router import Target

__all__ = [
    "CostBook",
    "Estimate",
    "Prices",
    "estimate_prompt_tokens",
    "estimate_tokens",
    "estimate_usage",
    "format_cost",
]

Prices = tuple[float, float] | None
"""Dollars per (input, output) token, or None when unknown."""

JUDGE_OUTPUT_ESTIMATE = 1024
"""Output tokens an ensemble's judge is assumed to write, for estimates."""


def estimate_tokens(text: str) -> int:
    """Count tokens roughly (4 characters a token) when a provider reports none."""
    return math.ceil(len(text) / 4) if text else 0


def estimate_prompt_tokens(messages: Sequence[Mapping[str, str]]) -> int:
    """The input tokens of chat messages, counted roughly: one function for every path."""
    return sum(estimate_tokens(str(m.get("content", ""))) for m in messages)


def estimate_usage(messages: Sequence[Mapping[str, str]], text: str) -> Usage:
    """The usage of a call whose provider reported none (marked ``estimated``)."""
    return Usage(estimate_prompt_tokens(messages), estimate_tokens(text), True)


@dataclass
class Estimate:
    """The estimated cost of calls planned ahead.

    Attributes:
        cost_usd: The cost of the calls whose price is known.
        unpriced: Models (or aliases) whose calls have no known price, in first-seen order.
    """

    cost_usd: float = 0.0
    unpriced: list[str] = field(default_factory=list)

    def add(self, cost: float | None, name: str) -> None:
        """Count one call's estimated cost (None: its model has no known price)."""
        if cost is not None:
            self.cost_usd += cost
        elif name not in self.unpriced:
            self.unpriced.append(name)


class CostBook:
    """Prices per alias and model, looked up once.

    Attributes:
        config: The workspace configuration (for the aliases' own prices).
    """

    def __init__(self, config: WorkspaceConfig) -> None:
        self.config = config
        self._known: dict[str, Prices] = {}

    @staticmethod
    def _own(alias: ModelAlias | None) -> tuple[float | None, float | None] | None:
        if alias is None:
            return None
        own = (alias.input_cost_per_token, alias.output_cost_per_token)
        return None if own == (None, None) else own

    def _model_prices(self, model: str) -> Prices:
        if model.startswith(LOCAL_PREFIX):
            return (0.0, 0.0)
        if model not in self._known:
            from promptdeck.core.providers.litellm_adapter import model_prices

            self._known[model] = model_prices(model)
        return self._known[model]

    def _needs_map(self, name: str, model: str) -> bool:
        own = self._own(self.config.models.get(name))
        complete = own is not None and None not in own
        return not complete and not model.startswith(LOCAL_PREFIX) and model not in self._known

    def prices(self, name: str, model: str | None = None) -> Prices:
        """Return (input, output) dollars per token for a call made as ``name``.

        Args:
            name: The alias or model string the call was made with. Only an alias's
                own prices are its own: a bare model string never takes them.
            model: The model string behind ``name`` (default: resolved from the aliases).

        Returns:
            The prices, or None when they are unknown.
        """
        alias = self.config.models.get(name)
        if model is None:
            model = alias.model if alias is not None else name
        own = self._own(alias)
        if own is None:
            return self._model_prices(model)
        if None not in own:
            return (float(own[0] or 0.0), float(own[1] or 0.0))
        base = self._model_prices(model) or (0.0, 0.0)
        return (
            base[0] if own[0] is None else own[0],
            base[1] if own[1] is None else own[1],
        )

    async def aprices(self, name: str, model: str | None = None) -> Prices:
        """As :meth:`prices`, reading litellm's map in a thread the first time."""
        resolved = model or self.config.resolve_model(name)
        if not self._needs_map(name, resolved):
            return self.prices(name, resolved)
        return await asyncio.to_thread(self.prices, name, resolved)

    def warm(self, models: list[tuple[str, str]]) -> None:
        """Look up prices ahead of time (imports litellm once)."""
        for name, model in models:
            self.prices(name, model)

    async def charge(
        self, done: Completion, messages: Sequence[Mapping[str, str]], answered: Target | None
    ) -> Completion:
        """A fresh answer with its tokens (the provider's, else estimated) and its cost.

        Args:
            done: The answer.
            messages: The request (to estimate its tokens when the provider gave none).
            answered: The model that answered, as it was called (alias or model string).

        Returns:
            The answer, costing the answering model's price, else what the provider
            reported, else None: unknown.
        """
        if done.text and done.usage.total_tokens == 0:
            done = done.but(usage=estimate_usage(messages, done.text))
        if answered is None:
            return done
        priced = self.cost(await self.aprices(answered.name, answered.model), done.usage)
        return done.but(cost_usd=priced if priced is not None else done.cost_usd)

    @staticmethod
    def cost(prices: Prices, usage: Usage) -> float | None:
        """Dollars for ``usage`` at ``prices`` (None when the prices are unknown)."""
        if prices is None:
            return None
        return usage.prompt_tokens * prices[0] + usage.completion_tokens * prices[1]

    def estimate(self, name: str, prompt_tokens: int, max_tokens: int) -> float | None:
        """The most a call made as ``name`` may cost: its prompt and ``max_tokens`` out.

        An ensemble costs its members' calls (and its judge's); None when any of them
        has no known price.
        """
        ensemble = self.config.ensembles.get(name)
        if ensemble is None:
            prices = self.prices(name)
            if prices is None:
                return None
            return prompt_tokens * prices[0] + max_tokens * prices[1]
        total = 0.0
        for member in ensemble.members:
            cost = self.estimate(member, prompt_tokens, max_tokens)
            if cost is None:
                return None
            total += cost
        if ensemble.strategy == "judge":
            judge = ensemble.judge or self.config.judge_model
            judged = prompt_tokens + len(ensemble.members) * max_tokens
            cost = self.estimate(judge, judged, JUDGE_OUTPUT_ESTIMATE)
            if cost is None:
                return None
            total += cost
        return total


def format_cost(cost: float | None, digits: int = 6) -> str:
    """``$0.000123``, or ``$?`` for a cost that is unknown (never shown as 0)."""
    return "$?" if cost is None else f"${cost:.{digits}f}"
