"""Named budgets: spend limits per day, month or in total, with alerts and actions.

Before a call, :meth:`BudgetGuard.check` says whether it may go ahead (``block``),
must go to another model (``switch_to: <model>``) or goes ahead with a warning
(``warn``). After a call, :meth:`BudgetGuard.add` counts its cost and returns the
alert thresholds it crossed, to be recorded as ``budget_event`` rows.

A guard :attr:`~BudgetGuard.shared` by several processes (eval workers on one
database) does not trust its own running totals: it sums the spend in the database
again (under the budget's lock) when its last sum is older than
:attr:`~BudgetGuard.refresh_seconds`, so every worker sees what the others spent; and
it records each alert itself, at once and only if no other process has (so a
threshold alerts once across workers). What a budget can overshoot by is then the
calls already under way in all the workers, plus the answers not yet written (the
gateway writes within a fraction of a second).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from promptdeck.config import BudgetConfig, WorkspaceConfig
from promptdeck.store import spend_repo
from promptdeck.timeutil import utcnow

__all__ = ["BudgetDecision", "BudgetGuard", "BudgetStatus", "budget_status", "period_key"]


def period_key(budget: BudgetConfig, now: datetime) -> tuple[str, str | None]:
    """Return the current period's key and its first day (None for ``total``)."""
    day = now.date().isoformat()  # YYYY-MM-DD (strftime costs ~20 us a call)
    if budget.period == "day":
        return day, day
    if budget.period == "month":
        return day[:7], f"{day[:7]}-01"
    return "total", None


_PERIOD_WORDS = {"day": "today", "month": "this month", "total": "in total"}


@dataclass(frozen=True)
class BudgetDecision:
    """What the budgets say about a call.

    Attributes:
        model: The model to call (another one after ``switch_to``).
        blocked: The error when a ``block`` budget is exhausted.
        warnings: Lines for the user (``warn`` budgets at their limit, switches).
    """

    model: str
    blocked: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


