"""Reading a promptfoo config and the files it refers to, keeping ``file:line`` for every key.

YAML and JSON go through the workspace's safe YAML reader (its limits apply to
promptfoo files too); the node tree it keeps gives each key's line.
``file://`` references are resolved against the config's folder, globs expanded.
Local JSON references (``{$ref: '#/assertionTemplates/x'}``, as promptfoo resolves
them) are replaced by what they point to within the same file.
"""

from __future__ import annotations

import csv
import glob
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from promptdeck.core.workspace.yamlfile import read_yaml, yaml_line
from promptdeck.errors import ConfigError, location

__all__ = ["Doc", "Source", "resolve_refs", "strip_file_prefix"]

_BINARY = {
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".pdf", ".wav", ".mp3",
    ".m4a", ".ogg", ".flac", ".mp4", ".mov", ".webm",
}  # fmt: skip
_MAX_FILE_BYTES = 50_000_000
"""Files larger than this are refused (a promptfoo dataset is rarely past a few MB)."""


def strip_file_prefix(ref: str) -> str:
    """``file://x`` → ``x`` (other strings unchanged)."""
    return ref[len("file://") :] if ref.startswith("file://") else ref


def _pointer(root: Any, ref: str) -> tuple[bool, Any]:
    """Follow a local JSON pointer (``#/a/b``); ``(False, None)`` when it leads nowhere."""
    node = root
    for raw in ref[2:].split("/") if ref != "#" else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def resolve_refs(data: Any, used: set[str] | None = None) -> Any:
    """Replace local ``{$ref: '#/…'}`` mappings by what they point to (copied).

    Keys beside ``$ref`` override the target's. References to other files, to
    nothing, or nested deeper than 32 (a cycle) are left as they are.

    Args:
        data: A parsed file.
        used: Collects the top-level keys that references pointed into.
    """

    def walk(node: Any, depth: int) -> Any:
        if isinstance(node, list):
            return [walk(item, depth) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#") and depth < 32:
            found, target = _pointer(data, ref)
            if found:
                if used is not None and ref.startswith("#/"):
                    used.add(ref[2:].split("/")[0])
                target = walk(target, depth + 1)
                extra = {k: walk(v, depth) for k, v in node.items() if k != "$ref"}
                return {**target, **extra} if isinstance(target, dict) else target
        return {key: walk(value, depth) for key, value in node.items()}

    return walk(data, 0)


@dataclass(frozen=True)
class Doc:
    """A parsed file: its data, its node tree (YAML/JSON) and the name shown in reports."""

    shown: str
    data: Any
    node: yaml.Node | None = None
    rows: bool = False
    """True for CSV and JSONL: ``at([i, ...])`` is the row's line."""
    base: Path | None = None
    """The file's folder (paths inside a test file are relative to it)."""

    def at(self, loc: Sequence[str | int]) -> str:
        """``file:line`` of the key at ``loc`` (or its nearest parent)."""
        if self.rows:
            line = int(loc[0]) + 2 if loc and isinstance(loc[0], int) else 1
            return location(self.shown, line)
        return location(self.shown, yaml_line(self.node, list(loc)))


class Source:
    """The config file and its folder, which ``file://`` paths are relative to."""

    def __init__(self, config: Path) -> None:
        """Read and parse the config.

        Raises:
            ConfigError: When it cannot be read or is not a YAML/JSON mapping, with
                its file and line.
        """
        self.config = config
        self.referenced: set[str] = set()
        """The config's top-level keys that ``$ref`` pointers used."""
        self.base = config.resolve().parent
        self.shown_base = config.parent
        self.doc = self.read(config, shown=str(config), used=self.referenced)
        if not isinstance(self.doc.data, dict):
            raise ConfigError(
                f"{location(str(config), 1)}: a promptfoo config must be a mapping "
                "(prompts:, providers:, tests:)",
                "is this a promptfooconfig.yaml?",
            )

    def shown(self, path: Path) -> str:
        """How a file is named in the report: relative to the config's folder as given."""
        try:
            return str(self.shown_base / path.resolve().relative_to(self.base))
        except ValueError:
            return str(path)

    def resolve(self, ref: str, base: Path | None = None) -> list[Path]:
        """The files a reference names: a path or a glob, relative to ``base``.

        ``base`` defaults to the config's folder.
        """
        text = strip_file_prefix(ref).strip()
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = (base or self.base) / path
        if any(ch in text for ch in "*?["):
            return [Path(p) for p in sorted(glob.glob(str(path), recursive=True))]  # noqa: PTH207
        return [path]

    def text(self, path: Path) -> str:
        """A referenced file's text.

        Raises:
            ConfigError: When it is missing, too large or not UTF-8.
        """
        try:
            if path.stat().st_size > _MAX_FILE_BYTES:
                raise ConfigError(f"{self.shown(path)}: larger than 50 MB", "split the file")
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"{self.shown(path)}: cannot read ({exc.strerror})", "check the file:// path"
            ) from exc
        except UnicodeDecodeError as exc:
            what = "an image, audio or other binary file" if path.suffix.lower() in _BINARY else ""
            raise ConfigError(
                f"{self.shown(path)}: not UTF-8 text" + (f" ({what})" if what else ""),
                "promptdeck's prompts and cases hold text; save it as UTF-8",
            ) from exc

    def read(self, path: Path, shown: str | None = None, used: set[str] | None = None) -> Doc:
        """Parse a YAML, JSON, JSONL or CSV file (by its suffix), local ``$ref`` resolved."""
        name = shown or self.shown(path)
        text = self.text(path)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            reader = csv.DictReader(io.StringIO(text, newline=""))
            return Doc(name, [dict(row) for row in reader], rows=True, base=path.parent)
        if suffix == ".jsonl":
            rows = []
            for number, line in enumerate(text.split("\n"), start=1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise ConfigError(
                            f"{location(name, number)}: invalid JSON: {exc.msg}",
                            "one JSON object per line",
                        ) from exc
            return Doc(name, rows, rows=True, base=path.parent)
        try:
            data, node = read_yaml(text, name)
        except ConfigError:
            if suffix != ".json":
                raise
            # JSON that YAML refuses (surrogate escapes, tabs): read as JSON, lines unknown.
            try:
                data, node = json.loads(text), None
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"{location(name, exc.lineno)}: invalid JSON: {exc.msg}", "check the file"
                ) from exc
        return Doc(name, resolve_refs(data, used), node, base=path.parent)

    def value(self, ref: str) -> tuple[Any, str | None]:
        """A ``file://`` value: parsed JSON/YAML, else the text; or why it cannot be.

        Returns:
            ``(value, None)``, or ``(None, reason)`` for code files and missing ones.
        """
        paths = self.resolve(ref)
        if len(paths) != 1:
            return None, f"{ref} names {len(paths)} files, not one"
        path = paths[0]
        suffix = path.suffix.lower()
        if suffix in (".js", ".cjs", ".mjs", ".ts", ".py", ".rb"):
            return None, f"{ref} is code, which promptdeck does not run"
        if not path.is_file():
            return None, f"{ref} does not exist"
        try:
            if suffix in (".json", ".yaml", ".yml"):
                return self.read(path).data, None
            return self.text(path), None
        except ConfigError as exc:
            return None, exc.title
