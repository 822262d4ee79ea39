"""``promptdeck cache ...``: what the response caches hold and save."""

from __future__ import annotations

import click

from promptdeck.cli.context import Options, open_workspace
from promptdeck.cli.output import echo_json, render_table

__all__ = ["cache"]


@click.group()
def cache() -> None:
    """Response caches: statistics."""


@cache.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def cache_stats(options: Options, as_json: bool) -> None:
    """Hits, misses, hit rate, cost and latency saved, per cache, model and prompt."""
    from promptdeck.store import cache_repo

    workspace = open_workspace(options, sync=False)
    try:
        with workspace.session() as session:
            stats = cache_repo.cache_stats(session)
            entries = cache_repo.entry_count(session)
        config = workspace.config.cache
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
