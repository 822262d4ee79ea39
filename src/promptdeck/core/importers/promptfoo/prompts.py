"""promptfoo ``prompts`` → promptdeck prompt drafts.

Understood: inline strings (a JSON chat array inline too), ``file://`` paths and
globs of text (``---`` lines separate several prompts), Markdown, Jinja2/Nunjucks,
JSON and YAML chat arrays, JSONL (one chat array a line), ``{id, label, raw}``
objects and the ``{path: label}`` mapping form. Prompt functions (``.js``, ``.py``)
are skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptdeck.core.importers.promptfoo.nunjucks import to_jinja
from promptdeck.core.importers.promptfoo.report import ImportReport
from promptdeck.core.importers.promptfoo.source import Doc, Source
from promptdeck.errors import ConfigError

__all__ = ["PromptDraft", "read_prompts", "slug"]

_CODE = (".js", ".cjs", ".mjs", ".ts", ".py")
_TEXT = (".txt", ".md", ".j2", ".jinja", ".njk", ".nunjucks", ".prompt", "")
_SEPARATOR = re.compile(r"^-{3,}\s*$", re.MULTILINE)
_ROLES = ("system", "user", "assistant")


def slug(text: str, fallback: str = "prompt") -> str:
    """A promptdeck name: lowercase letters, digits, ``.``, ``_`` and ``-``."""
    out = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")[:60].strip("-._")
    return out or fallback


@dataclass
class PromptDraft:
    """One prompt to write: its name, where it came from, and its template or messages."""

    name: str
    where: str
    what: str
    template: str | None = None
    messages: list[dict[str, str]] | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _content(value: Any) -> str | None:
    """A message's text: a string, or the text parts of a content list."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        texts = [p.get("text") for p in value if isinstance(p, dict) and p.get("type") == "text"]
        if len(texts) == len(value) and all(isinstance(t, str) for t in texts):
            return "\n".join(str(t) for t in texts)
    return None


def _chat(data: Any) -> list[dict[str, str]] | None:
    if isinstance(data, dict) and set(data) == {"messages"}:
        data = data["messages"]
    if not isinstance(data, list) or not data:
        return None
    out = []
    for message in data:
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            return None
        content = _content(message.get("content"))
        if content is None:
            return None
        out.append({"role": str(message["role"]), "content": content})
    return out


