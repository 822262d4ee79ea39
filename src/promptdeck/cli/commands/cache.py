"""``promptdeck cache ...``: what the response caches hold and save."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from promptdeck.cli.context import Options, open_workspace
from promptdeck.cli.output import echo_json, render_table

if TYPE_CHECKING:
    from promptdeck.store.shadow_repo import ShadowCurve

__all__ = ["cache"]


@click.group()
def cache() -> None:
    """Response caches: statistics."""


@cache.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def cache_stats(options: Options, as_json: bool) -> None:
    """Hits, misses, hit rate, cost and latency saved, per cache, model and prompt.

    With shadow mode on, also what each similarity threshold would have served, per
    scope (model, parameters, prompt version), and how similar those answers were to
    the fresh ones: choose ``semantic_threshold`` from it.
    """
    from promptdeck.store import cache_repo, shadow_repo

    workspace = open_workspace(options, sync=False)
    try:
        config = workspace.config.cache
        thresholds = (*shadow_repo.CURVE_THRESHOLDS, config.semantic_threshold)
        with workspace.session() as session:
            stats = cache_repo.cache_stats(session)
            entries = cache_repo.entry_count(session)
            curves = shadow_repo.shadow_curves(session, thresholds)
    finally:
        workspace.close()
    if as_json:
        echo_json(
            {
                "entries": entries,
                "settings": config.model_dump(),
                "groups": [
                    {
                        "cache": s.cache,
                        "model": s.model,
                        "prompt": s.prompt,
                        "hits": s.hits,
                        "misses": s.misses,
                        "hit_rate": round(s.hit_rate, 4),
                        "saved_usd": s.saved_usd,
                        "saved_ms": round(s.saved_ms, 1),
                    }
                    for s in stats
                ],
                "shadow": [_curve_json(c) for c in curves],
            }
        )
        return
    semantic = "on" if config.semantic else "off"
    if config.shadow:
        semantic += " (shadow)"
    click.echo(
        f"exact cache {'on' if config.exact else 'off'}: {entries.get('exact', 0)} entries · "
        f"semantic cache {semantic}: {entries.get('semantic', 0)} entries"
    )
    if not stats:
        click.echo("No calls yet: try `promptdeck --headless run <prompt>`.")
        return
    rows = [
        (
            s.cache,
            s.model,
            s.prompt,
            s.hits,
            s.misses,
            f"{s.hit_rate:.0%}",
            f"${s.saved_usd:.4f}",
            f"{s.saved_ms / 1000:.1f} s",
        )
        for s in stats
    ]
    click.echo(
        render_table(
            ("CACHE", "MODEL", "PROMPT", "HITS", "MISSES", "HIT RATE", "SAVED", "TIME SAVED"), rows
        )
    )
    if curves:
        click.echo(
            "\nShadow mode: near hits each threshold would have served, and how similar their "
            f"answers were to the fresh ones (same answer: similarity ≥ {shadow_repo.SAME_ANSWER})"
        )
    for curve in curves:
        click.echo(_curve_text(curve, config.semantic_threshold))


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _curve_json(curve: ShadowCurve) -> dict[str, Any]:
    return {
        "scope": curve.scope,
        "model": curve.model,
        "prompt": curve.prompt,
        "calls": curve.calls,
        "curve": [
            {
                "threshold": p.threshold,
                "would_serve": p.served,
                "same_answer": p.same_answer,
                "answer_similarity": p.answer_similarity,
                "refused_by_keys": p.refused,
                "refused_answer_similarity": p.refused_answer_similarity,
            }
            for p in curve.points
        ],
    }


def _curve_text(curve: ShadowCurve, current: float) -> str:
    rows = [
        (
            f"{p.threshold:.2f}" + (" (now)" if p.threshold == current else ""),
            p.served,
            "-" if p.precision is None else f"{p.same_answer} ({p.precision:.0%})",
            _number(p.answer_similarity),
            p.refused,
            _number(p.refused_answer_similarity),
        )
        for p in curve.points
    ]
    header = (
        f"\n{curve.model} · {curve.prompt or '(no prompt)'} · scope {curve.scope[:8]}: "
        f"{curve.calls} fresh calls compared"
    )
    table = render_table(
        (
            "THRESHOLD",
            "WOULD SERVE",
            "SAME ANSWER",
            "ANSWER SIM",
            "REFUSED BY KEYS",
            "THEIR ANSWER SIM",
        ),
        rows,
    )
    return f"{header}\n{table}"
