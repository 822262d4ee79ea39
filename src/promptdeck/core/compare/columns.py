"""Side-by-side comparison: one rendered prompt (or several versions) × several models.

:func:`plan_compare` resolves and renders every prompt reference and checks every
model, so a usage error surfaces before any call; :func:`run_compare` streams every
column concurrently through one gateway, reporting deltas and finished columns to
an optional callback (the CLI ignores deltas, the TUI posts them as messages).
An ensemble column is decided by :func:`promptdeck.core.compare.ensembles.run_ensemble`
and carries the members' answers and the agreement matrix.

The pairwise semantic similarity of the answers uses the local embedder, and
:func:`word_diff` gives a word-level diff of two answers (difflib).
"""

from __future__ import annotations

import asyncio
import difflib
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptdeck.core.providers.targets import check_model
from promptdeck.errors import PromptdeckError, UsageError

if TYPE_CHECKING:
    from promptdeck.core.compare.ensembles import EnsembleResult
    from promptdeck.core.compare.overrides import ColumnOverride
    from promptdeck.core.gateway.engine import CallResult, CallSpec, Gateway
    from promptdeck.core.gateway.semantic import Embedder
    from promptdeck.core.workspace.workspace import Workspace

__all__ = [
    "MAX_COLUMNS",
    "ColumnDelta",
    "ColumnDone",
    "ColumnResult",
    "CompareColumn",
    "CompareEvent",
    "CompareResult",
    "check_model",
    "fmt_optional",
    "metric_lines",
    "plan_compare",
    "run_compare",
    "similarity_matrix",
    "word_diff",
]


MAX_COLUMNS = 12
"""The largest grid a compare fills (versions × models)."""


@dataclass(frozen=True)
class CompareColumn:
    """One column to fill: a rendered prompt version on one model.

    Attributes:
        index: Its position.
        ref: The prompt reference as given (``summarize@2``).
        model: The model, alias or ensemble.
        spec: The call to make.
        override: The column's own parameters and system prompt, if any.
    """

    index: int
    ref: str
    model: str
    spec: CallSpec
    override: ColumnOverride | None = None

    @property
    def title(self) -> str:
        """``name@version · model``, and the column's override (``temperature=1.2``)."""
        title = f"{self.spec.prompt_name}@{self.spec.prompt_version} · {self.model}"
        if self.override is not None and not self.override.empty:
            title += f" · {self.override.label}"
        return title


@dataclass(frozen=True)
class ColumnResult:
    """A finished column and its metrics.

    Attributes:
        column: The column.
        result: The gateway's call result.
        ttft_ms: Time to the first text, as the compare saw it.
        ensemble: The ensemble's decision, for an ensemble column.
    """

    column: CompareColumn
    result: CallResult
    ttft_ms: float | None = None
    ensemble: EnsembleResult | None = None

    @property
    def ok(self) -> bool:
        """True when the column has an answer."""
        return self.result.completion.ok

    @property
    def text(self) -> str:
        """The answer ("" on error)."""
        return self.result.completion.text

    @property
    def tokens_per_s(self) -> float | None:
        """Output tokens per second of generation (after the first token when streamed)."""
        done = self.result.completion
        span = done.latency_ms - (self.ttft_ms or 0.0)
        if not done.ok or done.usage.completion_tokens == 0 or span <= 0:
            return None
        return done.usage.completion_tokens / (span / 1000)

    def metrics(self) -> dict[str, Any]:
        """Every metric of the column, JSON-ready."""
        done = self.result.completion
        tps = self.tokens_per_s
        data: dict[str, Any] = {
            "prompt": self.column.spec.prompt_name,
            "version": self.column.spec.prompt_version,
            "model": self.column.model,
            "answered_by": done.answered_by or None,
            "text": done.text,
            "error": done.error,
            "ttft_ms": round(self.ttft_ms, 3) if self.ttft_ms is not None else None,
            "tokens_per_s": round(tps, 3) if tps is not None else None,
            "latency_ms": round(done.latency_ms, 3),
            "prompt_tokens": done.usage.prompt_tokens,
            "completion_tokens": done.usage.completion_tokens,
            "total_tokens": done.usage.total_tokens,
            "cost_usd": done.cost_usd,
            "cache": self.result.cache,
            "finish_reason": done.finish_reason,
            "trace_id": self.result.trace_id,
            "warnings": list(self.result.warnings),
        }
        if self.column.override is not None and not self.column.override.empty:
            data["override"] = self.column.override.record()
        if self.ensemble is not None:
            from promptdeck.core.compare.ensemble_result import ensemble_summary

            data["ensemble"] = ensemble_summary(self.ensemble)
        return data


