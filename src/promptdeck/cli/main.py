"""The ``promptdeck`` console script.

Only click and light modules are imported at the top, so ``promptdeck --help``
answers at once; the engine is imported inside the commands, the TUI only when
it opens.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from promptdeck import __version__
from promptdeck.cli.output import echo_error, echo_json, echo_warning, render_table
from promptdeck.errors import ExitCode, PromptdeckError, UsageError

if TYPE_CHECKING:
    from promptdeck.core.sync import SyncReport
    from promptdeck.core.workspace import Workspace

__all__ = ["cli", "main"]


@dataclass(frozen=True)
class Options:
    """Global options, shared by every subcommand."""

    workspace: Path | None
    headless: bool

    def wants_tui(self, as_json: bool = False) -> bool:
        """True when this invocation should open the workbench instead of printing."""
        return not (self.headless or as_json) and sys.stdin.isatty() and sys.stdout.isatty()


def _open_workspace(options: Options) -> Workspace:
    from promptdeck.core.workspace import Workspace
    from promptdeck.paths import find_workspace

    return Workspace.open(find_workspace(options.workspace))


def _report_sync(report: SyncReport) -> None:
    for error in report.errors:
        echo_warning(f"{error.title} (last good version kept)")


def _open_tui(options: Options, screen: str) -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the workbench needs a terminal, and this one has no TTY",
            "run a command with --headless, e.g. `promptdeck --headless prompts list`",
        )
    workspace = _open_workspace(options)
    from promptdeck.tui.app import PromptdeckApp

    PromptdeckApp(workspace, screen=screen).run()


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--workspace",
    "-w",
    type=click.Path(path_type=Path, file_okay=False),
    help="Workspace folder (default: the nearest folder upward holding promptdeck.toml, "
    "else $PROMPTDECK_WORKSPACE).",
)
@click.option(
    "--headless",
    is_flag=True,
    help="No TUI: run the command and print its result (for scripts and CI). Never waits "
    "for input.",
)
@click.version_option(__version__, "--version", prog_name="promptdeck")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None, headless: bool) -> None:
    """promptdeck: a terminal workbench for prompt engineering and LLM evals.

    Without a command, opens the workbench on the workspace. With a command and
    without --headless, opens the workbench at the matching screen; with
    --headless, runs the same engine call and prints its result.

    Exit codes: 0 success, 1 a check failed, 2 usage or configuration error,
    3 runtime failure, 130 interrupted.
    """
    ctx.obj = Options(workspace=workspace, headless=headless)
    if ctx.invoked_subcommand is None:
        if headless:
            raise UsageError(
                "--headless needs a command", "see `promptdeck --help` for the commands"
            )
        _open_tui(ctx.obj, "prompts")


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def init(directory: Path, as_json: bool) -> None:
    """Create a workspace in DIRECTORY (default: here) from the demo template.

    Writes promptdeck.toml, prompts/, suites/, datasets/ and .promptdeck/. Refuses
    to overwrite an existing workspace or any existing file.
    """
    from promptdeck.core.init import init_workspace
    from promptdeck.core.workspace import Workspace

    paths = init_workspace(directory)
    workspace = Workspace.open(paths)
    try:
        report = workspace.sync()
    finally:
        workspace.close()
    if as_json:
        echo_json({"workspace": str(paths.root), "prompts": [n for n, _ in report.new_versions]})
        return
    click.echo(f"Created a workspace in {paths.root} with {len(report.new_versions)} prompts.")
    click.echo(f"Open it with: promptdeck --workspace {paths.root}")


@cli.group()
def prompts() -> None:
    """Versioned prompts: list them (more in the Prompts screen)."""


@prompts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def prompts_list(options: Options, as_json: bool) -> None:
    """List the workspace's prompts with their versions and labels."""
    if options.wants_tui(as_json):
        _open_tui(options, "prompts")
        return
    workspace = _open_workspace(options)
    try:
        report = workspace.sync()
        summaries = workspace.prompt_summaries()
    finally:
        workspace.close()
    _report_sync(report)
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
                    "error": s.last_error,
                }
                for s in summaries
            ]
        )
        return
    if not summaries:
        click.echo("No prompts yet: add a file to prompts/ (see docs/formats.md).")
        return
    rows = []
    for s in summaries:
        labels = ", ".join(f"{k}=v{v}" for k, v in s.labels.items() if k != "latest")
        status = "error" if s.last_error else ("ok" if s.file_present else "no file")
        latest = f"v{s.latest_version}" if s.latest_version else None
        rows.append((s.name, latest, s.versions, labels or None, status, s.description))
    click.echo(render_table(("NAME", "LATEST", "VERSIONS", "LABELS", "FILE", "DESCRIPTION"), rows))


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the command line and exit with a documented exit code.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).
    """
    code: int
    try:
        result = cli.main(args=argv, prog_name="promptdeck", standalone_mode=False)
        code = int(result) if isinstance(result, int) else ExitCode.OK
    except PromptdeckError as error:
        echo_error(error.title, error.hint)
        code = error.exit_code
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = ExitCode.USAGE
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("interrupted", err=True)
        code = ExitCode.INTERRUPTED
    sys.exit(code)
