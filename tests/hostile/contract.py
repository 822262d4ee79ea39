"""The contract every malformed file is held to, and where each kind of file goes."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"

BAD_SUITE = "prompts: [summarize]\ncases:\n  - dataset: datasets/{name}\n"
BAD_PROMPT_SUITE = "prompts: [bad]\ncases:\n  - vars: {x: a}\n"


@dataclass(frozen=True)
class Placement:
    """Where a corpus file of one kind goes, the path errors name, and the commands to try."""

    commands: tuple[tuple[str, ...], ...]

    def install(self, kind: str, source: Path, root: Path) -> str:
        """Put ``source`` in the workspace at ``root``; return the path errors must name."""
        data = source.read_bytes()
        ext = source.suffix
        if kind == "toml":
            target = root / "promptdeck.toml"
            target.write_bytes(target.read_bytes() + b"\n" + data)
            return "promptdeck.toml"
        if kind == "prompt":
            (root / "prompts" / "bad.prompt.yaml").write_bytes(data)
            (root / "suites" / "bad-prompt.suite.yaml").write_text(BAD_PROMPT_SUITE)
            return "prompts/bad.prompt.yaml"
        if kind == "suite":
            (root / "suites" / "bad.suite.yaml").write_bytes(data)
            return "suites/bad.suite.yaml"
        if kind == "dataset":
            (root / "datasets" / f"bad{ext}").write_bytes(data)
            (root / "suites" / "bad.suite.yaml").write_text(BAD_SUITE.format(name=f"bad{ext}"))
            return f"datasets/bad{ext}"
        if kind == "guard":
            (root / "suites" / "bad.guard.yaml").write_bytes(data)
            return "suites/bad.guard.yaml"
        raise AssertionError(kind)


PLACEMENTS = {
    "toml": Placement(
        (
            ("run", "summarize", "-v", "text=hi"),
            ("prompts", "list"),
            ("prompts", "show", "summarize"),
            ("prompts", "lint"),
            ("eval", "run", "summarize"),
            ("compare", "summarize", "-v", "text=hi", "--format", "json"),
            ("export",),
        )
    ),
    "prompt": Placement(
        (
            ("run", "bad", "-v", "x=hi"),
            ("prompts", "show", "bad"),
            ("prompts", "lint"),
            ("prompts", "list"),
            ("eval", "run", "bad-prompt"),
            ("compare", "bad", "-v", "x=hi", "--format", "json"),
            ("export", "--prompt", "bad"),
        )
    ),
    "suite": Placement((("eval", "run", "bad"), ("prompts", "lint"))),
    "dataset": Placement((("eval", "run", "bad"), ("prompts", "lint"))),
    "guard": Placement((("guard", "--suite", "bad"),)),
}


def corpus(kinds: tuple[str, ...] = tuple(PLACEMENTS)) -> list[Path]:
    """The corpus files of these kinds, by name."""
    return sorted(p for p in CORPUS.iterdir() if p.name.split(".")[0] in kinds)


def workspace_copy(base: Path, target: Path) -> Path:
    """A fresh copy of the base workspace (without its database)."""
    shutil.copytree(base, target, ignore=shutil.ignore_patterns(".promptdeck"))
    return target


_LINE = re.compile(r":\d+")


def check_contract(code: int, err: str, shown: str, *, what: str) -> None:
    """Exit 2, one ``error:`` line naming the file (with a line), no traceback."""
    assert "Traceback" not in err, f"{what}: traceback\n{err}"
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, f"{what}: want one error line, got\n{err}"
    line = errors[0]
    assert "internal error" not in line, f"{what}: {line}"
    assert code == 2, f"{what}: exit {code}\n{err}"
    assert shown in line, f"{what}: the error does not name {shown}: {line}"
    after = line.split(shown, 1)[1]
    if shown.endswith((".yaml", ".jsonl", ".json", ".csv", ".toml")):
        assert _LINE.match(after), f"{what}: no line number after {shown}: {line}"
