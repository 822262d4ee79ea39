"""The single-file HTML report: one page, no server, no network, opened from disk.

The page is ``assets/report.html`` with its style (``report.css``) and script
(``report.js``) inlined, and the runs' data (:func:`~promptdeck.core.evals.html_payload.
build_payload`) embedded as JSON in a ``<script type="application/json">`` element.

Text from cases and answers never becomes markup: the JSON is escaped so that no
``<``, ``>`` or ``&`` appears in it (nor U+2028/U+2029), and the script writes every text
with ``textContent``. A Content-Security-Policy lets only the page's own script run
(by its hash) and loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from pathlib import Path
from typing import Any

from promptdeck.core.evals.html_payload import build_payload
from promptdeck.core.evals.report_data import ReportData

__all__ = ["ASSETS", "MAX_PAGE_BYTES", "embed_json", "fit", "render_html", "render_payload"]

ASSETS = Path(__file__).parent / "assets"
"""Where the page's template, style and script live (shipped in the wheel)."""

_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_UNSAFE = re.compile("[<>&\u2028\u2029\ud800-\udfff]")
_SLOT = re.compile(r"\{\{([A-Z]+)\}\}")


def embed_json(value: Any) -> str:
    r"""JSON text safe inside a ``<script>`` element: no ``<``, ``>``, ``&``, U+2028/9.

    Each of those characters can only occur inside a JSON string, where its Unicode
    escape (``\u003c`` for ``<``) means the same, so ``JSON.parse`` reads back exactly
    ``value``. Lone surrogates (text that is not valid Unicode) are escaped the same way,
    so the page still encodes as UTF-8; NaN and infinities, which JSON cannot hold,
    become null.
    """
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # NaN or infinity somewhere: JSON has no such numbers
        text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"))
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite number replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _valid(text: str) -> str:
    """``text`` with anything that is not valid Unicode (lone surrogates) replaced."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def render_payload(payload: dict[str, Any]) -> str:
    """Render the page around a payload (see ``build_payload``).

    Args:
        payload: The page's data.

    Returns:
        The HTML document.
    """
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    policy = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
    parts = {
        "TITLE": html.escape(_valid(str(payload.get("title", "promptdeck report")))),
        "CSP": html.escape(policy, quote=False),
        "CSS": _asset("report.css"),
        "JS": script,
        "DATA": embed_json(payload),
    }
    # One pass: text put in a slot is never searched for slots again.
    return _SLOT.sub(lambda m: parts[m.group(1)], _asset("report.html"))


MAX_PAGE_BYTES = 19_500_000
"""The largest page :func:`render_html` writes (a 20 MB limit, with room to spare)."""

_CLIPPED = "\n… [{left} more characters not shown here: the JSON report has the whole text]"


def fit(payload: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """The payload with its longest texts shortened so that the page fits ``max_bytes``.

    Answers (and errors) are shortened first, all to one length in bytes, the largest
    that fits: short answers stay whole, only the longest are cut, each saying how much
    was left out. Only when the rest alone does not fit (huge prompts) are other texts
    cut the same way. ``payload["clipped"]`` counts the texts cut.

    Args:
        payload: The page's data (see ``build_payload``); not changed.
        max_bytes: The page's largest size in bytes.

    Returns:
        The payload to render (the same one when it fits).
    """
    strings: list[str] = payload["S"]
    base = len(render_payload({**payload, "S": [], "clipped": 0}).encode("utf-8"))
    budget = max_bytes - base - 2
    sizes = [_size(s) + 1 for s in strings]
    if sum(sizes) <= budget:
        return payload
    answers = _answer_strings(payload)
    fixed = sum(size for i, size in enumerate(sizes) if i not in answers)
    if fixed < budget * 0.9:
        chosen = answers
    else:  # the prompts alone are too big: every text takes its share
        chosen, fixed = set(range(len(strings))), 0
    cap = _cap([sizes[i] for i in chosen], budget - fixed)
    fitted = list(strings)
    clipped = 0
    for i in sorted(chosen):
        if sizes[i] > cap:
            fitted[i] = _clip(strings[i], sizes[i], cap)
            clipped += 1
    return {**payload, "S": fitted, "clipped": clipped}


def _size(text: str) -> int:
    """The bytes ``text`` takes in the page: ``len(embed_json(text).encode())``, faster."""
    dumped = json.dumps(text, ensure_ascii=False)
    try:
        raw = len(dumped.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: rare, measured the slow way
        return len(embed_json(text).encode("utf-8"))
    # "<", ">" and "&" (1 byte) become 6-byte escapes; U+2028/9 (3 bytes) too
    markup = dumped.count("<") + dumped.count(">") + dumped.count("&")
    return raw + 5 * markup + 3 * (dumped.count("\u2028") + dumped.count("\u2029"))


def _answer_strings(payload: dict[str, Any]) -> set[int]:
    """The indices in ``S`` of the cells' answers and errors (now and before)."""
    fields = {name: i for i, name in enumerate(payload["F"])}
    out, err = fields["output"], fields["error"]
    found = {c[out] for c in payload["cells"]} | {c[err] for c in payload["cells"]}
    found |= {b[2] for b in payload["before"]} | {b[3] for b in payload["before"]}
    found.discard(None)
    return found


def _cap(sizes: list[int], budget: int) -> int:
    """The largest size ``cap`` with ``sum(min(size, cap)) <= budget`` (at least 256)."""
    low, high = 0, max(sizes, default=0)
    while low < high:
        cap = (low + high + 1) // 2
        if sum(min(size, cap) for size in sizes) <= budget:
            low = cap
        else:
            high = cap - 1
    return max(low, 256)


def _clip(text: str, size: int, cap: int) -> str:
    """``text`` cut to at most ``cap`` bytes embedded, the note of what was left included."""
    room = cap - _size(_CLIPPED.format(left=len(text)))
    keep = max(0, len(text) * room // size)
    while keep and _size(text[:keep]) > room:
        keep = keep * 9 // 10
    return text[:keep] + _CLIPPED.format(left=len(text) - keep)


def render_html(data: ReportData, title: str | None = None, max_bytes: int = MAX_PAGE_BYTES) -> str:
    """Render stored runs as one self-contained HTML page, of at most ``max_bytes``.

    Args:
        data: The runs (see ``load_report``).
        title: The page's title (default: the runs' ids).
        max_bytes: The page's largest size: past it the longest texts are shortened
            (see :func:`fit`).

    Returns:
        The HTML document.
    """
    heading = title or f"promptdeck eval {data.summary.run_id or ''}".strip()
    return render_payload(fit(build_payload(data, heading), max_bytes))
