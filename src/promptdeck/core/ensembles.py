"""Ensembles: several models answer one request, and a strategy decides the answer.

An ensemble is a named model (``[ensembles.<name>]`` in ``promptdeck.toml``). Every
member is called in parallel through the gateway, each as a trace of its own
(kind ``ensemble.member``); the ensemble then records one trace (kind
``ensemble``) whose spans link those member traces and hold each member's answer,
latency, tokens and cost, the agreement score and the decision. Its cost and tokens
are the members' sums (plus the judge's); spend stays on the member traces, so
nothing is counted twice.

Strategies:

- ``consensus``: the answers are embedded; the mean off-diagonal cosine similarity
  is the agreement. At or above ``agreement_threshold`` the preferred member's answer
  (or the most central one) is returned; below it the result ``requires_review``
  and every alternative is kept.
- ``majority``: answers are normalised (JSON canonicalised; otherwise stripped,
  lower-cased, trailing punctuation dropped) and the most votes win; ties and
  agreement below the threshold are flagged.
- ``judge``: a judge model reads every answer and writes the final one, citing the
  members it used. The judge call has parameters of its own (:data:`JUDGE_PARAMS`
  under its alias's, ``judge_params`` over them): the judged prompt's parameters
  (a ``max_tokens: 5``, say) and the call's overrides are the members' only.

Members that fail are reported; the decision uses those that answered, and says so.
Fewer than ``min_answers`` answers is an error value (``Completion.error``).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from promptdeck.config import EnsembleConfig
from promptdeck.core.ensemble_trace import EnsembleTrace, record_ensemble
from promptdeck.core.providers.base import Completion, ErrorKind, Usage
from promptdeck.errors import ConfigError, PromptdeckError
from promptdeck.timeutil import utcnow

if TYPE_CHECKING:
    from promptdeck.core.gateway.engine import CallResult, CallSpec, Gateway
    from promptdeck.core.gateway.semantic import Embedder

__all__ = [
    "JUDGE_PARAMS",
    "EnsembleResult",
    "MemberAnswer",
    "agreement_matrix",
    "consensus_score",
    "normalise_answer",
    "parse_citations",
    "run_ensemble",
]

JUDGE_PARAMS: dict[str, Any] = {"temperature": 0.0, "max_tokens": 1024}
"""The judge call's defaults (under its alias's params and the ensemble's ``judge_params``)."""

