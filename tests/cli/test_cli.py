"""The headless command line: outputs, JSON discipline and documented exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from promptdeck import __version__
from promptdeck.errors import ExitCode
from tests.conftest import DEMO_PROMPTS
from tests.helpers import run_cli as run


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert (code, out.strip()) == (0, f"promptdeck, version {__version__}")
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for word in ("--workspace", "--headless", "--version", "init", "prompts", "Exit codes"):
        assert word in out


def test_init_then_list_prints_the_demo_prompts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "init", str(tmp_path / "w"))
    assert code == 0 and "Created a workspace" in out
    os.chdir(tmp_path / "w" / "prompts")  # found by looking upward
    code, out, err = run(capsys, "--headless", "prompts", "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "LATEST", "VERSIONS", "LABELS", "FILE", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == DEMO_PROMPTS
    assert all(line.split()[1:3] == ["v1", "1"] for line in lines[1:])


def test_json_output_is_one_document_on_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init", str(tmp_path / "w"))
    broken = tmp_path / "w" / "prompts" / "broken.prompt.yaml"
    broken.write_text("name: broken\ntemplate: [\n")
    code, out, err = run(capsys, "--workspace", str(tmp_path / "w"), "prompts", "list", "--json")
    # The list is whole; the file that does not load is the one error (exit 2).
    assert code == 2
    data = json.loads(out)
    assert [p["name"] for p in data] == sorted([*DEMO_PROMPTS, "broken"])
    entry = next(p for p in data if p["name"] == "broken")
    assert entry["versions"] == 0 and entry["error"].startswith("prompts/broken.prompt.yaml:3:")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {entry['error']}"]
    assert "invalid YAML" in errors[0]


def test_init_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "init", str(tmp_path / "w"), "--json")
    assert code == 0
    assert sorted(json.loads(out)["prompts"]) == DEMO_PROMPTS


def test_init_refuses_to_overwrite(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "init", str(tmp_path / "w"))
    code, out, err = run(capsys, "init", str(tmp_path / "w"))
    assert code == ExitCode.USAGE
    assert out == ""
    assert err.startswith("error: ") and "already holds a workspace" in err
    assert "Traceback" not in err


def test_no_workspace_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--headless", "prompts", "list")
    assert code == ExitCode.USAGE
    assert "no workspace here" in err and "hint: run `promptdeck init DIR`" in err


def test_environment_variable_finds_the_workspace(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "init", str(tmp_path / "w"))
    monkeypatch.setenv("PROMPTDECK_WORKSPACE", str(tmp_path / "w"))
    code, out, _ = run(capsys, "--headless", "prompts", "list", "--json")
    assert code == 0 and len(json.loads(out)) == len(DEMO_PROMPTS)


def test_malformed_config_names_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init", str(tmp_path / "w"))
    config = tmp_path / "w" / "promptdeck.toml"
    lines = config.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("semantic_threshold"))
    lines[at] = "semantic_threshold = 2.5"
    config.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "-w", str(tmp_path / "w"), "--headless", "prompts", "list")
    assert (code, out) == (ExitCode.USAGE, "")
    first = err.splitlines()[0]
    assert first.startswith(f"error: {config}:{at + 1}: cache.semantic_threshold:")
    assert len(err.splitlines()) == 2  # the error and its hint, no traceback


def test_headless_without_a_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--headless")
    assert code == ExitCode.USAGE and "needs a command" in err


def test_the_workbench_without_a_terminal_says_what_to_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init", str(tmp_path / "w"))
    code, _, err = run(capsys, "-w", str(tmp_path / "w"))
    assert code == ExitCode.USAGE and "--headless" in err


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "prompts", "list", "--bogus")
    assert code == ExitCode.USAGE and "No such option" in err


def test_damaged_database_is_a_runtime_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init", str(tmp_path / "w"))
    db = tmp_path / "w" / ".promptdeck" / "workspace.db"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    db.write_bytes(b"garbage" * 1000)
    code, _, err = run(capsys, "-w", str(tmp_path / "w"), "--headless", "prompts", "list")
    assert code == ExitCode.RUNTIME and "cannot migrate the workspace database" in err


def test_interrupt_exits_130(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "init", str(tmp_path / "w"))
    from promptdeck.core.workspace.workspace import Workspace

    def interrupted(self: Workspace) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Workspace, "sync", interrupted)
    code, _, err = run(capsys, "-w", str(tmp_path / "w"), "--headless", "prompts", "list")
    assert code == ExitCode.INTERRUPTED and "interrupted" in err


def test_console_script_runs_as_a_process(tmp_path: Path) -> None:
    """The installed entry point, end to end, as CI would call it."""
    exe = Path(sys.executable).with_name("promptdeck")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "promptdeck"]
    subprocess.run([*command, "init", str(tmp_path / "w")], check=True, capture_output=True)
    result = subprocess.run(
        [*command, "--headless", "prompts", "list"],
        cwd=tmp_path / "w",
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "customer-support" in result.stdout


def test_the_fast_exit_flushes_everything_and_keeps_the_exit_code(tmp_path: Path) -> None:
    """The console script skips the interpreter's teardown: no output or data may be lost."""
    exe = Path(sys.executable).with_name("promptdeck")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "promptdeck"]
    subprocess.run([*command, "init", str(tmp_path / "w")], check=True, capture_output=True)
    listed = subprocess.run(
        [*command, "--headless", "-w", str(tmp_path / "w"), "prompts", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    names = {p["name"] for p in json.loads(listed.stdout)}  # complete JSON: all flushed
    # What the command wrote to the database is there for the next process.
    labelled = subprocess.run(
        [
            *command,
            "--headless",
            "-w",
            str(tmp_path / "w"),
            "prompts",
            "label",
            "summarize@1",
            "staging",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert labelled.returncode == 0, labelled.stderr
    again = subprocess.run(
        [*command, "--headless", "-w", str(tmp_path / "w"), "prompts", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    row = next(p for p in json.loads(again.stdout) if p["name"] == "summarize")
    assert "staging" in json.dumps(row) and "summarize" in names
    missing = subprocess.run(
        [*command, "--headless", "-w", str(tmp_path / "nowhere"), "prompts", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == ExitCode.USAGE
    assert missing.stderr.startswith("error: ") and "nowhere" in missing.stderr


def test_an_internal_error_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "init", str(tmp_path / "w"))
    from promptdeck.core.workspace.workspace import Workspace

    def broken(self: Workspace) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(Workspace, "sync", broken)
    code, _, err = run(capsys, "-w", str(tmp_path / "w"), "--headless", "prompts", "list")
    assert code == ExitCode.RUNTIME
    assert err.splitlines()[0] == "error: internal error: ZeroDivisionError: boom"
    assert "Traceback" not in err
    # PROMPTDECK_DEBUG=1: the whole traceback, scrubbed like every other line.
    monkeypatch.setenv("PROMPTDECK_DEBUG", "1")
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "tok-9f8e7d6c5b4a3210")

    def leaky(self: Workspace) -> None:
        raise RuntimeError("sent tok-9f8e7d6c5b4a3210 to the server")

    monkeypatch.setattr(Workspace, "sync", leaky)
    code, _, err = run(capsys, "-w", str(tmp_path / "w"), "--headless", "prompts", "list")
    assert code == ExitCode.RUNTIME
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: sent *** to the server" in err
    assert "tok-9f8e7d6c5b4a3210" not in err


def test_settle_gc_freezes_what_start_up_built_and_collects_again() -> None:
    import gc

    from promptdeck.cli.context import settle_gc

    before = gc.get_threshold()
    try:
        gc.set_threshold(1_000_000, 50, 50)
        gc.unfreeze()
        marker = [object()]
        settle_gc()
        assert gc.get_threshold() == (100_000, 50, 50)
        assert gc.get_freeze_count() > 0
        assert marker  # alive, and frozen with everything else
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
