"""Guard assertions: grade an answer with the guardrail scanners.

- ``guard-pass``: no scanner of the list (``value``; default: those ``promptdeck guard``
  runs without being asked) flags the output;
- ``guard-flags``: every scanner of the list (``value``, required) flags the output.

The call's input stands in for ``pii-leak``'s input and the case's ``context`` for
``grounding``'s reference. No model is loaded until an output is graded.
"""

from __future__ import annotations

from typing import Any

from promptdeck.core.guardrails.base import ScanContext, Verdict, get_scanner, resolve_scanners
from promptdeck.core.scorers.base import AssertionContext, Outcome, assertion
from promptdeck.errors import UsageError

__all__ = ["scan_output"]


def _names(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return "the value must be a scanner name or a non-empty list of scanner names"
    for name in value:
        try:
            get_scanner(name)
        except UsageError as exc:
            return f"{exc.title} ({exc.hint})"
    return None


def scan_output(output: str, names: list[str] | None, ctx: AssertionContext) -> list[Verdict]:
    """Run the scanners named (default: the default set) over ``output``.

    Args:
        output: The model's answer.
        names: Scanner names, or None for the default set.
        ctx: The assertion's context (input and case context are passed on).

    Returns:
        One verdict per scanner, in the order given.
    """
    from promptdeck.core.guardrails.base import scan_texts

    specs = resolve_scanners(names)
    context = ScanContext(
        input_text=ctx.meta.input,
        reference="\n".join(ctx.case.context) if ctx.case.context else None,
        expect_json=False,
    )
    row = scan_texts([output], [s.name for s in specs], context)[0]
    return list(row.values())


def _as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value]


@assertion("guard-pass", value="optional", check=_names)
def guard_pass(output: str, ctx: AssertionContext) -> Outcome:
    """No guardrail scanner of the list (default: the input set) flags the output."""
    verdicts = scan_output(output, _as_list(ctx.value), ctx)
    flagged = [v for v in verdicts if v.flagged]
    if not flagged:
        return Outcome(1.0, True, f"no scanner flagged ({', '.join(v.scanner for v in verdicts)})")
    reasons = "; ".join(f"{v.scanner}: {v.reason}" for v in flagged)
    worst = max(v.score for v in flagged)
    return Outcome(1.0 - worst, False, f"flagged by {reasons}")


@assertion("guard-flags", value="required", check=_names)
def guard_flags(output: str, ctx: AssertionContext) -> Outcome:
    """Every guardrail scanner of the list flags the output."""
    verdicts = scan_output(output, _as_list(ctx.value), ctx)
    missed = [v.scanner for v in verdicts if not v.flagged]
    share = (len(verdicts) - len(missed)) / len(verdicts) if verdicts else 0.0
    if missed:
        return Outcome(share, False, f"not flagged by {', '.join(missed)}")
    return Outcome(1.0, True, f"flagged by {', '.join(v.scanner for v in verdicts)}")
