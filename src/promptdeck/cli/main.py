"""The ``promptdeck`` console script.

Only click and light modules are imported at the top, so ``promptdeck --help``
answers at once; the engine is imported inside the commands, the TUI only when
it opens. Each command group lives in :mod:`promptdeck.cli.commands`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from promptdeck import __version__
from promptdeck.cli.context import Options, open_tui
from promptdeck.cli.output import echo_error, scrubbed_output
from promptdeck.errors import ExitCode, PromptdeckError, UsageError

__all__ = ["COMMANDS", "LazyGroup", "cli", "entry", "main"]


class LazyGroup(click.Group):
    """A group whose subcommands are imported when one is run or listed.

    A command runs after importing its own module only (``promptdeck eval`` does not
    load the compare, guard or traces commands' modules).
    """

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, imported or not."""
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the command's module on first use."""
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attribute = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


# Command registry: one line per command, "module:attribute".
COMMANDS = {
    "init": "promptdeck.cli.commands.init:init",
    "prompts": "promptdeck.cli.commands.prompts:prompts",
    "run": "promptdeck.cli.commands.run:run",
    "compare": "promptdeck.cli.commands.compare:compare",
    "traces": "promptdeck.cli.commands.traces:traces",
    "cache": "promptdeck.cli.commands.cache:cache",
    "export": "promptdeck.cli.commands.export:export",
    "keygen": "promptdeck.cli.commands.export:keygen",
    "eval": "promptdeck.cli.commands.eval:eval_group",
    "feedback": "promptdeck.cli.commands.feedback:feedback",
    "export-dataset": "promptdeck.cli.commands.feedback:export_dataset",
    "guard": "promptdeck.cli.commands.guard:guard",
    "import": "promptdeck.cli.commands.importer:import_group",
    "report": "promptdeck.cli.commands.report:report",
    "collect": "promptdeck.cli.commands.collect:collect",
    "db": "promptdeck.cli.commands.db:db",
    "worker": "promptdeck.cli.commands.worker:worker",
}


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
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
    --headless (or without a terminal), runs the same engine call and prints its
    result.

    Exit codes: 0 success, 1 a check failed, 2 usage or configuration error,
    3 runtime failure, 130 interrupted.
    """
    ctx.obj = Options(workspace=workspace, headless=headless)
    if ctx.invoked_subcommand is None:
        if headless:
            raise UsageError(
                "--headless needs a command", "see `promptdeck --help` for the commands"
            )
        open_tui(ctx.obj, "prompts")


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the command line and exit with a documented exit code.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).
    """
    with scrubbed_output():
        code = _run(argv)
    sys.exit(code)


def _run(argv: list[str] | None) -> int:
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
    except Exception as exc:
        from promptdeck.store.db import lock_error
        from promptdeck.store.engines import connect_error

        locked = lock_error(exc) or connect_error(exc)
        if locked is None and os.environ.get("PROMPTDECK_DEBUG"):
            import traceback

            # The traceback a developer asked for, without the keys it may quote.
            sys.stderr.write("".join(traceback.format_exception(exc)))
            return ExitCode.RUNTIME
        if locked is not None:
            echo_error(locked.title, locked.hint)
            code = locked.exit_code
        else:
            echo_error(
                f"internal error: {type(exc).__name__}: {exc}",
                "this is a bug in promptdeck; rerun with PROMPTDECK_DEBUG=1 to see the traceback",
            )
            code = ExitCode.RUNTIME
    return code


def entry() -> NoReturn:
    """The console script: :func:`main`, then leave without the interpreter's teardown.

    Tearing down the interpreter (clearing every module: SQLAlchemy, pydantic,
    aiohttp...) takes about 0.2 s after the work is done, longer than most commands
    themselves. Everything promptdeck writes is committed and closed before
    :func:`main` returns (databases, reports, streams), so once the output streams
    are flushed the process ends at once. ``PROMPTDECK_DEBUG=1`` keeps the normal exit.
    """
    # Start-up builds hundreds of thousands of long-lived objects (SQLAlchemy, pydantic,
    # aiohttp) that a cycle collection would only scan in vain: at the default threshold
    # (700) that cost ~60 ms an eval run, at 100,000 still one 30 ms pass. Until a
    # long-running command settles (see `settle_gc`), collect only past a million.
    gc.set_threshold(1_000_000, 50, 50)
    try:
        main()
    except SystemExit as done:
        if os.environ.get("PROMPTDECK_DEBUG"):
            raise
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        import logging

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            # A closed pipe (``promptdeck ... | head``): nothing more to say.
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
