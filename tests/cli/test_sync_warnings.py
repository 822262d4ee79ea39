"""The warning for a prompt file that does not load says what is true of it."""

from __future__ import annotations

import pytest

from promptdeck.core.prompts.sync import SyncReport
from promptdeck.errors import ConfigError, ExitCode
from promptdeck.paths import WorkspacePaths
from promptdeck.tui.widgets.prompt_notices import save_notice
from tests.helpers import run_cli as run

BROKEN = "name: {name}\ntemplate: [unclosed\n"


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_a_broken_file_with_a_stored_version_names_the_version_that_stays(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths
) -> None:
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    assert run(capsys, *ws, "prompts", "list")[0] == ExitCode.OK  # summarize@1 stored
    (demo_paths.prompts / "summarize.prompt.yaml").write_text(BROKEN.format(name="summarize"))
    (demo_paths.prompts / "fresh.prompt.yaml").write_text(BROKEN.format(name="fresh"))
    code, _, err = run(capsys, *ws, "run", "summarize", "-v", "text=hi")
    assert code == ExitCode.USAGE
    warnings = _warnings(err)
    assert "last good version kept" not in err
    (stays,) = [w for w in warnings if "summarize.prompt.yaml" in w]
    assert stays.endswith("(not loaded; summarize@1, its last good version, stays usable)")
    (fresh,) = [w for w in warnings if "fresh.prompt.yaml" in w]
    assert fresh.endswith("(not loaded; no version of 'fresh' is stored yet)")


def test_the_tuis_save_notice_says_the_same() -> None:
    error = ConfigError("prompts/x.prompt.yaml:2: invalid YAML", "fix it")
    report = SyncReport(errors=[error], kept={error.title: ("x", None)})
    message, title, severity = save_notice("x", report)
    assert message.endswith("(not loaded; no version of 'x' is stored yet)")
    assert (title, severity) == ("Saved, but not loadable", "warning")
    report = SyncReport(errors=[error], kept={error.title: ("x", 4)})
    assert save_notice("x", report)[0].endswith("x@4, its last good version, stays usable)")
