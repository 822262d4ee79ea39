"""Read an exported prompt registry at run time, in your application.

    from promptdeck import registry
    prompt = registry.load("prompt-registry", "customer-support", label="production")
    rendered = prompt.render(company_name="Acme", customer_name="Ana", ...)
    rendered.messages   # [{"role": "system", "content": ...}, {"role": "user", ...}]
    rendered.params     # {"temperature": 0.7, "max_tokens": 500}

Validation, sanitisation and rendering are the workbench's own code
(:mod:`promptdeck.rendering`), so a prompt renders here exactly as it did there.

Nothing is served that the export did not write. ``manifest.json`` holds the
SHA-256 of ``index.json`` and of every version file; the reader checks
``index.json`` and the file it serves against it, and checks that the file is the
prompt, version and label asked for (so pointing ``production`` back at an older
version, or one prompt's entry at another's file, is refused even when every hash
was recomputed). With ``public_key=``, the manifest's Ed25519 signature
(``manifest.sig``, written by ``promptdeck export --sign KEYFILE``) must verify too:
then even an attacker who rewrites every file and every hash is caught. Any
tampered or malformed registry raises :class:`TamperedError`; a well-formed
registry without the prompt or label raises :class:`~promptdeck.errors.NotFoundError`.

Light to import: no textual, litellm, deepeval, pydantic or database; PyYAML and
Jinja2 load on the first :func:`load`, ``cryptography`` only to check a signature.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from promptdeck.errors import NotFoundError, RuntimeFailureError
from promptdeck.rendering import PromptTemplate, render_messages, template_from_dict

__all__ = [
    "FORMAT",
    "SIGNATURE_FILE",
    "RegistryPrompt",
    "RenderedMessages",
    "TamperedError",
    "load",
    "version_file",
]

FORMAT = "promptdeck-registry/2"
"""The native format's name, in ``index.json`` and ``manifest.json``."""
SIGNATURE_FILE = "manifest.sig"
"""The manifest's signature, beside it (``{"algorithm": "ed25519", "signature": ...}``)."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")  # a prompt's name (core.prompts.files)


class TamperedError(RuntimeFailureError):
    """The registry was changed after export, is malformed, or is not signed by the key given."""


@dataclass(frozen=True)
class RenderedMessages:
    """A rendered prompt: what to send to the model."""

    messages: list[dict[str, str]]
    params: dict[str, Any]
    model: str | None
    variables: dict[str, Any]


@dataclass(frozen=True)
class RegistryPrompt:
    """One exported, approved prompt version."""

    name: str
    version: int
    label: str
    content_hash: str
    model: str | None
    params: dict[str, Any]
    guardrails: dict[str, Any]
    template: PromptTemplate = field(repr=False)

    def render(self, **variables: Any) -> RenderedMessages:
        """Validate and sanitise ``variables`` and render the messages.

        Raises:
            promptdeck.rendering.VariableError: A variable is missing or breaks a rule.
        """
        messages, checked = render_messages(self.template, variables)
        return RenderedMessages(messages, dict(self.params), self.model, checked)


def version_file(name: str, version: int) -> str:
    """Where the native format keeps a version, relative to the registry folder."""
    return f"prompts/{name}/v{version}.json"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tampered(where: Path, what: str) -> TamperedError:
    return TamperedError(
        f"{where}: {what}; refusing to load the registry",
        "re-export it from the workbench (promptdeck export)",
    )


def _read(root: Path, relative: str) -> bytes:
    path = root / relative
    try:
        if not path.resolve().is_relative_to(root.resolve()) or not path.is_file():
            raise _tampered(path, "missing from the registry")
        return path.read_bytes()
    except OSError as exc:
        raise _tampered(path, f"unreadable ({exc.strerror or exc})") from exc


def _json(path: Path, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _tampered(path, "not valid JSON") from exc


def _public_key(key: str | bytes) -> Any:
    import base64
    import binascii

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = key.encode("ascii", "replace") if isinstance(key, str) else bytes(key)
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            loaded = serialization.load_pem_public_key(data)
            if not isinstance(loaded, Ed25519PublicKey):
                raise ValueError("not an Ed25519 key")
            return loaded
        raw = data if len(data) == 32 else base64.b64decode(data.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValueError(
            "public_key must be an Ed25519 public key: the base64 text `promptdeck keygen` "
            "prints, its 32 raw bytes, or PEM"
        ) from exc


def _verify_signature(root: Path, manifest: bytes, public_key: str | bytes) -> None:
    import base64
    import binascii

    from cryptography.exceptions import InvalidSignature

    key = _public_key(public_key)
    where = root / SIGNATURE_FILE
    if not where.is_file():
        raise _tampered(where, "missing: the registry is not signed")
    document = _json(where, _read(root, SIGNATURE_FILE))
    if not isinstance(document, dict) or document.get("algorithm") != "ed25519":
        raise _tampered(where, "not an Ed25519 signature")
    try:
        signature = base64.b64decode(str(document.get("signature", "")), validate=True)
        key.verify(signature, manifest)
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise _tampered(where, "the signature does not verify with the key given") from exc


def _manifest(root: Path, public_key: str | bytes | None) -> dict[str, str]:
    raw = _read(root, "manifest.json")
    if public_key is not None:
        _verify_signature(root, raw, public_key)
    where = root / "manifest.json"
    data = _json(where, raw)
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(files, dict):
        raise _tampered(where, f"not a {FORMAT} manifest")
    if not all(
        isinstance(k, str) and isinstance(v, str) and _HEX64.fullmatch(v) for k, v in files.items()
    ):
        raise _tampered(where, "a file hash is malformed")
    if "index.json" not in files:
        raise _tampered(where, "index.json is not listed")
    return files


def _checked(root: Path, files: Mapping[str, str], relative: str) -> bytes:
    """The bytes of ``relative`` if the manifest lists it with their hash."""
    expected = files.get(relative)
    if expected is None:
        raise _tampered(root / relative, "not listed in the manifest")
    raw = _read(root, relative)
    if _sha256(raw) != expected:
        raise _tampered(root / relative, "does not match the registry manifest")
    return raw


def _entry(root: Path, index: Any, name: str, label: str) -> tuple[int, str, str]:
    """(version, content hash, file) of ``name``'s ``label`` in a checked index."""
    where = root / "index.json"
    prompts = index.get("prompts") if isinstance(index, dict) else None
    if (
        not isinstance(index, dict)
        or index.get("format") != FORMAT
        or not isinstance(prompts, dict)
    ):
        raise _tampered(where, f"not a {FORMAT} index")
    labels = prompts.get(name)
    if labels is None:
        known = ", ".join(sorted(str(k) for k in prompts)) or "none"
        raise NotFoundError(f"registry {root} has no prompt {name!r}", f"it has: {known}")
    if not isinstance(labels, dict):
        raise _tampered(where, f"the labels of {name!r} are not a mapping")
    entry = labels.get(label)
    if entry is None:
        raise NotFoundError(
            f"registry {root}: prompt {name!r} has no label {label!r}",
            f"its labels are: {', '.join(sorted(str(k) for k in labels))}",
        )
    version = entry.get("version") if isinstance(entry, dict) else None
    if (
        not isinstance(entry, dict)
        or type(version) is not int
        or not isinstance(entry.get("hash"), str)
        or not _HEX64.fullmatch(entry["hash"])
        or not isinstance(entry.get("file"), str)
    ):
        raise _tampered(where, f"the entry of {name}@{label} is malformed")
    if entry["file"] != version_file(name, version) or PurePosixPath(entry["file"]).is_absolute():
        raise _tampered(where, f"{name}@{label} points at {entry['file']!r}, not its own file")
    return version, entry["hash"], entry["file"]


