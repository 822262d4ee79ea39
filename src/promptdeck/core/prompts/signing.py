"""Ed25519 keys for signed registry exports: ``promptdeck keygen`` and ``export --sign``.

The private key is a PEM file (PKCS #8, unencrypted) readable by its owner only
(0600); the public key is 32 bytes, shown as base64, which an application passes
to ``promptdeck.registry.load(..., public_key=...)``. The export signs
``manifest.json`` (which holds the hash of ``index.json`` and of every version
file) and writes the signature beside it, in ``manifest.sig``. ``cryptography``
is imported only here, and only when a key is made or used.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptdeck.errors import UsageError

__all__ = ["SigningKey", "generate_key", "load_signing_key"]


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key and its public half.

    Attributes:
        path: The key file.
        public: The public key as base64 (what ``registry.load`` takes).
    """

    path: Path
    public: str
    _key: Any

    def signature_file(self, manifest: bytes) -> bytes:
        """The contents of ``manifest.sig`` for these manifest bytes (deterministic)."""
        signature = base64.b64encode(self._key.sign(manifest)).decode("ascii")
        document = {"algorithm": "ed25519", "public_key": self.public, "signature": signature}
        return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _public_text(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def generate_key(path: Path) -> SigningKey:
    """Write a new Ed25519 private key to ``path`` (mode 0600) and its public key beside it.

    The public key goes to ``path`` + ``.pub`` (one line of base64).

    Raises:
        UsageError: The file exists (it is never overwritten) or cannot be written.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise UsageError(
            f"{path} already exists; a key is never overwritten", "choose another file name"
        ) from exc
    except OSError as exc:
        raise UsageError(f"cannot write {path} ({exc.strerror})", "choose another path") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    path.chmod(0o600)  # whatever the umask said
    public = _public_text(key)
    Path(f"{path}.pub").write_text(public + "\n", encoding="ascii")
    return SigningKey(path, public, key)


def load_signing_key(path: Path) -> SigningKey:
    """Read a private key written by :func:`generate_key`.

    Raises:
        UsageError: The file is missing, unreadable or not an Ed25519 private key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(
            f"cannot read the signing key {path} ({exc.strerror})",
            "make one with: promptdeck keygen KEYFILE",
        ) from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"{path} is not an unencrypted PEM private key",
            "make one with: promptdeck keygen KEYFILE",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(
            f"{path} is not an Ed25519 key", "make one with: promptdeck keygen KEYFILE"
        )
    return SigningKey(path, _public_text(key), key)
