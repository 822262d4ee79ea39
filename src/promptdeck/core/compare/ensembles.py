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
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from promptdeck.core.compare.agreement import (
    agreement_matrix,
    consensus_score,
    most_central,
    normalise_answer,
    parse_citations,
)
from promptdeck.core.compare.ensemble_result import EnsembleResult, MemberAnswer
from promptdeck.core.compare.ensemble_trace import EnsembleTrace, ensemble_record
from promptdeck.core.gateway.spec import CallResult
from promptdeck.core.providers.base import Completion, ErrorKind, Usage
from promptdeck.errors import ConfigError, PromptdeckError
from promptdeck.timeutil import utcnow

if TYPE_CHECKING:
    from promptdeck.config import EnsembleConfig, WorkspaceConfig
    from promptdeck.core.gateway.semantic import Embedder
    from promptdeck.core.gateway.spec import CallSpec
    from promptdeck.store.calls_repo import CallRecord

__all__ = [
    "JUDGE_PARAMS",
    "EnsembleGateway",
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


class EnsembleGateway(Protocol):
    """What an ensemble needs of the gateway that calls it.

    The gateway hands itself to :func:`run_ensemble` when asked for an ensemble; the
    members and the judge go back through its :meth:`call`, so this module never
    imports the gateway.
    """

    @property
    def config(self) -> WorkspaceConfig:
        """The workspace configuration (``[ensembles]``, the judge model, params)."""
        ...

    async def call(self, spec: CallSpec) -> CallResult:
        """Make one call (a member's or the judge's)."""
        ...

    def embedder(self) -> Embedder:
        """The sentence embedder ``consensus`` compares answers with."""
        ...

    def record(self, record: CallRecord) -> None:
        """Queue the ensemble's own trace with the gateway's other records."""
        ...


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
    central = most_central(rows)
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
    gateway: EnsembleGateway,
    config: EnsembleConfig,
    spec: CallSpec,
    answers: Sequence[MemberAnswer],
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
    gateway: EnsembleGateway,
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
    trace = EnsembleTrace(
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
    )
    # The members' own traces hold their spend; the ensemble's trace holds none.
    gateway.record(ensemble_record(spec, trace, gateway.config.params))
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