def load(
    registry_dir: str | Path,
    name: str,
    label: str = "production",
    *,
    public_key: str | bytes | None = None,
) -> RegistryPrompt:
    """Load the version of prompt ``name`` that ``label`` points at.

    Args:
        registry_dir: The folder written by ``promptdeck export``.
        name: The prompt's name.
        label: The label to follow (default ``production``).
        public_key: The exporter's Ed25519 public key (what ``promptdeck keygen``
            printed, its 32 raw bytes, or PEM). When given, the registry must be
            signed with the matching private key (``promptdeck export --sign``).

    Returns:
        The prompt, ready to render.

    Raises:
        NotFoundError: No registry in the folder, or no such prompt or label in it.
        TamperedError: A file was changed, removed or added to after export, the
            registry is malformed, or (with ``public_key``) it is unsigned or signed
            with another key.
        ValueError: ``public_key`` is not an Ed25519 public key.
    """
    root = Path(registry_dir)
    if not (root / "index.json").exists() and not (root / "manifest.json").exists():
        raise NotFoundError(
            f"{root}: no prompt registry here (no index.json, no manifest.json)",
            "export one: promptdeck export --to DIR",
        )
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise NotFoundError(f"registry {root} has no prompt {name!r}", "check the prompt's name")
    files = _manifest(root, public_key)
    index = _json(root / "index.json", _checked(root, files, "index.json"))
    version, content_hash, relative = _entry(root, index, name, label)
    path = root / relative
    data = _json(path, _checked(root, files, relative))
    if not isinstance(data, dict) or not isinstance(data.get("canonical"), str):
        raise _tampered(path, "not a prompt version file")
    labels = data.get("labels")
    if data.get("name") != name or data.get("version") != version:
        raise _tampered(
            path, f"holds {data.get('name')!r} v{data.get('version')}, not {name} v{version}"
        )
    if not isinstance(labels, list) or label not in labels:
        raise _tampered(path, f"{name} v{version} is not labelled {label!r} in its own file")
    canonical: str = data["canonical"]
    if (
        _sha256(canonical.encode("utf-8")) != content_hash
        or data.get("content_hash") != content_hash
    ):
        raise _tampered(path, "content hash mismatch")
    return _prompt(path, name, version, label, content_hash, canonical)


def _prompt(
    path: Path, name: str, version: int, label: str, content_hash: str, canonical: str
) -> RegistryPrompt:
    import yaml

    try:
        content = yaml.safe_load(canonical)
        if not isinstance(content, dict):
            raise TypeError("the canonical content is not a mapping")
        params, guardrails = content.get("params") or {}, content.get("guardrails") or {}
        model = content.get("model")
        if not isinstance(params, dict) or not isinstance(guardrails, dict):
            raise TypeError("params and guardrails must be mappings")
        if model is not None and not isinstance(model, str):
            raise TypeError("model must be text")
        if content.get("name", name) != name:
            raise TypeError(f"it is the prompt {content.get('name')!r}")
        template = template_from_dict(content)
    except Exception as exc:  # whatever a malformed file raises, it is a tampered registry
        raise _tampered(path, f"its prompt does not load ({type(exc).__name__}: {exc})") from exc
    return RegistryPrompt(
        name=name,
        version=version,
        label=label,
        content_hash=content_hash,
        model=model,
        params=dict(params),
        guardrails=dict(guardrails),
        template=template,
    )
