"""A gateway call's guardrails: which rules apply, the input check, the output check.

Input rules run before the call (a blocked input never reaches a provider; a
redaction changes the messages sent). Output rules run on the answer: withhold it,
redact it, or ask the model once more for a rewrite naming what was wrong.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

from promptdeck.config import WorkspaceConfig
from promptdeck.core.gateway.inflight import InFlight
from promptdeck.core.gateway.spec import CallSpec
from promptdeck.core.guardrails.checks import check_messages, check_output, rewrite_request
from promptdeck.core.guardrails.policy import Check, Decision, Policy
from promptdeck.core.providers.base import Completion, ErrorKind, Usage
from promptdeck.core.providers.router import Attempt, ModelRouter
from promptdeck.errors import PromptdeckError
from promptdeck.store.calls_repo import SpanRecord

__all__ = ["call_policy", "check_input", "guard_output", "record_checks"]


def call_policy(spec: CallSpec, config: WorkspaceConfig) -> Policy:
    """The guardrails of a call: its own, else the workspace's defaults for prompt calls."""
    if spec.guardrails is not None:
        return Policy.of(spec.guardrails)
    if spec.prompt_name is not None:
        return Policy.of(config.guardrails)
    return Policy()


def record_checks(call: InFlight, checks: Sequence[Check]) -> None:
    """Add one ``guardrail.input``/``guardrail.output`` span per check to the trace."""
    for check in checks:
        call.spans.append(
            SpanRecord(
                f"guardrail.{check.side}",
                "guardrail",
                "error" if check.outcome == "blocked" else "ok",
                datetime.fromtimestamp(check.started, tz=UTC),
                datetime.fromtimestamp(check.ended, tz=UTC),
                check.attributes(),
            )
        )


async def check_input(
    spec: CallSpec, policy: Policy, config: WorkspaceConfig
) -> tuple[CallSpec, Decision, str | None]:
    """Run the input rules (in a thread).

    Returns:
        The spec to call (its messages redacted if a rule said so), the decision, and
        an error when the check itself failed (the call must not be made).
    """
    alias = config.models.get(spec.model)
    window = alias.context_window if alias is not None else None
    error: str | None = None
    decision = Decision(())
    try:
        # A prompt call's rules read its variable values (the template is trusted).
        decision = await asyncio.to_thread(
            check_messages,
            policy.input,
            spec.messages,
            spec.variables,
            context_window=window,
        )
    except PromptdeckError as exc:
        error = f"guardrail check failed: {exc.title}"
    if decision.messages is not None:
        spec = dataclasses.replace(spec, messages=list(decision.messages))
    return spec, decision, error


async def _scan_answer(call: InFlight, policy: Policy, done: Completion) -> Decision:
    users = [m["content"] for m in call.spec.messages if m.get("role") == "user"]
    return await asyncio.to_thread(
        check_output,
        policy.output,
        done.text,
        input_text="\n".join(users),
        json_schema=call.spec.response_format,
    )


async def _rewrite(
    call: InFlight,
    done: Completion,
    checks: Sequence[Check],
    attempts: list[Attempt],
    router: ModelRouter,
) -> Completion:
    """Send the answer back once with its violations named; return the second answer."""
    spec = call.spec
    second = await router.complete(
        call.model_name,
        [*spec.messages, *rewrite_request(done.text, checks)],
        spec.params,
        spec.response_format,
        attempts=attempts,
        overrides=spec.overrides,
    )
    usage = Usage(
        done.usage.prompt_tokens + second.usage.prompt_tokens,
        done.usage.completion_tokens + second.usage.completion_tokens,
        done.usage.estimated or second.usage.estimated,
    )
    return second.but(
        usage=usage,
        latency_ms=done.latency_ms + second.latency_ms,
        retries=done.retries + second.retries,
    )


async def guard_output(
    call: InFlight,
    policy: Policy,
    done: Completion,
    attempts: list[Attempt],
    router: ModelRouter,
) -> Completion:
    """Apply the output rules: withhold, redact, or ask once more for a rewrite."""
    if not policy.output or not done.ok:
        return done
    try:
        decision = await _scan_answer(call, policy, done)
        record_checks(call, decision.checks)
        if decision.rewrite and decision.blocked is None:
            done = await _rewrite(call, done, decision.rewrite, attempts, router)
            if not done.ok:
                return done
            decision = await _scan_answer(call, policy, done)
            record_checks(call, decision.checks)
            if decision.rewrite and decision.blocked is None:
                names = ", ".join(c.rule.scanner for c in decision.rewrite)
                blocked = f"answer withheld: still flagged by {names} after one rewrite"
                decision = dataclasses.replace(decision, blocked=blocked)
    except PromptdeckError as exc:
        return Completion.failure(
            done.model, f"guardrail check failed: {exc.title}", ErrorKind.CONFIG
        )
    call.warnings += decision.warnings
    if decision.blocked is not None:
        return Completion.failure(
            done.model, decision.blocked, ErrorKind.GUARDRAIL, latency_ms=done.latency_ms
        ).but(usage=done.usage, answered_by=done.answered_by, provider=done.provider)
    if decision.texts[0] != done.text:
        done = done.but(text=decision.texts[0])
    return done
