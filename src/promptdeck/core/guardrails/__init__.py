"""Guardrails: scanners of prompts and answers that run locally, with no network.

Every scanner is a function ``(text, ScanContext) -> Verdict`` registered by name
(:func:`scanner`); :func:`scan_texts` runs several over many texts, embedding them
in one batch when a classifier needs it. Input side: ``pii``, ``secrets``,
``injection``, ``jailbreak``, ``toxicity``, ``context-size``; output side:
``pii-leak``, ``format``, ``refusal``, ``grounding`` (``pii``, ``secrets`` and
``toxicity`` apply to both). Importing this package loads no model and no numpy.
"""

from __future__ import annotations

from promptdeck.core.guardrails.base import (
    ScanContext,
    ScannerSpec,
    Span,
    Verdict,
    get_scanner,
    resolve_scanners,
    scan_texts,
    scanner,
    scanner_names,
    scanners,
)
from promptdeck.core.guardrails.normalize import NormalizedText, normalize
from promptdeck.core.guardrails.pii import find_pii, redact
from promptdeck.core.guardrails.secrets import find_secrets

__all__ = [
    "NormalizedText",
    "ScanContext",
    "ScannerSpec",
    "Span",
    "Verdict",
    "find_pii",
    "find_secrets",
    "get_scanner",
    "normalize",
    "redact",
    "resolve_scanners",
    "scan_texts",
    "scanner",
    "scanner_names",
    "scanners",
]
