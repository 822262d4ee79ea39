"""The first stage of a gateway call: its render span, the budget check, what it resolves to.

:func:`begin` turns a :class:`~promptdeck.core.gateway.spec.CallSpec` (its messages
already redacted by the input guardrails, if any) into an
:class:`~promptdeck.core.gateway.inflight.InFlight`: the trace's first spans, the
model a budget may have switched to, the parameters the call will run with and its
cache key. A budget that blocks the call gives the failure to record instead of a
provider call.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from promptdeck.config import WorkspaceConfig
from promptdeck.core.gateway.budgets import BudgetGuard
from promptdeck.core.gateway.inflight import InFlight, trace_uid
from promptdeck.core.gateway.keys import exact_key, request_hash
from promptdeck.core.gateway.spec import CallSpec
from promptdeck.core.providers.base import Completion, ErrorKind
from promptdeck.core.providers.router import ModelRouter
from promptdeck.store.calls_repo import SpanRecord
from promptdeck.timeutil import utcnow

__all__ = ["begin", "cache_key"]


def cache_key(router: ModelRouter, spec: CallSpec) -> str:
    """The exact-cache key of a call: its request (as it will be sent) and repeat index."""
    target = router.resolve(spec.model)
    params = router.params(target, spec.params, spec.overrides)
    rhash = request_hash(target.model, spec.messages, params, spec.response_format)
    return exact_key(rhash, spec.repeat)


def _render_span(spec: CallSpec, ended: datetime) -> SpanRecord | None:
    """The span of the prompt's rendering, which ended as the call began (if it had one)."""
    if spec.render_ms is None:
        return None
    return SpanRecord(
        "render",
        "render",
        "ok",
        ended - timedelta(milliseconds=spec.render_ms),
        ended,
        {
            "promptdeck.prompt.name": spec.prompt_name,
            "promptdeck.prompt.version": spec.prompt_version,
            "promptdeck.prompt.variables": sorted((spec.variables or {}).keys()),
        },
    )


def begin(
    spec: CallSpec, config: WorkspaceConfig, budgets: BudgetGuard, router: ModelRouter
) -> tuple[InFlight, Completion | None]:
    """Begin a call: its first spans, the budget's verdict, its target, params and key.

    Args:
        spec: The call.
        config: The workspace configuration (its budgets and aliases).
        budgets: The running budget totals.
        router: Resolves the model and merges the call's parameters.

    Returns:
        The call under way, and the failure to record when a budget blocks it.
    """
    started, perf = utcnow(), time.perf_counter()
    spans: list[SpanRecord] = []
    render = _render_span(spec, started)
    if render is not None:
        spans.append(render)
    warnings: list[str] = []
    model_name = spec.model
    blocked: Completion | None = None
    if config.budgets:
        b_start = utcnow()
        decision = budgets.check(spec.model, config.resolve_model(spec.model))
        warnings += decision.warnings
        model_name = decision.model
        spans.append(
            SpanRecord(
                "budget",
                "budget",
                "error" if decision.blocked else "ok",
                b_start,
                utcnow(),
                {
                    "promptdeck.budget.model": model_name,
                    "promptdeck.budget.warnings": list(decision.warnings),
                },
            )
        )
        if decision.blocked:
            blocked = Completion.failure(spec.model, decision.blocked, ErrorKind.BUDGET)
    target = router.resolve(model_name)
    params = router.params(target, spec.params, spec.overrides)
    rhash = request_hash(target.model, spec.messages, params, spec.response_format)
    call = InFlight(
        spec=spec,
        uid=trace_uid(),
        started=started,
        perf=perf,
        spans=spans,
        model_name=model_name,
        target=target,
        params=params,
        rhash=rhash,
        key=exact_key(rhash, spec.repeat),
        warnings=warnings,
    )
    return call, blocked