def _has_media(body: Any) -> bool:
    """True when a chat array has a content part that is not text (an image, audio…)."""
    if isinstance(body, dict):
        body = body.get("messages", [body])
    for message in body if isinstance(body, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and part.get("type", "text") != "text":
                return True
            if isinstance(part, dict) and {"image", "source", "inlineData"} & set(part):
                return True
    return False


def _draft(name: str, where: str, what: str, body: Any) -> tuple[PromptDraft | None, str | None]:
    messages = _chat(body)
    if isinstance(body, str):
        stripped = body.strip()
        if stripped.startswith("["):
            try:
                messages = _chat(json.loads(stripped))
            except ValueError:
                messages = None
        if messages is None:
            template, problem = to_jinja(body)
            if problem is not None:
                return None, problem
            return PromptDraft(name, where, what, template=template), None
    if messages is None:
        if _has_media(body):
            return (
                None,
                "a chat prompt with image, audio or file parts; promptdeck prompts are text",
            )
        return None, "not text or a chat array of system/user/assistant messages"
    out = []
    for message in messages:
        content, problem = to_jinja(message["content"])
        if problem is not None:
            return None, problem
        out.append({"role": message["role"], "content": content})
    return PromptDraft(name, where, what, messages=out), None


_JSON_STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def _file_bodies(source: Source, path: Path) -> tuple[list[Any], str | None]:
    """The prompts in one file, or why it cannot be read."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            outside = _JSON_STRING.sub('""', source.text(path))
            if "{{" in outside or "{%" in outside:
                return [], (
                    "a Nunjucks template that builds the JSON chat array (tags outside its "
                    "strings, such as `{% for %}` or `| dump`); promptdeck's chat prompts are "
                    "fixed message lists: write one with the messages it renders"
                )
        if suffix in (".json", ".yaml", ".yml"):
            data = source.read(path).data
            if isinstance(data, list) and data and all(_chat(d) for d in data):
                return list(data), None
            return [data], None
        if suffix == ".jsonl":
            return list(source.read(path).data), None
        text = source.text(path)
    except ConfigError as exc:
        return [], exc.title
    return [part.strip("\n") for part in _SEPARATOR.split(text) if part.strip()], None


def _looks_like_path(source: Source, text: str) -> bool:
    if "\n" in text or "{{" in text or text.startswith("file://"):
        return text.startswith("file://")
    suffix = Path(text).suffix.lower()
    return bool(suffix) and suffix in (*_TEXT, ".json", ".jsonl", ".yaml", ".yml", *_CODE)


def read_prompts(source: Source, report: ImportReport, suite: str) -> list[PromptDraft]:
    """Every prompt of the config, as drafts named after their labels or files."""
    doc = source.doc
    raw = doc.data.get("prompts")
    if raw is None:
        raise ConfigError(
            f"{doc.at([])}: the config has no `prompts:`", "promptdeck needs at least one prompt"
        )
    items: list[tuple[Any, str | None, list[str | int]]]
    if isinstance(raw, dict):
        items = [(k, str(v), ["prompts", str(k)]) for k, v in raw.items()]
    elif isinstance(raw, list):
        items = [(item, None, ["prompts", i]) for i, item in enumerate(raw)]
    else:
        items = [(raw, None, ["prompts"])]
    drafts: list[PromptDraft] = []
    for item, label, loc in items:
        drafts += _one(source, doc, report, suite, item, label, loc, len(items))
    return drafts


def _one(
    source: Source,
    doc: Doc,
    report: ImportReport,
    suite: str,
    item: Any,
    label: str | None,
    loc: list[str | int],
    total: int,
) -> list[PromptDraft]:
    drafts = _drafts(source, doc, report, suite, item, label, loc, total)
    if isinstance(item, dict) and isinstance(item.get("config"), dict):
        response_format = item["config"].get("response_format")
        if isinstance(response_format, dict):
            for draft in drafts:
                draft.params["response_format"] = response_format
    return drafts


def _drafts(
    source: Source,
    doc: Doc,
    report: ImportReport,
    suite: str,
    item: Any,
    label: str | None,
    loc: list[str | int],
    total: int,
) -> list[PromptDraft]:
    where = doc.at(loc)
    what = ".".join(str(p) for p in loc)
    ref: str | None = None
    body: Any = item
    if isinstance(item, dict):
        label = str(item.get("label") or item.get("id") or "") or label
        for key in sorted(set(item) - {"id", "label", "raw", "config"}):
            report.skipped(where, f"{what}.{key}", "promptdeck prompts have no such setting")
        config = item.get("config")
        if isinstance(config, dict):
            for key in sorted(config):
                if key != "response_format":
                    report.skipped(where, f"{what}.config.{key}", "not carried")
        if "raw" in item:
            body = item["raw"]
        elif isinstance(item.get("id"), str) and _looks_like_path(source, item["id"]):
            ref = item["id"]
        elif isinstance(item.get("id"), str):
            body = item["id"]  # promptfoo reads an `id` that is no file as the prompt's text
        else:
            report.skipped(where, what, "a prompt object needs `raw` or a file `id`")
            return []
    elif isinstance(item, str) and _looks_like_path(source, item):
        ref = item
    if ref is None:
        base = slug(label) if label else f"{suite}-{loc[-1] + 1 if isinstance(loc[-1], int) else 1}"
        if total == 1 and not label:
            base = suite
        draft, problem = _draft(base, where, what, body)
        if problem is not None:
            report.skipped(where, what, problem)
            return []
        assert draft is not None
        return [draft]
    return _from_files(source, report, ref, label, where, what)


def _from_files(
    source: Source, report: ImportReport, ref: str, label: str | None, where: str, what: str
) -> list[PromptDraft]:
    target = ref.removeprefix("file://")
    function = re.search(r":([\w.]+)$", target)
    if function and Path(target[: function.start()]).suffix.lower() in _CODE:
        report.skipped(
            where, f"{what} {ref}", "prompt functions are code; promptdeck does not run them"
        )
        return []
    paths = source.resolve(ref)
    if not paths or not all(p.is_file() for p in paths):
        report.skipped(where, f"{what} {ref}", "no such file")
        return []
    drafts: list[PromptDraft] = []
    for path in paths:
        if path.suffix.lower() in _CODE:
            report.skipped(
                where,
                f"{what} {source.shown(path)}",
                "prompt functions are code; promptdeck does not run them",
            )
            continue
        bodies, problem = _file_bodies(source, path)
        if problem is not None:
            report.skipped(where, f"{what} {source.shown(path)}", problem)
            continue
        for i, body in enumerate(bodies):
            stem = slug(label) if label and len(paths) == 1 else slug(path.stem)
            name = stem if len(bodies) == 1 else f"{stem}-{i + 1}"
            draft, problem = _draft(name, where, f"{what} {source.shown(path)}", body)
            if problem is not None:
                report.skipped(where, f"{what} {source.shown(path)}", problem)
                continue
            assert draft is not None
            drafts.append(draft)
    return drafts
