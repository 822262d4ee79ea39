"""Guardrails: scanners of prompts and answers that run locally, with no network.

Every scanner is a function ``(text, ScanContext) -> Verdict`` registered by name
(:func:`scanner`); :func:`scan_texts` runs several over many texts, embedding them
in one batch when a classifier needs it. Input side: ``pii``, ``secrets``,
``injection``, ``jailbreak``, ``toxicity``, ``context-size``; output side:
``pii-leak``, ``format``, ``refusal``, ``grounding`` (``pii``, ``secrets`` and
``toxicity`` apply to both). Importing this package loads no model and no numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# ``normalize`` names both a submodule and its function. Importing the submodule (as
# every scanner does) sets the package's attribute to the module, after which a lazy
# ``from promptdeck.core.guardrails import normalize`` would return the module; so the
# function is bound here, eagerly (the module is light: no numpy, a few small tables).
from promptdeck.core.guardrails.normalize import NormalizedText, normalize

if TYPE_CHECKING:
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
    from promptdeck.core.guardrails.pii import find_pii, redact
    from promptdeck.core.guardrails.secrets import find_secrets

_WHERE = {
    **dict.fromkeys(
        (
            "ScanContext",
            "ScannerSpec",
            "Span",
            "Verdict",
            "get_scanner",
            "resolve_scanners",
            "scan_texts",
            "scanner",
            "scanner_names",
            "scanners",
        ),
        "base",
    ),
    "find_pii": "pii",
    "redact": "pii",
    "find_secrets": "secrets",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module when it is first asked for.

    Importing one submodule (``json_schema`` for the ``json-schema`` assertion, or
    ``policy`` for the gateway) then loads no other scanner and compiles none of
    their patterns (about 20 ms saved per process).
    """
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
