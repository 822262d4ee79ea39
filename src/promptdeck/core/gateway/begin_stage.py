"""The first stage of a gateway call: its render span, the budget check, what it resolves to.

:func:`begin` turns a :class:`~promptdeck.core.gateway.spec.CallSpec` (its messages
already redacted by the input guardrails, if any) into an
:class:`~promptdeck.core.gateway.inflight.InFlight`: the trace's first spans, the
model a budget may have switched to, the parameters the call will run with (its
``max_tokens`` lowered to what the context window leaves, :mod:`.context_stage`) and
its cache key. A budget that blocks the call, or a prompt longer than the model's
context window, gives the failure to record instead of a provider call.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from promptdeck.config import WorkspaceConfig
from promptdeck.core.gateway.budgets import BudgetGuard
from promptdeck.core.gateway.context_stage import ContextFit, ContextWindows
from promptdeck.core.gateway.inflight import InFlight, trace_uid
from promptdeck.core.gateway.keys import exact_key, request_hash
from promptdeck.core.gateway.recording import note_warnings
from promptdeck.core.gateway.request_fit import fit_request
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


def _context_span(fit: ContextFit, start: datetime, spec: CallSpec) -> SpanRecord:
    """The span of the context-window check (only when the tokens were counted)."""
    return SpanRecord(
        "context_window",
        "context",
        "error" if fit.refused else "ok",
        start,
        utcnow(),
        {
            "promptdeck.context.window": fit.window,
            "promptdeck.context.prompt_tokens": fit.prompt_tokens,
            "promptdeck.context.max_tokens": fit.max_tokens,
        },
    )


def begin(
    spec: CallSpec,
    config: WorkspaceConfig,
    budgets: BudgetGuard,
    router: ModelRouter,
    windows: ContextWindows | None = None,
) -> tuple[InFlight, Completion | None]:
    """Begin a call: its first spans, the budget's verdict, its target, params and key.

    Args:
        spec: The call.
        config: The workspace configuration (its budgets and aliases).
        budgets: The running budget totals.
        router: Resolves the model and merges the call's parameters.
        windows: Checks the prompt against the model's context window (None: no check).

    Returns:
        The call under way, and the failure to record when a budget blocks it or the
        prompt does not fit the model's context window.
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
    c_start = utcnow()
    fitted = fit_request(spec, model_name, router, windows, check_window=blocked is None)
    spec, fit = fitted.spec, fitted.fit
    if fit.checked:
        spans.append(_context_span(fit, c_start, spec))
    if fit.refused:
        blocked = Completion.failure(spec.model, fit.refused, ErrorKind.CONTEXT_WINDOW)
    call = InFlight(
        spec=spec,
        uid=trace_uid(),
        started=started,
        perf=perf,
        spans=spans,
        model_name=model_name,
        target=fitted.target,
        params=fitted.params,
        rhash=fitted.rhash,
        key=fitted.key,
        warnings=warnings,
    )
    note_warnings(call, "context", fit.warnings)
    return call, blocked
