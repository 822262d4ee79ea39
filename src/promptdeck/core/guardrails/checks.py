"""Apply a guardrail policy to a call's input and to its answer.

:func:`check_messages` scans a call's input before it is made and :func:`check_output`
scans the answer; each returns a :class:`~promptdeck.core.guardrails.policy.Decision`
(see :mod:`promptdeck.core.guardrails.policy` for the rules and what their actions do).

What the input rules read: for a prompt call, the *variable values* (the untrusted
part; the template's own wording is the prompt author's and is trusted, so it can
never push a benign value over a threshold); for a call without variables (raw text,
a chat), the user messages. Scanners that judge the prompt as a whole
(``context-size``) always read every rendered message. ``redact`` on a prompt call
redacts each flagged value and replaces every verbatim occurrence of it in the
rendered messages (any role) by its redacted form; a value that a template filter
changed so that it occurs nowhere verbatim is handled by redacting what the rule
finds in the whole rendered messages instead.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

from promptdeck.core.guardrails.base import (
    ScanContext,
    Side,
    Span,
    Verdict,
    get_scanner,
    scan_texts,
)
from promptdeck.core.guardrails.policy import Check, Decision, PolicyRule
from promptdeck.core.guardrails.values import replace_values, untrusted_texts

__all__ = [
    "check_input",
    "check_messages",
    "check_output",
    "redact_spans",
    "rewrite_request",
]


def redact_spans(text: str, spans: Sequence[Span]) -> str:
    """Replace each span of ``text`` with ``[TYPE]`` (overlaps merged)."""
    from promptdeck.core.guardrails.pii import redact

    return redact(text, spans)


def _context(rule: PolicyRule, base: ScanContext) -> ScanContext:
    options = rule.options
    schema = options.get("schema", base.json_schema)
    window = options.get("context_window", base.context_window)
    return ScanContext(
        input_text=base.input_text,
        reference=options.get("reference", base.reference),
        json_schema=schema if isinstance(schema, Mapping) else None,
        pattern=options.get("pattern", base.pattern),
        expect_json=bool(options.get("expect_json", base.expect_json)),
        context_window=int(window) if window else None,
        thresholds={rule.scanner: rule.threshold} if rule.threshold is not None else {},
    )


def _merge(name: str, verdicts: Sequence[Verdict]) -> Verdict:
    if len(verdicts) == 1:
        return verdicts[0]
    flagged = [v for v in verdicts if v.flagged]
    top = max(verdicts, key=lambda v: v.score)
    reason = (flagged[0] if flagged else top).reason
    spans = tuple(s for v in verdicts for s in v.spans)
    return Verdict(name, bool(flagged), top.score, spans, reason)


def _describe(check: Check) -> str:
    verdict = check.verdict
    reason = f": {verdict.reason}" if verdict.reason else ""
    return f"guardrail {check.rule.scanner} (score {verdict.score:.2f}){reason}"


def _apply(
    side: Side,
    rules: Sequence[PolicyRule],
    texts: Sequence[str],
    base: ScanContext,
    prompt: str | None = None,
) -> Decision:
    """Apply rules to texts; ``prompt``, when given, is what whole-prompt scanners read."""
    current = list(texts)
    checks: list[Check] = []
    warnings: list[str] = []
    rewrite: list[Check] = []
    blocked: str | None = None
    what = "input" if side == "input" else "answer"
    vectors: dict[str, Any] = {}
    specs = {rule.scanner: get_scanner(rule.scanner) for rule in rules}
    for rule in rules:
        started = time.time()
        context = _context(rule, base)
        spec = specs[rule.scanner]
        whole = prompt is not None and spec.whole_prompt
        scanned = [prompt] if whole and prompt is not None else current
        contexts: list[ScanContext] = [context] * len(scanned)
        if spec.uses_embedding:
            # One embedding per distinct text, shared by every classifier rule.
            from promptdeck.core.guardrails.classifier_model import embed_for_classifiers

            missing = [t for t in dict.fromkeys(scanned) if t not in vectors]
            if missing:
                vectors.update(zip(missing, embed_for_classifiers(missing), strict=True))
            contexts = [dataclasses.replace(context, embedding=vectors[t]) for t in scanned]
        per_text = scan_texts(scanned, [rule.scanner], contexts)
        verdicts = [row[rule.scanner] for row in per_text]
        verdict = _merge(rule.scanner, verdicts) if verdicts else Verdict(rule.scanner, False, 0)
        outcome = "passed"
        action = rule.action
        warned = len(warnings)
        if verdict.flagged:
            check_text = _describe(Check(side, rule, verdict, "", started, started))
            if action == "block" or (action == "rewrite" and side == "input"):
                outcome = "blocked"
                blocked = blocked or f"{what} blocked by {check_text}"
            elif action == "redact":
                outcome = "redacted"
                if not whole:
                    current = [
                        redact_spans(text, v.spans) if v.flagged and v.spans else text
                        for text, v in zip(current, verdicts, strict=True)
                    ]
                warnings.append(f"{what} redacted by {check_text}")
            elif action == "rewrite":
                outcome = "rewritten"
            else:
                outcome = "warned"
                warnings.append(f"{what} flagged by {check_text}")
        check = Check(side, rule, verdict, outcome, started, time.time(), tuple(warnings[warned:]))
        checks.append(check)
        if outcome == "rewritten":
            rewrite.append(check)
    return Decision(tuple(current), tuple(checks), blocked, tuple(rewrite), tuple(warnings))


def check_input(
    rules: Sequence[PolicyRule], texts: Sequence[str], *, context_window: int | None = None
) -> Decision:
    """Apply input rules to texts (each scanned on its own; see also :func:`check_messages`).

    Args:
        rules: The policy's input rules.
        texts: The user messages' contents.
        context_window: The model's context window (``context-size``).

    Returns:
        The decision; ``texts`` are the messages to send.

    Raises:
        UsageError: When a rule names an unknown scanner.
        ConfigError: When a rule's options are invalid.
        RuntimeFailureError: When a classifier's model cannot be loaded.
    """
    return _apply("input", rules, texts, ScanContext(context_window=context_window))


def check_messages(
    rules: Sequence[PolicyRule],
    messages: Sequence[Mapping[str, str]],
    variables: Mapping[str, Any] | None = None,
    *,
    context_window: int | None = None,
) -> Decision:
    """Apply input rules to a call's messages, or to its variable values when it has some.

    With ``variables`` (a prompt call), the rules read the texts inside the values,
    not the template's wording around them; without, they read the user messages.
    Whole-prompt scanners (``context-size``) read every message either way. A value
    redacted by a rule is replaced by its redacted form wherever it occurs verbatim in
    the messages; when it occurs nowhere verbatim (a template filter changed it),
    the redacting rules are applied to the rendered messages themselves.

    Args:
        rules: The policy's input rules.
        messages: The rendered messages (``role``, ``content``).
        variables: The values the prompt was rendered with (None or empty: no prompt).
        context_window: The model's context window (``context-size``).

    Returns:
        The decision; ``messages`` holds the messages to send when redaction changed
        them. ``texts`` are the texts read (redacted): variable texts or user messages.

    Raises:
        UsageError: When a rule names an unknown scanner.
        ConfigError: When a rule's options are invalid.
        RuntimeFailureError: When a classifier's model cannot be loaded.
    """
    base = ScanContext(context_window=context_window)
    prompt = "\n\n".join(str(m.get("content") or "") for m in messages)
    if not variables:
        users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
        original = tuple(str(messages[i].get("content") or "") for i in users)
        decision = _apply("input", rules, original, base, prompt)
        if decision.texts == original:
            return decision
        sent = [dict(m) for m in messages]
        for i, text in zip(users, decision.texts, strict=True):
            sent[i]["content"] = text
        return dataclasses.replace(decision, messages=tuple(sent))
    values = untrusted_texts(variables)
    decision = _apply("input", rules, values, base, prompt)
    changed = {old: new for old, new in zip(values, decision.texts, strict=True) if old != new}
    if not changed:
        return decision
    sent, placed = replace_values(messages, changed)
    warnings = list(decision.warnings)
    if set(changed) - placed:
        # Some redacted value was transformed by the template: redact what the rules
        # find in the rendered messages (the template's wording included).
        redacting = [
            c.rule
            for c in decision.checks
            if c.outcome == "redacted" and not get_scanner(c.rule.scanner).whole_prompt
        ]
        contents = [str(m.get("content") or "") for m in sent]
        fallback = _apply("input", redacting, contents, base)
        for message, text in zip(sent, fallback.texts, strict=True):
            message["content"] = text
        line = (
            "input: a redacted variable value does not occur verbatim in the rendered "
            "messages; the whole messages were redacted instead"
        )
        warnings.append(line)
        checks = tuple(
            dataclasses.replace(c, warnings=(*c.warnings, line)) if c.rule in redacting else c
            for c in decision.checks
        )
        decision = dataclasses.replace(decision, checks=checks)
    return dataclasses.replace(decision, messages=tuple(sent), warnings=tuple(warnings))


def check_output(
    rules: Sequence[PolicyRule],
    answer: str,
    *,
    input_text: str,
    json_schema: Mapping[str, Any] | None = None,
) -> Decision:
    """Apply output rules to a model's answer.

    Args:
        rules: The policy's output rules.
        answer: The answer.
        input_text: The user messages sent (``pii-leak``).
        json_schema: The call's response schema (``format``, unless the rule gives one).

    Returns:
        The decision; ``texts[0]`` is the answer to return.

    Raises:
        UsageError: When a rule names an unknown scanner.
        ConfigError: When a rule's options are invalid.
        RuntimeFailureError: When a classifier's model cannot be loaded.
    """
    base = ScanContext(input_text=input_text, json_schema=json_schema)
    return _apply("output", rules, [answer], base)


def rewrite_request(answer: str, checks: Sequence[Check]) -> list[dict[str, str]]:
    """The two messages that send a flagged answer back with its violations named."""
    named = "; ".join(f"{c.rule.scanner}: {c.verdict.reason or 'flagged'}" for c in checks)
    return [
        {"role": "assistant", "content": answer},
        {
            "role": "user",
            "content": (
                f"Your previous answer was flagged by a guardrail ({named}). "
                "Rewrite it so that it no longer has this problem, keeping what was asked. "
                "Reply with the new answer only."
            ),
        },
    ]