@dataclass(frozen=True)
class ColumnDelta:
    """Text arrived for a column."""

    index: int
    text: str


@dataclass(frozen=True)
class ColumnDone:
    """A column finished."""

    index: int
    column: ColumnResult


CompareEvent = ColumnDelta | ColumnDone
"""What :func:`run_compare` reports while it runs."""


@dataclass(frozen=True)
class CompareResult:
    """Every column, and how alike their answers are.

    Attributes:
        columns: The finished columns, in order.
        similarity: Pairwise cosine similarity of the answers that exist, indexed by
            column (None where a column failed); empty when not computed.
        similarity_error: Why the similarity could not be computed, if it could not.
    """

    columns: tuple[ColumnResult, ...]
    similarity: tuple[tuple[float | None, ...], ...] = field(default=())
    similarity_error: str | None = None

    @property
    def all_failed(self) -> bool:
        """True when no column has an answer."""
        return not any(c.ok for c in self.columns)


def plan_compare(
    workspace: Workspace,
    refs: Sequence[str],
    variables: Mapping[str, Any],
    models: Sequence[str],
    overrides: Mapping[str, Any] | None = None,
    column_overrides: Mapping[int, ColumnOverride] | None = None,
) -> list[CompareColumn]:
    """Render every prompt reference and pair it with every model (versions × models).

    With no models, each prompt's own model (or ``default_model``) is used. Each
    column runs with its model's parameters over the prompt's, and ``overrides``
    (``--param``) over both (:func:`~promptdeck.core.providers.params.effective_params`);
    ``column_overrides`` (by column index) go over all of them, for that column only.

    Raises:
        UsageError: No prompt, or an unknown model.
        NotFoundError: Unknown prompt, version or label.
        VariableError: A variable is missing or invalid.
    """
    from promptdeck.core.compare.overrides import apply_override
    from promptdeck.core.gateway.prompt_call import prompt_call

    if not refs:
        raise UsageError("nothing to compare", "name a prompt, e.g. `compare summarize -m A -m B`")
    for model in models:
        check_model(workspace.config, model)
    size = len(refs) * max(1, len(models))
    if size > MAX_COLUMNS:
        raise UsageError(
            f"{len(refs)} prompt versions × {len(models)} models make {size} columns "
            f"(at most {MAX_COLUMNS})",
            "compare fewer versions or models at once",
        )
    columns: list[CompareColumn] = []
    for ref in refs:
        base = prompt_call(workspace, ref, variables, kind="compare", overrides=overrides)
        if not models:  # the prompt's own model (or default_model): checked as -m is
            check_model(workspace.config, base.model)
        for model in models or [base.model]:
            own = (column_overrides or {}).get(len(columns))
            spec = apply_override(_with_model(base, model), own)
            columns.append(CompareColumn(len(columns), ref, model, spec, own))
    return columns


def _with_model(spec: CallSpec, model: str) -> CallSpec:
    from dataclasses import replace

    return replace(spec, model=model)


async def _run_column(
    gateway: Gateway, column: CompareColumn, report: Callable[[CompareEvent], None]
) -> ColumnResult:
    from promptdeck.core.gateway.engine import CallResult

    if column.model in gateway.config.ensembles:
        from promptdeck.core.compare.ensembles import run_ensemble

        ensemble = await run_ensemble(gateway, column.spec, column.model)
        if ensemble.result.completion.ok:
            report(ColumnDelta(column.index, ensemble.result.completion.text))
        return ColumnResult(column, ensemble.result, None, ensemble)
    start = time.perf_counter()
    ttft: float | None = None
    result: CallResult | None = None
    async for event in gateway.stream(column.spec):
        if isinstance(event, CallResult):
            result = event
        else:
            if ttft is None:
                ttft = (time.perf_counter() - start) * 1000
            report(ColumnDelta(column.index, event))
    assert result is not None
    return ColumnResult(column, result, result.completion.ttft_ms or ttft)


