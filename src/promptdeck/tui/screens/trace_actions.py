"""The Traces screen's trace actions: to a suite case, similar traces (in thread workers)."""

from __future__ import annotations

from collections.abc import Callable

from promptdeck.store.traces_repo import TraceDetail
from promptdeck.tui.screens.base import WorkbenchScreen
from promptdeck.tui.screens.trace_dialogs import CaseRequest, SimilarTracesDialog, ToCaseDialog

__all__ = ["run_similar", "run_to_case"]


def _guarded(screen: WorkbenchScreen, work: Callable[[], None]) -> Callable[[], None]:
    """``work`` with its failures shown as notifications (it runs on a worker thread)."""

    def run() -> None:
        from promptdeck.errors import PromptdeckError

        try:
            work()
        except PromptdeckError as error:
            screen.app.call_from_thread(screen.notify, error.title, severity="error")
        except Exception as error:  # an unexpected failure: shown, never a crash
            screen.app.call_from_thread(screen.notify, f"failed: {error}", severity="error")

    return run


def run_to_case(screen: WorkbenchScreen, detail: TraceDetail) -> None:
    """Ask for a suite, then append the trace's case to it."""
    uid = detail.trace.uid

    def chosen(request: CaseRequest | None) -> None:
        if request is None:
            return
        suite, prompt = request

        def work() -> None:
            from promptdeck.core.collect.to_case import save_trace_case

            workspace = screen.workbench.workspace
            with workspace.session() as session:
                path, _ = save_trace_case(session, workspace.paths, uid, suite, prompt=prompt)
            shown = workspace.paths.relative(path)
            screen.app.call_from_thread(
                screen.notify, f"Case appended to {shown}: review its expected answer"
            )

        screen.run_worker(
            _guarded(screen, work),
            name="trace-to-case",
            group="trace-actions",
            thread=True,
            exit_on_error=False,
        )

    screen.app.push_screen(ToCaseDialog(uid, detail.trace.prompt_name), chosen)


def run_similar(screen: WorkbenchScreen, uid: str, open_trace: Callable[[str], None]) -> None:
    """Find the traces nearest to ``uid`` and list them; choosing one opens it."""

    def work() -> None:
        from promptdeck.core.similar.service import trace_index

        workspace = screen.workbench.workspace
        index = trace_index(workspace.paths)
        with workspace.session() as session:
            found = index.similar(session, uid, 20)

        def show() -> None:
            def chosen(picked: str | None) -> None:
                if picked:
                    open_trace(picked)

            screen.app.push_screen(SimilarTracesDialog(uid, found), chosen)

        screen.app.call_from_thread(show)

    screen.notify("Finding similar traces…", timeout=2)
    screen.run_worker(
        _guarded(screen, work),
        name="trace-similar",
        group="trace-actions",
        thread=True,
        exclusive=True,
        exit_on_error=False,
    )