_TRAILING = re.compile(r"[\s.!?;:,]+$")
_SPACES = re.compile(r"\s+")
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_USED = re.compile(r"^\s*used\s*:\s*(.*)$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class MemberAnswer:
    """One member's outcome.

    Attributes:
        member: The member's model name.
        result: Its gateway call (answer or error, trace id, cache state).
    """

    member: str
    result: CallResult

    @property
    def ok(self) -> bool:
        """True when the member answered."""
        return self.result.completion.ok


@dataclass(frozen=True)
class EnsembleResult:
    """What an ensemble call decided, and from what.

    Attributes:
        name: The ensemble's name.
        strategy: Its strategy.
        result: The ensemble's own call result (final answer, summed usage and cost).
        members: Every member's outcome, in configuration order.
        answered: Members that answered, in order (the rows of ``matrix``).
        matrix: Pairwise cosine similarity of the answers (consensus only).
        agreement: The agreement score (consensus: mean similarity; majority: share
            of the winning vote), None for the judge strategy.
        chosen: Members whose answer the final one is (or, for a judge, cites).
        requires_review: True when a person should decide.
        decision: One line saying what was decided and why.
    """

    name: str
    strategy: str
    result: CallResult
    members: tuple[MemberAnswer, ...]
    answered: tuple[str, ...] = ()
    matrix: tuple[tuple[float, ...], ...] = ()
    agreement: float | None = None
    chosen: tuple[str, ...] = ()
    requires_review: bool = False
    decision: str = ""

    @property
    def failed(self) -> tuple[MemberAnswer, ...]:
        """Members that did not answer."""
        return tuple(m for m in self.members if not m.ok)


def normalise_answer(text: str) -> str:
    """The form answers are counted in by ``majority``.

    JSON (optionally in a fenced block) is canonicalised: keys sorted, no spaces.
    Other text is stripped, lower-cased, spaces collapsed and trailing punctuation
    dropped.
    """
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    candidate = fenced.group(1) if fenced else stripped
    if candidate[:1] in '{["':
        try:
            value = json.loads(candidate)
        except ValueError:
            pass
        else:
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _TRAILING.sub("", _SPACES.sub(" ", stripped.lower()))


def agreement_matrix(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    """Pairwise cosine similarities of ``texts`` (rows are unit-norm embeddings)."""
    if not texts:
        return []
    vectors = embedder.embed(list(texts))
    product = vectors @ vectors.T
    return [[round(float(v), 6) for v in row] for row in product]


def consensus_score(matrix: Sequence[Sequence[float]]) -> float:
    """The mean off-diagonal similarity (1.0 for a single answer)."""
    n = len(matrix)
    if n < 2:
        return 1.0
    total = sum(matrix[i][j] for i in range(n) for j in range(n) if i != j)
    return total / (n * (n - 1))


def _most_central(matrix: Sequence[Sequence[float]]) -> int:
    n = len(matrix)
    if n < 2:
        return 0
    means = [sum(matrix[i][j] for j in range(n) if j != i) / (n - 1) for i in range(n)]
    return max(range(n), key=lambda i: means[i])


def parse_citations(text: str, members: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """Split a judge's answer into the final text and the members it cites.

    The judge ends with a line ``Used: 1, 3`` (answer numbers, 1-based); member
    names are accepted too.
    """
    found = list(_USED.finditer(text))
    if not found:
        return text.strip(), ()
    match = found[-1]
    cited: list[str] = []
    for token in re.split(r"[,\s]+", match.group(1).strip()):
        token = token.strip("[]()#.")
        if token.isdigit() and 1 <= int(token) <= len(members):
            name = members[int(token) - 1]
        elif token in members:
            name = token
        else:
            continue
        if name not in cited:
            cited.append(name)
    body = (text[: match.start()] + text[match.end() :]).strip()
    return body, tuple(cited)


def _judge_messages(spec: CallSpec, answers: Sequence[MemberAnswer]) -> list[dict[str, str]]:
    question = "\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in spec.messages)
    listed = "\n\n".join(
        f"[{i}] ({a.member})\n{a.result.completion.text}" for i, a in enumerate(answers, 1)
    )
    return [
        {
            "role": "system",
            "content": "You combine several candidate answers into the single best answer. "
            "Write only the final answer, then a last line 'Used: ' followed by the "
            "numbers of the candidate answers you relied on, e.g. 'Used: 1, 3'.",
        },
        {
            "role": "user",
            "content": f"The request:\n{question}\n\nCandidate answers:\n\n{listed}",
        },
    ]


def _sum_usage(completions: Sequence[Completion]) -> Usage:
    return Usage(
        sum(c.usage.prompt_tokens for c in completions),
        sum(c.usage.completion_tokens for c in completions),
        any(c.usage.estimated for c in completions),
    )


@dataclass
class _Decision:
    text: str
    chosen: tuple[str, ...]
    agreement: float | None
    matrix: tuple[tuple[float, ...], ...]
    review: bool
    decision: str
    extra: tuple[Completion, ...] = ()
    error: str | None = None
    judge_trace: str | None = None


def _consensus(
    config: EnsembleConfig, answers: Sequence[MemberAnswer], embedder: Embedder
) -> _Decision:
    texts = [a.result.completion.text for a in answers]
    names = [a.member for a in answers]
    rows = agreement_matrix(embedder, texts)
    matrix = tuple(tuple(r) for r in rows)
    score = consensus_score(rows)
    central = _most_central(rows)
    if score >= config.agreement_threshold:
        pick = names.index(config.prefer) if config.prefer in names else central
        why = "preferred" if config.prefer in names else "most central"
        return _Decision(
            texts[pick],
            (names[pick],),
            score,
            matrix,
            False,
            f"agreement {score:.2f} ≥ {config.agreement_threshold:.2f}: "
            f"{why} answer of {names[pick]}",
        )
    return _Decision(
        texts[central],
        (names[central],),
        score,
        matrix,
        True,
        f"agreement {score:.2f} < {config.agreement_threshold:.2f}: requires review "
        f"({len(texts)} alternatives kept; showing the most central, {names[central]})",
    )


def _majority(config: EnsembleConfig, answers: Sequence[MemberAnswer]) -> _Decision:
    keys = [normalise_answer(a.result.completion.text) for a in answers]
    votes = Counter(keys).most_common()
    top_key, top = votes[0]
    tie = len(votes) > 1 and votes[1][1] == top
    share = top / len(keys)
    winners = [a for a, k in zip(answers, keys, strict=True) if k == top_key]
    pick = next((a for a in winners if a.member == config.prefer), winners[0])
    review = tie or share < config.agreement_threshold
    reason = "tie" if tie else ("low agreement" if review else "majority")
    return _Decision(
        pick.result.completion.text,
        tuple(a.member for a in winners),
        share,
        (),
        review,
        f"{reason}: {top} of {len(keys)} votes for {top_key!r}"
        + (" (requires review)" if review else ""),
    )


async def _judge(
    gateway: Gateway, config: EnsembleConfig, spec: CallSpec, answers: Sequence[MemberAnswer]
) -> _Decision:
    judge_model = config.judge or gateway.config.judge_model
    judge_spec = replace(
        spec,
        model=judge_model,
        messages=_judge_messages(spec, answers),
        params=JUDGE_PARAMS,
        overrides=dict(config.judge_params),
        response_format=None,
        name=f"{spec.name} · judge",
        kind="ensemble.judge",
        render_ms=None,
    )
    result = await gateway.call(judge_spec)
    done = result.completion
    if not done.ok:
        return _Decision(
            "",
            (),
            None,
            (),
            True,
            f"the judge {judge_model} failed",
            (done,),
            done.error,
            result.trace_id,
        )
    text, cited = parse_citations(done.text, [a.member for a in answers])
    review = not cited or not text
    return _Decision(
        text,
        cited,
        None,
        (),
        review,
        f"judge {judge_model} wrote the answer citing "
        + (", ".join(cited) if cited else "no member (requires review)"),
        (done,),
        None,
        result.trace_id,
    )


async def run_ensemble(
    gateway: Gateway,
    spec: CallSpec,
    name: str,
    *,
    embedder: Embedder | None = None,
) -> EnsembleResult:
    """Call every member of ensemble ``name`` and decide the answer.

    Args:
        gateway: The gateway (members and the judge go through it).
        spec: The call; its ``model`` is replaced by each member's.
        name: The ensemble's name in ``[ensembles]``.
        embedder: Embeds answers for ``consensus`` (default: the gateway's).

    Returns:
        The decision; model failures and too few answers are error values.

    Raises:
        ConfigError: Unknown ensemble, or a member that is itself an ensemble.
    """
    config = gateway.config.ensembles.get(name)
    if config is None:
        raise ConfigError(
            f"no ensemble named {name!r}", "add [ensembles.<name>] to promptdeck.toml"
        )
    nested = [m for m in config.members if m in gateway.config.ensembles]
    if nested:
        raise ConfigError(
            f"ensemble {name!r}: member {nested[0]!r} is itself an ensemble",
            "list models or aliases as members, not ensembles",
        )
    started, perf = utcnow(), time.perf_counter()
    member_specs = [
        replace(spec, model=m, name=f"{spec.name} · {name}/{m}", kind="ensemble.member")
        for m in config.members
    ]
    results = await asyncio.gather(*(gateway.call(s) for s in member_specs))
    members = tuple(MemberAnswer(m, r) for m, r in zip(config.members, results, strict=True))
    answered = [a for a in members if a.ok]
    failed = [a for a in members if not a.ok]
    need = config.required_answers
    if len(answered) < need:
        decision = _Decision(
            "",
            (),
            None,
            (),
            False,
            f"only {len(answered)} of {len(members)} members answered ({need} needed)",
            error=f"ensemble {name}: only {len(answered)} of {len(members)} members answered "
            f"({need} needed)"
            + (f"; {failed[0].member}: {failed[0].result.completion.error}" if failed else ""),
        )
    elif config.strategy == "consensus":
        try:
            chosen_embedder = embedder or gateway.embedder()
            decision = await asyncio.to_thread(_consensus, config, answered, chosen_embedder)
        except PromptdeckError as exc:
            decision = _Decision(
                "",
                (),
                None,
                (),
                False,
                "the answers could not be embedded",
                error=f"ensemble {name}: cannot compare the answers ({exc.title})",
            )
    elif config.strategy == "majority":
        decision = _majority(config, answered)
    else:
        decision = await _judge(gateway, config, spec, answered)
    if failed and decision.error is None:
        decision.decision += (
            f"; decided from {len(answered)} of {len(members)} members "
            f"({', '.join(a.member for a in failed)} failed)"
        )
    everything = [m.result.completion for m in members] + list(decision.extra)
    usage = _sum_usage(everything)
    costs = [c.cost_usd for c in everything]
    cost = None if None in costs else sum(c or 0.0 for c in costs)
    latency = (time.perf_counter() - perf) * 1000
    if decision.error is not None:
        done = Completion.failure(name, decision.error, ErrorKind.OTHER, latency_ms=latency)
        done = done.but(usage=usage, cost_usd=cost, provider="ensemble")
    else:
        done = Completion(
            text=decision.text,
            usage=usage,
            cost_usd=cost,
            latency_ms=latency,
            finish_reason="stop",
            model=name,
            answered_by=",".join(decision.chosen) or name,
            provider="ensemble",
        )
    warnings = [f"ensemble {name}: {a.member} failed: {a.result.completion.error}" for a in failed]
    if decision.review:
        warnings.append(f"ensemble {name}: {decision.decision}")
    uid = uuid.uuid4().hex
    record_ensemble(
        gateway,
        spec,
        EnsembleTrace(
            name=name,
            config=config,
            uid=uid,
            started=started,
            done=done,
            members=members,
            agreement=decision.agreement,
            matrix=decision.matrix,
            chosen=decision.chosen,
            requires_review=decision.review,
            decision=decision.decision,
            judge_trace=decision.judge_trace,
        ),
    )
    from promptdeck.core.gateway.engine import CallResult

    result = CallResult(completion=done, trace_id=uid, cache="off", warnings=tuple(warnings))
    return EnsembleResult(
        name=name,
        strategy=config.strategy,
        result=result,
        members=members,
        answered=tuple(a.member for a in answered),
        matrix=decision.matrix,
        agreement=decision.agreement,
        chosen=decision.chosen,
        requires_review=decision.review,
        decision=decision.decision,
    )