async def run_compare(
    gateway: Gateway,
    columns: Sequence[CompareColumn],
    *,
    on_event: Callable[[CompareEvent], None] | None = None,
    embedder: Embedder | None = None,
    similarity: bool = True,
) -> CompareResult:
    """Fill every column concurrently, streaming; then measure how alike the answers are.

    Args:
        gateway: The gateway (one event loop).
        columns: From :func:`plan_compare`.
        on_event: Called with each delta and each finished column.
        embedder: For the similarity matrix (default: the local MiniLM).
        similarity: False to skip the similarity matrix.

    Returns:
        The columns in order; model failures are error values in them.
    """

    def report(event: CompareEvent) -> None:
        if on_event is not None:
            on_event(event)

    async def one(column: CompareColumn) -> ColumnResult:
        done = await _run_column(gateway, column, report)
        report(ColumnDone(column.index, done))
        return done

    finished = tuple(await asyncio.gather(*(one(c) for c in columns)))
    matrix: tuple[tuple[float | None, ...], ...] = ()
    problem: str | None = None
    answered = [c for c in finished if c.ok and c.text.strip()]
    if similarity and len(answered) >= 2:
        try:
            if embedder is None:
                from promptdeck.core.providers.embeddings import get_embedder

                embedder = get_embedder()
            matrix = await asyncio.to_thread(similarity_matrix, embedder, finished)
        except PromptdeckError as exc:
            problem = f"no similarity: {exc.title}"
    return CompareResult(finished, matrix, problem)


def similarity_matrix(
    embedder: Embedder, columns: Sequence[ColumnResult]
) -> tuple[tuple[float | None, ...], ...]:
    """Pairwise cosine similarity of the columns' answers (None for failed columns)."""
    from promptdeck.core.compare.ensembles import agreement_matrix

    index = [i for i, c in enumerate(columns) if c.ok and c.text.strip()]
    rows = agreement_matrix(embedder, [columns[i].text for i in index])
    at = {col: pos for pos, col in enumerate(index)}
    return tuple(
        tuple(rows[at[i]][at[j]] if i in at and j in at else None for j in range(len(columns)))
        for i in range(len(columns))
    )


_TOKENS = re.compile(r"\S+|\s+")


def word_diff(a: str, b: str) -> list[tuple[str, str]]:
    """A word-level diff of two answers.

    Returns:
        ``(op, text)`` pieces in reading order: ``=`` common, ``-`` only in ``a``,
        ``+`` only in ``b``. Whitespace travels with the words around it.
    """
    left, right = _TOKENS.findall(a), _TOKENS.findall(b)
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    pieces: list[tuple[str, str]] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if pieces and pieces[-1][0] == op:
            pieces[-1] = (op, pieces[-1][1] + text)
        else:
            pieces.append((op, text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("=", "".join(left[i1:i2]))
            continue
        if tag in ("delete", "replace"):
            add("-", "".join(left[i1:i2]))
        if tag in ("insert", "replace"):
            add("+", "".join(right[j1:j2]))
    return pieces


def fmt_optional(value: float | None, spec: str, unit: str = "") -> str:
    """Format a number that may be missing (``-``)."""
    return "-" if value is None else f"{value:{spec}}{unit}"


def metric_lines(column: ColumnResult) -> list[str]:
    """A column's metrics as short lines (the CLI's table and the screen's footer)."""
    from promptdeck.core.gateway.costs import format_cost

    done = column.result.completion
    tps = fmt_optional(column.tokens_per_s, ".1f")
    lines = [
        f"ttft {fmt_optional(column.ttft_ms, '.0f', ' ms')} · {tps} tok/s",
        f"{done.latency_ms:.0f} ms · {done.usage.total_tokens} tok · {format_cost(done.cost_usd)}",
        f"cache {column.result.cache_label} · {done.finish_reason or '-'}",
    ]
    if column.ensemble is not None:
        ens = column.ensemble
        flag = " · REVIEW" if ens.requires_review else ""
        lines.append(f"{ens.strategy} · agreement {fmt_optional(ens.agreement, '.2f')}{flag}")
    return lines
