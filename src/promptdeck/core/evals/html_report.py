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

__all__ = ["ASSETS", "embed_json", "render_html", "render_payload"]

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
        "TITLE": html.escape(str(payload.get("title", "promptdeck report"))),
        "CSP": html.escape(policy, quote=False),
        "CSS": _asset("report.css"),
        "JS": script,
        "DATA": embed_json(payload),
    }
    # One pass: text put in a slot is never searched for slots again.
    return _SLOT.sub(lambda m: parts[m.group(1)], _asset("report.html"))


def render_html(data: ReportData, title: str | None = None) -> str:
    """Render stored runs as one self-contained HTML page.

    Args:
        data: The runs (see ``load_report``).
        title: The page's title (default: the runs' ids).

    Returns:
        The HTML document.
    """
    heading = title or f"promptdeck eval {data.summary.run_id or ''}".strip()
    return render_payload(build_payload(data, heading))