class BudgetGuard:
    """Keeps running totals of the configured budgets.

    Attributes:
        config: The workspace configuration.
    """

    def __init__(
        self,
        config: WorkspaceConfig,
        session: Callable[[], AbstractContextManager[Session]],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self._session = session
        self._clock = clock
        self._spent: dict[str, tuple[str, float]] = {}
        self._alerted: dict[str, tuple[str, set[float]]] = {}
        self._unpriced: set[tuple[str, str]] = set()
        self.shared = False
        self.refresh_seconds = 0.25
        self._read_at: dict[str, float] = {}

    def _models(self, budget: BudgetConfig) -> set[str]:
        names = set(budget.models)
        return names | {self.config.resolve_model(n) for n in budget.models}

    def covers(self, budget: BudgetConfig, name: str, model: str) -> bool:
        """True when ``budget`` counts calls to this model."""
        return not budget.models or bool({name, model} & self._models(budget))

    def spent(self, name: str) -> float:
        """Dollars spent under budget ``name`` in its current period."""
        budget = self.config.budgets[name]
        key, since = period_key(budget, self._clock())
        cached = self._spent.get(name)
        stale = self.shared and time.monotonic() - self._read_at.get(name, 0.0) >= (
            self.refresh_seconds
        )
        if cached is None or cached[0] != key or stale:
            models = sorted(self._models(budget)) if budget.models else []
            with self._session() as session:
                lock = name if self.shared else None
                total = spend_repo.spent(session, since, models, lock=lock)
                alerted = spend_repo.alerted_thresholds(session, name, key)
            self._spent[name] = (key, total)
            self._alerted[name] = (key, alerted)
            self._read_at[name] = time.monotonic()
            return total
        return cached[1]

    def check(self, name: str, model: str) -> BudgetDecision:
        """Decide whether a call to ``name`` (model string ``model``) may go ahead."""
        warnings: list[str] = []
        current_name, current_model = name, model
        for budget_name, budget in self.config.budgets.items():
            if not self.covers(budget, current_name, current_model):
                continue
            spent = self.spent(budget_name)
            if spent < budget.limit_usd:
                continue
            used = f"${spent:.2f} of ${budget.limit_usd:.2f} {_PERIOD_WORDS[budget.period]}"
            if budget.action == "block":
                return BudgetDecision(
                    current_name, blocked=f"budget {budget_name!r} is exhausted ({used})"
                )
            if budget.action.startswith("switch_to:"):
                other = budget.action.split(":", 1)[1].strip()
                if other != current_name:
                    warnings.append(f"budget {budget_name!r} reached ({used}): switched to {other}")
                    current_name, current_model = other, self.config.resolve_model(other)
                continue
            warnings.append(f"budget {budget_name!r} reached ({used})")
        return BudgetDecision(current_name, warnings=tuple(warnings))

    def unpriced(self, name: str, model: str) -> list[str]:
        """Warn, once per model and budget, that a covered call's cost is unknown.

        Such a call cannot be counted (no price is known for it); the warning says how
        to give it one.
        """
        warnings: list[str] = []
        where = f"[models.{name}]" if name in self.config.models else "an alias for it"
        for budget_name, budget in self.config.budgets.items():
            if (budget_name, name) in self._unpriced or not self.covers(budget, name, model):
                continue
            self._unpriced.add((budget_name, name))
            warnings.append(
                f"budget {budget_name!r} cannot count calls to {name}: its price is unknown "
                f"(set input_cost_per_token and output_cost_per_token in {where})"
            )
        return warnings

    def add(self, name: str, model: str, cost: float) -> tuple[list[dict[str, Any]], list[str]]:
        """Count a call's cost; return the budget events and warnings it causes."""
        events: list[dict[str, Any]] = []
        warnings: list[str] = []
        if cost <= 0:
            return events, warnings
        now = self._clock()
        for budget_name, budget in self.config.budgets.items():
            if not self.covers(budget, name, model):
                continue
            before = self.spent(budget_name)
            key = self._spent[budget_name][0]
            after = before + cost
            self._spent[budget_name] = (key, after)
            alerted = self._alerted.setdefault(budget_name, (key, set()))[1]
            for threshold in sorted(budget.alerts):
                limit = threshold * budget.limit_usd
                # Shared: another worker's spend may have crossed it; the first to see
                # it past the threshold records the alert (once, in the database).
                crossed = limit <= after if self.shared else before < limit <= after
                if crossed and threshold not in alerted:
                    alerted.add(threshold)
                    action = budget.action if threshold >= 1 else "alert"
                    event = {
                        "budget": budget_name,
                        "period_key": key,
                        "threshold": threshold,
                        "spent_usd": after,
                        "action": action,
                        "created_at": now,
                    }
                    if self.shared:  # once across workers: recorded now, under the lock
                        with self._session() as session:
                            if not spend_repo.record_alert_once(
                                session, budget_name, key, threshold, after, action, now
                            ):
                                continue  # another worker alerted it
                    else:
                        events.append(event)
                    warnings.append(
                        f"budget {budget_name!r} at {threshold:.0%}: ${after:.4f} of "
                        f"${budget.limit_usd:.2f} {_PERIOD_WORDS[budget.period]}"
                    )
        return events, warnings


@dataclass(frozen=True)
class BudgetStatus:
    """Where a budget stands in its current period.

    Attributes:
        name: The budget's name.
        spent_usd: Spent in the current period.
        limit_usd: The limit.
        period: ``day``, ``month`` or ``total``.
        action: What happens at the limit.
    """

    name: str
    spent_usd: float
    limit_usd: float
    period: str
    action: str

    @property
    def fraction(self) -> float:
        """Spent over the limit (1.0 when the limit is 0)."""
        return self.spent_usd / self.limit_usd if self.limit_usd else 1.0


def budget_status(
    config: WorkspaceConfig, session: Session, now: datetime | None = None
) -> list[BudgetStatus]:
    """Return every configured budget's spend in its current period."""
    moment = now or utcnow()
    out = []
    for name, budget in config.budgets.items():
        _key, since = period_key(budget, moment)
        models = sorted(set(budget.models) | {config.resolve_model(m) for m in budget.models})
        spent = spend_repo.spent(session, since, models)
        out.append(BudgetStatus(name, spent, budget.limit_usd, budget.period, budget.action))
    return out
