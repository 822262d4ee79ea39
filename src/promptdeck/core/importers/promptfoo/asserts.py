"""promptfoo assertions → promptdeck assertions (``not-``, weight, threshold, metric, sets).

Each mapping returns the promptdeck assertion (a plain mapping, as a suite holds
it) or the reason it cannot be carried. Values from ``file://`` are read; Nunjucks
in values is rendered with the case's variables by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from promptdeck.core.importers.promptfoo.javascript import javascript_spec
from promptdeck.core.importers.promptfoo.vocabulary import (
    PROMPTFOO_TYPES,
    RENAMED,
    unsupported_reason,
)

__all__ = ["Mapped", "map_assertion", "parse_assertion_string"]

_SAME = {
    "equals", "contains", "icontains", "starts-with", "regex", "is-json", "word-count",
    "similar", "g-eval", "bleu", "contains-json", "is-xml", "contains-xml", "is-sql",
    "is-refusal", "finish-reason", "llm-rubric", "model-graded-closedqa", "factuality",
    "answer-relevance", "context-faithfulness", "context-recall", "context-relevance",
    "rouge-n", "is-valid-openai-tools-call", "select-best", "max-score",
}  # fmt: skip
_LISTS = {"contains-any", "contains-all", "icontains-any", "icontains-all"}
_GRADED = {
    "llm-rubric", "model-graded-closedqa", "factuality", "g-eval", "answer-relevance",
    "context-faithfulness", "context-recall", "context-relevance", "pi", "select-best",
}  # fmt: skip
_LIMITS = {"latency", "cost"}
_LOGPROBS = {"perplexity", "perplexity-score"}
_WHY = {
    "python": "python assertions run code; rewrite it as a promptdeck `python` assertion",
    "webhook": "webhook assertions call a URL; promptdeck does not",
    "levenshtein": "promptfoo's threshold is an edit distance, promptdeck's a similarity",
    "ruby": "ruby assertions run code",
    "is-valid-openai-function-call": (
        "legacy `functions` are not sent to the model (no promptdeck call parameter)"
    ),
    "is-valid-function-call": "legacy `functions` are not sent to the model",
    "is-html": "no HTML assertion in promptdeck",
    "contains-html": "no HTML assertion in promptdeck",
    "contains-sql": "no contains-sql in promptdeck (is-sql checks the whole answer)",
}
_NO_THRESHOLD = {
    "equals", "contains", "icontains", "starts-with", "regex", "is-json", "word-count",
    "contains-any", "contains-all", "icontains-any", "icontains-all", "contains-json",
    "is-xml", "contains-xml", "is-sql", "is-refusal", "finish-reason",
    "model-graded-closedqa", "factuality", "is-valid-openai-tools-call", "guard-pass",
    "guard-flags", "max-length", "json-schema", "select-best", "max-score",
}  # fmt: skip


@dataclass
class Mapped:
    """One mapped assertion: the spec, or why not; notes; the grader it names."""

    spec: dict[str, Any] | None
    why: str | None = None
    notes: list[str] = field(default_factory=list)
    grader: Any = None


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _classifier(provider: Any, value: Any, negated: bool) -> tuple[str, list[str]] | None:
    name = provider.get("id") if isinstance(provider, dict) else provider
    name = str(name or "").lower()
    wanted = str(value or "").lower()
    if "injection" in name or "jailbreak" in name:
        safe = wanted in ("safe", "legit", "benign", "0")
        return ("guard-pass" if safe != negated else "guard-flags"), ["injection"]
    if "hate" in name or "toxic" in name:
        safe = wanted.startswith(("not", "non", "neutral")) or wanted in ("safe", "0")
        return ("guard-pass" if safe != negated else "guard-flags"), ["toxicity"]
    if "pii" in name:
        return ("guard-pass" if negated else "guard-flags"), ["pii"]
    return None


def map_assertion(
    raw: Any, load: Callable[[str], tuple[Any, str | None]], tools: list[Any] | None
) -> Mapped:
    """Map one promptfoo assertion.

    Args:
        raw: The assertion as written.
        load: Reads a ``file://`` value (returns the value, or why it cannot be).
        tools: The providers' ``tools`` (the value of ``is-valid-openai-tools-call``).
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return Mapped(None, "an assertion needs a `type`")
    kind: str = raw["type"]
    negated = kind.startswith("not-")
    base = RENAMED.get(kind.removeprefix("not-"), kind.removeprefix("not-"))
    kind = f"not-{base}" if negated else base
    notes: list[str] = []
    lost: list[str] = []
    for key in ("transform", "contextTransform"):
        if key in raw:
            return Mapped(None, f"`{key}` (code run on the output) is not carried")
    for key in sorted(
        set(raw) - {"type", "value", "threshold", "weight", "metric", "provider", "assert"}
    ):
        if key == "rubricPrompt":
            lost.append("its `rubricPrompt` (promptdeck's judge grades with its own prompt)")
        else:
            notes.append(f"`{key}` is not carried")
    value = raw.get("value")
    if isinstance(value, str) and value.startswith("file://"):
        value, problem = load(value)
        if problem is not None:
            return Mapped(None, problem)
    spec: dict[str, Any] = {}
    threshold = raw.get("threshold")
    grader = raw.get("provider") if base in _GRADED else None
    if "provider" in raw and base not in _GRADED and base not in ("classifier", "moderation"):
        notes.append(f"`provider` is not carried: {base} uses promptdeck's own")
    if base == "assert-set":
        return _assert_set(raw, load, tools)
    if base in _SAME:
        spec = {"type": kind, "value": value}
        if base in ("is-json", "contains-json") and isinstance(value, str) and value.strip():
            spec["value"] = _schema(value)  # promptfoo reads a text schema as YAML/JSON
        if base == "rouge-n":
            threshold = 0.75 if threshold is None else threshold
            notes.append("promptdeck's rouge-n is an F1 score, promptfoo's a recall")
        if base == "max-score" and isinstance(value, dict) and value.get("weights"):
            notes.append("max-score `weights` name promptfoo's types; check them after renames")
        if base == "is-valid-openai-tools-call":
            if not tools:
                return Mapped(None, "no provider `config.tools` to check the calls against")
            spec["value"] = tools
    elif base in _LISTS:
        spec = {"type": kind, "value": _split(value)}
    elif base in _LIMITS:
        limit = threshold if threshold is not None else value
        if limit is None:
            return Mapped(None, f"{base} without a threshold only records a metric")
        spec, threshold = {"type": kind, "value": limit}, None
    elif base in _LOGPROBS:
        spec, threshold = _perplexity(kind, raw, threshold, notes)
    elif base == "javascript":
        found = javascript_spec(value)
        if found is None:
            return Mapped(None, "javascript runs code; only simple expressions are carried")
        negation = found if not negated else _negate(found)
        if negation is None:
            return Mapped(None, "a negated javascript expression of several checks")
        spec = negation
    elif base == "moderation":
        spec = {"type": "not-guard-pass" if negated else "guard-pass", "value": ["toxicity"]}
        notes.append("graded by promptdeck's toxicity scanner, not a moderation API")
    elif base == "classifier":
        mapped = _classifier(raw.get("provider"), value, negated)
        if mapped is None:
            return Mapped(None, "no promptdeck scanner stands in for this classifier model")
        spec = {"type": mapped[0], "value": mapped[1]}
        threshold = None
        notes.append(f"graded by promptdeck's {mapped[1][0]} scanner, not the classifier model")
    elif base == "pi":
        spec = {"type": kind.replace("pi", "llm-rubric"), "value": value}
        threshold = 0.5 if threshold is None else threshold
        notes.append("graded as llm-rubric by the suite's judge (Pi Labs' scorer is not used)")
    else:
        return Mapped(None, _WHY.get(base) or unsupported_reason(base))
    if threshold is not None:
        if spec["type"].removeprefix("not-") in _NO_THRESHOLD:
            notes.append("`threshold` has no effect on this type in promptfoo; left out")
        else:
            spec["threshold"] = threshold
    for key in ("weight", "metric"):
        if raw.get(key) is not None:
            spec[key] = raw[key]
    if spec.get("value") is None:
        spec.pop("value", None)
    return Mapped(spec, "; ".join(lost) or None, notes, grader)


