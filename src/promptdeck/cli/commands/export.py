"""``promptdeck export``: approved prompts to a registry folder."""

from __future__ import annotations

from pathlib import Path

import click

from promptdeck.cli.context import Options, open_workspace
from promptdeck.cli.output import echo_json

__all__ = ["export", "keygen"]


@click.command()
@click.option(
    "--to",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Registry folder (default: .promptdeck/exports/registry in the workspace).",
)
@click.option("--label", default="production", show_default=True, help="Label to export.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["native", "langfuse"]),
    default="native",
    show_default=True,
    help="native (read with promptdeck.registry) or langfuse (its create-prompt JSON, "
    "under DIR/langfuse/ with its own index and manifest).",
)
@click.option(
    "--sign",
    "key_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Sign the manifest with this Ed25519 private key (from `promptdeck keygen`); "
    "applications check it with registry.load(..., public_key=...).",
)
@click.option("--prompt", "names", multiple=True, help="Only this prompt (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def export(
    options: Options,
    folder: Path | None,
    label: str,
    fmt: str,
    names: tuple[str, ...],
    key_file: Path | None,
    as_json: bool,
) -> None:
    """Export the approved versions behind LABEL to a registry folder.

    Every version behind the label must be approved, and none may hold a secret
    (what `prompts lint` reports); otherwise nothing is written. Re-exporting the
    same versions changes nothing on disk.
    """
    from promptdeck.core.prompts.export import export_registry

    key = None
    if key_file is not None:
        from promptdeck.core.prompts.signing import load_signing_key

        key = load_signing_key(key_file)
    workspace = open_workspace(options)
    try:
        target = folder or workspace.paths.exports / "registry"
        with workspace.session() as session:
            report = export_registry(
                session,
                target,
                label=label,
                names=list(names) or None,
                fmt="langfuse" if fmt == "langfuse" else "native",
                sign=key,
            )
    finally:
        workspace.close()
    if as_json:
        echo_json(
            {
                "folder": str(report.folder),
                "exported": [{"name": n, "version": v} for n, v in report.exported],
                "written": report.written,
                "unchanged": report.unchanged,
                "skipped": report.skipped,
                "removed": report.removed,
                "signed_by": report.signed_by,
            }
        )
        return
    exported = ", ".join(f"{n}@{v}" for n, v in report.exported)
    click.echo(f"Exported {exported} ({label}) to {report.folder}")
    changed = len(report.written)
    click.echo(
        f"{changed} file{'s' if changed != 1 else ''} written, {len(report.unchanged)} unchanged."
    )
    if report.removed:
        click.echo(f"Removed (no longer approved or labelled): {', '.join(report.removed)}")
    if report.signed_by:
        click.echo(f"Signed with the key whose public half is {report.signed_by}")


@click.command()
@click.argument("key_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def keygen(key_file: Path, as_json: bool) -> None:
    """Make an Ed25519 key pair for signed exports (`export --sign KEY_FILE`).

    Writes the private key to KEY_FILE (readable by you only; never overwritten)
    and the public key to KEY_FILE.pub, and prints the public key: give it to the
    application, `registry.load(DIR, NAME, public_key="...")`, which then refuses
    a registry that is unsigned or signed with another key.
    """
    from promptdeck.core.prompts.signing import generate_key

    key = generate_key(key_file)
    if as_json:
        echo_json({"private_key": str(key.path), "public_key": key.public})
        return
    click.echo(key.public)
    click.echo(f"private key: {key.path} (keep it secret); public key: {key.path}.pub", err=True)
