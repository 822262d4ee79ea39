"""What every command shares: the global options, opening the workspace, opening the TUI."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promptdeck.cli.output import echo_warning
from promptdeck.errors import UsageError

if TYPE_CHECKING:
    from promptdeck.core.prompts.sync import SyncReport
    from promptdeck.core.workspace.workspace import Workspace

__all__ = ["Options", "open_tui", "open_workspace", "report_sync", "settle_gc"]


@dataclass(frozen=True)
class Options:
    """Global options, shared by every subcommand (``ctx.obj``)."""

    workspace: Path | None
    headless: bool

    def wants_tui(self, as_json: bool = False) -> bool:
        """True when this invocation should open the workbench instead of printing."""
        return not (self.headless or as_json) and sys.stdin.isatty() and sys.stdout.isatty()


def open_workspace(options: Options, *, sync: bool = True) -> Workspace:
    """Find and open the workspace; sync its prompt files unless told not to.

    Sync problems (a prompt file that does not parse) are printed as warnings.
    """
    from promptdeck.core.workspace.workspace import Workspace
    from promptdeck.paths import find_workspace

    workspace = Workspace.open(find_workspace(options.workspace))
    if sync:
        try:
            report_sync(workspace.sync())
        except BaseException:
            workspace.close()
            raise
    return workspace


def settle_gc() -> None:
    """Ready the cycle collector for a long-running command, once its modules are loaded.

    What exists now (modules, tables, the plan) lives until the process ends:
    ``gc.freeze`` keeps it out of every later collection, and collections come back to
    every 100,000 net allocations, which keeps a long run's memory flat.
    """
    import gc

    gc.freeze()
    gc.set_threshold(100_000, 50, 50)


def report_sync(report: SyncReport) -> None:
    """Print a sync's problems as warnings on stderr."""
    for error in report.errors:
        echo_warning(f"{error.title} ({report.kept_note(error)})")


def open_tui(options: Options, screen: str, target: object | None = None) -> None:
    """Open the workbench at ``screen`` (at ``target`` there); refuse without a terminal.

    Only the workspace's folder is checked here (no ``promptdeck.toml`` found is
    reported before the app starts). The app paints first and then opens the
    workspace in a worker (configuration, migrations); if that fails, the app
    leaves at once and the error is raised here, so it is printed and mapped to
    its exit code like any command's.
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the workbench needs a terminal, and this one has no TTY",
            "run a command with --headless, e.g. `promptdeck --headless prompts list`",
        )
    from promptdeck.paths import find_workspace

    paths = find_workspace(options.workspace)
    from promptdeck.tui.app import PromptdeckApp

    app = PromptdeckApp(paths, screen=screen, target=target)
    settle_gc()
    try:
        app.run()
    finally:
        if app.workspace_ready:
            app.workspace.close()
    if app.open_error is not None:
        raise app.open_error