def _schema(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _perplexity(
    kind: str, raw: dict[str, Any], threshold: Any, notes: list[str]
) -> tuple[dict[str, Any], Any]:
    """``perplexity``'s threshold becomes its value (a perplexity, not a score in [0, 1]).

    promptfoo reads a missing or zero threshold as none (always passes), ignores
    ``value`` and ``not-`` on both types; promptdeck asks the provider for logprobs.
    """
    base = kind.removeprefix("not-")
    if raw.get("value") is not None:
        notes.append(f"`value` has no effect on {base} in promptfoo; left out")
    if kind != base:
        notes.append(f"promptfoo ignores `not-` on {base}; promptdeck negates it")
    number = isinstance(threshold, int | float) and not isinstance(threshold, bool)
    if threshold is not None and not number:
        notes.append(f"`threshold` {threshold!r} is not a number; left out")
    limit = threshold if number and threshold else None
    if base == "perplexity":
        return ({"type": kind, "value": limit}, None)
    if limit is not None and limit > 1:
        notes.append(f"threshold {limit:g} can never pass (the score is at most 0.5); set to 1")
        limit = 1
    return {"type": kind}, limit


def _negate(spec: dict[str, Any]) -> dict[str, Any] | None:
    if spec["type"] == "assert-set":
        return None
    kind = spec["type"]
    return {**spec, "type": kind.removeprefix("not-") if kind.startswith("not-") else f"not-{kind}"}


def _assert_set(raw: dict[str, Any], load: Any, tools: list[Any] | None) -> Mapped:
    if raw["type"].startswith("not-"):
        return Mapped(None, "a negated assert-set")
    members, notes, skipped, grader = [], [], [], None
    for i, member in enumerate(raw.get("assert") or []):
        mapped = map_assertion(member, load, tools)
        if str(member.get("type", "")).removeprefix("not-") in ("select-best", "max-score"):
            mapped = Mapped(None, "it compares a case's outputs, which a set's member cannot")
        if mapped.spec is None:
            skipped.append(f"member {i} ({member.get('type', '?')}): {mapped.why}")
            continue
        members.append(mapped.spec)
        notes += [f"member {i}: {n}" for n in mapped.notes]
        grader = grader or mapped.grader
    if not members:
        return Mapped(None, "no member could be carried: " + "; ".join(skipped), notes)
    spec: dict[str, Any] = {"type": "assert-set", "assert": members}
    for key in ("threshold", "weight", "metric"):
        if raw.get(key) is not None:
            spec[key] = raw[key]
    return Mapped(spec, "; ".join(skipped) or None, notes, grader)


_STRING = re.compile(r"^(not-)?([a-z][\w-]*)(?:\(([\d.]+)\))?:(.*)$", re.DOTALL)
_ALIASES = {"grade": "llm-rubric", "fn": "javascript", "eval": "javascript"}
_BARE = {"is-json", "contains-json", "is-xml", "contains-xml", "is-sql", "is-refusal"}


def parse_assertion_string(text: str) -> dict[str, Any]:
    """A CSV ``__expected`` cell as an assertion (promptfoo's ``type:value`` syntax)."""
    stripped = text.strip()
    bare = stripped.removeprefix("not-")
    if bare in _BARE:
        return {"type": stripped}
    if stripped.startswith("file://"):
        return {"type": "javascript", "value": stripped}
    match = _STRING.match(stripped)
    if match is None:
        return {"type": "equals", "value": stripped}
    negated, kind, threshold, value = match.groups()
    kind = _ALIASES.get(kind, kind)
    known = _SAME | _LISTS | _LIMITS | _LOGPROBS | _GRADED | set(_WHY) | PROMPTFOO_TYPES
    known |= {"javascript", "moderation"}
    if kind not in known:
        return {"type": "equals", "value": stripped}
    if kind not in ("llm-rubric", "is-json", "contains-json"):
        value = value.strip()  # as promptfoo reads `contains: word`
    out: dict[str, Any] = {"type": f"{negated or ''}{kind}", "value": value}
    if threshold is not None:
        out["threshold"] = float(threshold)
    return out
