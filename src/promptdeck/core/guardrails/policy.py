"""Guardrail policies: which scanners run on a call's input and answer, and what they do.

A policy is a prompt's ``guardrails:`` block (or the ``[guardrails]`` defaults of
``promptdeck.toml``) turned into plain rules (:class:`Policy`, :class:`PolicyRule`).
:mod:`promptdeck.core.guardrails.checks` applies them: each check returns a
:class:`Decision` saying whether to stop, the (possibly redacted) text, the warnings
for the user, and one :class:`Check` per rule for the call's trace.

Actions: ``block`` stops the call (input) or withholds the answer (output);
``redact`` replaces what the scanner found with ``[TYPE]``; ``warn`` only records;
``rewrite`` (output) asks the model once more with the violation named. On the
input side there is no answer to rewrite, so ``rewrite`` acts as ``block``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from promptdeck.core.guardrails.base import Side, Verdict

__all__ = [
    "ACTIONS",
    "Action",
    "Check",
    "Decision",
    "GuardrailsLike",
    "Policy",
    "PolicyRule",
    "RuleLike",
]

Action = Literal["block", "redact", "warn", "rewrite"]
ACTIONS: tuple[Action, ...] = ("block", "redact", "warn", "rewrite")


class RuleLike(Protocol):
    """Anything shaped like a prompt file's ``GuardrailRule``."""

    @property
    def scanner(self) -> str:
        """The scanner's name."""
        ...

    @property
    def action(self) -> str:
        """``block``, ``redact``, ``warn`` or ``rewrite``."""
        ...

    @property
    def threshold(self) -> float | None:
        """The score at which the scanner flags (None: its default)."""
        ...


class GuardrailsLike(Protocol):
    """Anything shaped like a prompt file's ``Guardrails`` block."""

    @property
    def input(self) -> Sequence[RuleLike]:
        """Rules applied to the rendered input."""
        ...

    @property
    def output(self) -> Sequence[RuleLike]:
        """Rules applied to the answer."""
        ...


@dataclass(frozen=True)
class PolicyRule:
    """One scanner with its action.

    Attributes:
        scanner: The scanner's name.
        action: What a flag does.
        threshold: The score at which it flags (None: the scanner's default).
        options: Extra settings (``schema``, ``pattern``, ``reference``, ``context_window``).
    """

    scanner: str
    action: Action = "warn"
    threshold: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, rule: RuleLike | Mapping[str, Any]) -> PolicyRule:
        """Build a rule from a ``GuardrailRule``, a config rule or a plain mapping."""
        if isinstance(rule, Mapping):
            data = dict(rule)
        else:
            data = {"scanner": rule.scanner, "action": rule.action, "threshold": rule.threshold}
            data.update(getattr(rule, "model_extra", None) or {})
            data.update(getattr(rule, "options", None) or {})
        scanner = str(data.pop("scanner"))
        action = str(data.pop("action", "warn") or "warn")
        if action not in ACTIONS:
            raise ValueError(f"unknown guardrail action {action!r}")
        threshold = data.pop("threshold", None)
        return cls(
            scanner,
            action,  # type: ignore[arg-type]
            None if threshold is None else float(threshold),
            data,
        )


@dataclass(frozen=True)
class Policy:
    """The rules of one call.

    Attributes:
        input: Rules applied before the call (see
            :func:`~promptdeck.core.guardrails.checks.check_messages`).
        output: Rules applied to the answer.
    """

    input: tuple[PolicyRule, ...] = ()
    output: tuple[PolicyRule, ...] = ()

    @classmethod
    def of(cls, guardrails: Policy | GuardrailsLike | Mapping[str, Any] | None) -> Policy:
        """Build a policy from a prompt's block, the config's defaults or a mapping."""
        if guardrails is None:
            return cls()
        if isinstance(guardrails, Policy):
            return guardrails
        if isinstance(guardrails, Mapping):
            inputs = guardrails.get("input") or ()
            outputs = guardrails.get("output") or ()
        else:
            inputs, outputs = guardrails.input, guardrails.output
        return cls(
            tuple(PolicyRule.of(r) for r in inputs), tuple(PolicyRule.of(r) for r in outputs)
        )

    def __bool__(self) -> bool:
        return bool(self.input or self.output)


@dataclass(frozen=True)
class Check:
    """One rule applied to one call: what the trace records as a ``guardrail.*`` span.

    Attributes:
        side: ``input`` or ``output``.
        rule: The rule.
        verdict: The scanner's verdict (input side: merged over the texts it read).
        outcome: ``passed``, ``blocked``, ``redacted``, ``warned`` or ``rewritten``.
        started: ``time.time()`` when the scan started.
        ended: ``time.time()`` when it ended.
        warnings: The lines it gave the user (a redaction, a warning).
    """

    side: Side
    rule: PolicyRule
    verdict: Verdict
    outcome: str
    started: float
    ended: float
    warnings: tuple[str, ...] = ()

    def attributes(self) -> dict[str, Any]:
        """The span's attributes; its warnings go under an attribute of their own kind.

        ``promptdeck.redaction.warnings`` for a redaction, ``promptdeck.guardrail.warnings``
        for a ``warn`` rule that flagged.
        """
        attributes: dict[str, Any] = {
            "promptdeck.guardrail.side": self.side,
            "promptdeck.guardrail.scanner": self.rule.scanner,
            "promptdeck.guardrail.action": self.rule.action,
            "promptdeck.guardrail.flagged": self.verdict.flagged,
            "promptdeck.guardrail.score": round(self.verdict.score, 4),
            "promptdeck.guardrail.spans": len(self.verdict.spans),
            "promptdeck.guardrail.outcome": self.outcome,
            "promptdeck.guardrail.reason": self.verdict.reason,
        }
        if self.warnings:
            kind = "redaction" if self.outcome == "redacted" else "guardrail"
            attributes[f"promptdeck.{kind}.warnings"] = list(self.warnings)
        return attributes


@dataclass(frozen=True)
class Decision:
    """What a policy concluded about a call's input or answer.

    Attributes:
        texts: The texts to send on (input: the user messages; output: the answer),
            redacted where a ``redact`` rule flagged.
        checks: One per rule, in rule order.
        blocked: The reason the call is stopped or the answer withheld, or None.
        rewrite: The rewrite rules that flagged (output side), for one more try.
        warnings: Lines for the user (``warn`` and ``redact`` flags).
        messages: From :func:`~promptdeck.core.guardrails.checks.check_messages`: the
            messages to send when redaction changed them, else None.
    """

    texts: tuple[str, ...]
    checks: tuple[Check, ...] = ()
    blocked: str | None = None
    rewrite: tuple[Check, ...] = ()
    warnings: tuple[str, ...] = ()
    messages: tuple[dict[str, str], ...] | None = None
