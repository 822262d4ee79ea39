"""``promptdeck prompts ...``: the prompt registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from promptdeck.cli.context import Options, open_tui, open_workspace
from promptdeck.cli.output import echo_json, render_table

if TYPE_CHECKING:
    from promptdeck.store.prompts_repo import PromptSummary

__all__ = ["prompts"]


@click.group()
def prompts() -> None:
    """Versioned prompts: list, show, history, diff, label, approve, unapprove, lint."""


@prompts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def prompts_list(options: Options, as_json: bool) -> None:
    """List the workspace's prompts with their versions and labels.

    Exits 2 when a prompt file does not load (the list still shows every prompt).
    """
    if options.wants_tui(as_json):
        open_tui(options, "prompts")
        return
    workspace = open_workspace(options, sync=False)
    try:
        workspace.sync()  # the files that do not load are the error below
        summaries = workspace.prompt_summaries()
    finally:
        workspace.close()
    broken = [s for s in summaries if s.last_error and s.file_present]
    if as_json:
        echo_json(
            [
                {
                    "name": s.name,
                    "description": s.description,
                    "file": s.source_path,
                    "file_present": s.file_present,
                    "versions": s.versions,
                    "latest_version": s.latest_version,
                    "labels": s.labels,
                    "approved": s.approved,
                    "error": s.last_error,
                }
                for s in summaries
            ]
        )
    elif not summaries:
        click.echo("No prompts yet: add a file to prompts/ (see docs/formats.md).")
    else:
        click.echo(_list_table(summaries))
    if broken:
        from promptdeck.errors import ConfigError

        more = f" ({len(broken) - 1} more prompt files do not load)" if len(broken) > 1 else ""
        raise ConfigError(
            str(broken[0].last_error), f"fix the file; its stored versions are kept{more}"
        )


def _list_table(summaries: list[PromptSummary]) -> str:
    rows = []
    for s in summaries:
        labels = ", ".join(f"{k}=v{v}" for k, v in s.labels.items() if k != "latest")
        status = "error" if s.last_error else ("ok" if s.file_present else "no file")
        latest = f"v{s.latest_version}" if s.latest_version else None
        rows.append((s.name, latest, s.versions, labels or None, status, s.description))
    return render_table(("NAME", "LATEST", "VERSIONS", "LABELS", "FILE", "DESCRIPTION"), rows)


def _tty() -> bool:
    import sys

    return sys.stdout.isatty()


def _highlight(text: str, lexer_name: str) -> str:
    """Colour text for a terminal with pygments (plain when not on a TTY)."""
    if not _tty():
        return text
    from pygments import highlight
    from pygments.formatters import TerminalFormatter
    from pygments.lexers import get_lexer_by_name

    return highlight(text, get_lexer_by_name(lexer_name), TerminalFormatter())


def _vars(pairs: tuple[str, ...]) -> dict[str, str]:
    from promptdeck.errors import UsageError

    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--var {pair!r} is not KEY=VALUE", "write --var name=value")
        values[key.strip()] = value
    return values


@prompts.command("history")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def prompts_history(options: Options, name: str, as_json: bool) -> None:
    """Show every version of prompt NAME with its labels, label moves and approvals.

    Each move and approval shows who made it, when and the note given.
    """
    from promptdeck.cli.commands.prompts_output import history_json, history_text
    from promptdeck.core.prompts.versions import prompt_history

    workspace = open_workspace(options)
    try:
        with workspace.session() as session:
            history = prompt_history(session, name)
    finally:
        workspace.close()
    if as_json:
        echo_json(history_json(history))
    else:
        click.echo(history_text(history))


@prompts.command("show")
@click.argument("ref")
@click.option("--var", "pairs", multiple=True, help="Render with this variable (KEY=VALUE).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def prompts_show(options: Options, ref: str, pairs: tuple[str, ...], as_json: bool) -> None:
    """Show a version (REF is NAME, NAME@VERSION or NAME@LABEL); with --var, render it."""
    if not pairs and options.wants_tui(as_json):
        from promptdeck.tui.targets import ItemTarget

        open_tui(options, "prompts", ItemTarget(ref.split("@", 1)[0]))
        return
    from promptdeck.core.prompts.refs import resolve_prompt
    from promptdeck.core.prompts.templating import render_prompt

    workspace = open_workspace(options)
    try:
        with workspace.session() as session:
            target = resolve_prompt(session, ref)
    finally:
        workspace.close()
    rendered = (
        render_prompt(target.file, _vars(pairs), version=target.version, config=workspace.config)
        if pairs
        else None
    )
    if as_json:
        document: dict[str, object] = {
            "name": target.name,
            "version": target.version,
            "hash": target.content_hash,
            "author": target.author,
            "content": target.content,
        }
        if rendered is not None:
            document["messages"] = rendered.messages
            document["params"] = rendered.params
        echo_json(document)
        return
    if rendered is not None:
        click.echo(rendered.text())
        return
    author = f"  by {target.author}" if target.author else ""
    click.echo(f"# {target.name}@{target.version}  sha256:{target.content_hash[:12]}{author}")
    click.echo(_highlight(target.content, "yaml"), nl=False)


@prompts.command("diff")
@click.argument("name")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def prompts_diff(options: Options, name: str, a: str, b: str, as_json: bool) -> None:
    """Unified diff of two versions or labels of NAME (e.g. `diff support 2 production`)."""
    from promptdeck.core.prompts.refs import resolve_prompt
    from promptdeck.core.prompts.versions import diff_versions

    workspace = open_workspace(options)
    try:
        with workspace.session() as session:
            diff = diff_versions(session, name, a, b)
            versions = [resolve_prompt(session, f"{name}@{ref}").version for ref in (a, b)]
    finally:
        workspace.close()
    if as_json:
        echo_json(
            {"name": name, "from": versions[0], "to": versions[1], "same": not diff, "diff": diff}
        )
        return
    if not diff:
        click.echo(f"{name}@{a} and {name}@{b} have the same content.")
        return
    click.echo(_highlight(diff, "diff"), nl=False)


@prompts.command("label")
@click.argument("ref")
@click.argument("label")
@click.option("--note", help="Why (kept in the history).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def prompts_label(options: Options, ref: str, label: str, note: str | None, as_json: bool) -> None:
    """Point LABEL at the version REF names (NAME@VERSION); moving it back is a rollback."""
    from promptdeck.cli.commands.prompts_output import move_json
    from promptdeck.core.prompts.versions import move_label

    workspace = open_workspace(options)
    try:
        with workspace.session() as session:
            move = move_label(session, ref, label, note)
    finally:
        workspace.close()
    name = ref.split("@", 1)[0]
    if as_json:
        echo_json({"name": name, **move_json(move)})
        return
    before = f"v{move.from_version}" if move.from_version else "(new)"
    if move.from_version == move.to_version:
        kept = " (note kept in the history)" if note else ""
        click.echo(f"{name}: {label} already points at v{move.to_version}{kept}")
    else:
        click.echo(f"{name}: {label} {before} → v{move.to_version}")


@prompts.command("approve")
@click.argument("ref")
@click.option("--note", help="Why (kept with the approval).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def prompts_approve(options: Options, ref: str, note: str | None, as_json: bool) -> None:
    """Mark the version REF names approved (with evidence when the workspace requires it)."""
    from promptdeck.core.prompts.versions import approve_version

    workspace = open_workspace(options)
    try:
        with workspace.session() as session:
            info = approve_version(session, workspace.paths, workspace.config, ref, note)
    finally:
        workspace.close()
    if as_json:
        echo_json(
            {
                "name": info.name,
                "version": info.version,
                "approved_at": info.at.isoformat(),
                "by": info.by,
                "note": info.note,
                "evidence": info.evidence,
                "new": info.created,
            }
        )
        return
    if not info.created:
        click.echo(f"{info.name}@{info.version} was already approved.")
        return
    evidence = f" (evidence: {', '.join(info.evidence)})" if info.evidence else ""
    click.echo(f"Approved {info.name}@{info.version}{evidence}.")


@prompts.command("unapprove")
@click.argument("ref", metavar="NAME[@VERSION]")
@click.option("--note", help="Why (kept in the history).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def prompts_unapprove(options: Options, ref: str, note: str | None, as_json: bool) -> None:
    """Revoke the approval of the version REF names; exports leave it out from then on.

    The revocation is kept in the history with who, when and the note.
    """
    from promptdeck.core.prompts.versions import unapprove_version

    workspace = open_workspace(options)
    try:
        with workspace.session() as session:
            done = unapprove_version(session, ref, note)
    finally:
        workspace.close()
    if as_json:
        echo_json(
            {
                "name": done.name,
                "version": done.version,
                "revoked": done.revoked,
                "revoked_at": done.at.isoformat() if done.at else None,
                "by": done.by,
                "note": done.note,
                "approved": done.approved,
                "labels": done.labels,
            }
        )
        return
    if done.revoked:
        click.echo(f"Revoked the approval of {done.name}@{done.version}.")
        for label in done.labels:
            click.echo(
                f"{label} still points at v{done.version}: move it to an approved version "
                f"before exporting it (promptdeck prompts label {done.name}@VERSION {label})."
            )
        return
    others = ", ".join(f"v{v}" for v in done.approved)
    click.echo(
        f"{done.name}@{done.version} is not approved"
        + (f" (approved: {others})." if others else ".")
    )


@prompts.command("lint")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def prompts_lint(options: Options, names: tuple[str, ...], as_json: bool) -> None:
    """Check prompts (all, or NAMES): variables, suite cases, tokens, secrets and PII.

    Exits 1 when any finding is an error; 2 when a prompt or suite file does not load
    (what every other command would refuse too).
    """
    from promptdeck.core.prompts.lint import FILE_RULES, Severity, lint_prompts
    from promptdeck.core.similar.service import case_embedder
    from promptdeck.errors import CheckFailedError, ConfigError

    workspace = open_workspace(options, sync=False)
    try:
        results = lint_prompts(
            workspace.paths,
            workspace.config,
            names or None,
            embed=case_embedder(workspace.paths),
        )
    finally:
        workspace.close()
    errors = sum(f.severity is Severity.ERROR for fs in results.values() for f in fs)
    if as_json:
        echo_json(
            {
                name: [
                    {
                        "severity": f.severity.value,
                        "location": f.location,
                        "message": f.message,
                        "rule": f.rule,
                    }
                    for f in findings
                ]
                for name, findings in results.items()
            }
        )
    else:
        for findings in results.values():
            for f in findings:
                click.echo(f"{f.location}: {f.severity.value}: {f.message} [{f.rule}]")
        warnings = sum(f.severity is Severity.WARNING for fs in results.values() for f in fs)
        click.echo(f"{len(results)} checked: {errors} errors, {warnings} warnings.")
    broken = [f for fs in results.values() for f in fs if f.rule in FILE_RULES]
    if broken:
        first = broken[0]
        more = f" ({len(broken) - 1} more files do not load)" if len(broken) > 1 else ""
        raise ConfigError(f"{first.location}: {first.message}", f"{first.hint}{more}")
    if errors:
        raise CheckFailedError(
            f"lint found {errors} error{'s' if errors != 1 else ''}", "fix the lines listed above"
        )
