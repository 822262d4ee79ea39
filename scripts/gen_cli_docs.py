"""Write docs/cli.md from the command line's own --help texts.

Run: .venv/bin/python scripts/gen_cli_docs.py
tests/test_docs.py fails when docs/cli.md differs from what this writes, so the
reference cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "cli.md"


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1])
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None:
                found += _walk(sub, [*path, name])
    return found


def render() -> str:
    """Return the CLI reference as Markdown."""
    from promptdeck.cli.main import cli

    parts = [
        "# Command-line reference\n",
        "Generated from `promptdeck --help` by `scripts/gen_cli_docs.py`; a test keeps it",
        "in step with the code. Every command runs headless with `--headless` (or without",
        "a terminal); commands that open a screen do so otherwise.\n",
    ]
    for path, command in _walk(cli, ["promptdeck"]):
        with click.Context(
            command,
            info_name=" ".join(path),
            terminal_width=100,
            max_content_width=100,
            help_option_names=["-h", "--help"],  # as the real command line (cli/main.py)
        ) as ctx:
            text = command.get_help(ctx)
        parts.append(f"## `{' '.join(path)}`\n")
        parts.append("```text\n" + text.rstrip() + "\n```\n")
    return "\n".join(parts)


def main() -> None:
    """Write (or with --check, compare) docs/cli.md."""
    text = render()
    if "--check" in sys.argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        sys.exit(0 if current == text else 1)
    TARGET.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
