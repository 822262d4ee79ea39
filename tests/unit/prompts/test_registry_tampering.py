"""A corpus of tampered and malformed registries: the reader refuses each with TamperedError.

The registry holds two prompts; ``customer-support`` has v1 (``staging``) and v2
(``production``). Each tampering edits the exported folder the way an attacker (or
a broken copy) would; the reader must raise its own ``TamperedError``, never load
the wrong prompt, never fail with a ``KeyError``/``AttributeError``, and a signed
registry must refuse even an attacker who recomputes every hash.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from promptdeck import registry
from promptdeck.core.prompts.export import export_registry
from promptdeck.core.prompts.signing import generate_key, load_signing_key
from promptdeck.core.prompts.versions import approve_version, move_label
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import NotFoundError

CS = "customer-support"
V1, V2 = f"prompts/{CS}/v1.json", f"prompts/{CS}/v2.json"
OTHER = "prompts/summarize/v1.json"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _put(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2))


def _rehash(root: Path, *names: str) -> None:
    """Recompute the manifest's hashes of ``names`` (an attacker covering their tracks)."""
    manifest = _json(root / "manifest.json")
    for name in names:
        manifest["files"][name] = _sha(root / name)
    _put(root / "manifest.json", manifest)


def _edit_index(root: Path, change: Callable[[dict[str, Any]], None], rehash: bool) -> None:
    index = _json(root / "index.json")
    change(index)
    _put(root / "index.json", index)
    if rehash:
        _rehash(root, "index.json")


def _edit_file(root: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    data = _json(root / name)
    change(data)
    _put(root / name, data)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry exported once for the module: two prompts, two versions, two labels."""
    from promptdeck.core.workspace.init import init_workspace

    base = tmp_path_factory.mktemp("registry")
    paths = init_workspace(base / "ws")
    workspace = Workspace.open(paths)
    try:
        workspace.sync()
        path = paths.prompts / f"{CS}.prompt.yaml"
        path.write_text(path.read_text().replace("You are", "You are always"))
        workspace.sync()
        with workspace.session() as session:
            for ref, label in ((f"{CS}@1", "staging"), (f"{CS}@2", "production")):
                move_label(session, ref, label)
                approve_version(session, paths, workspace.config, ref)
            move_label(session, "summarize@1", "production")
            approve_version(session, paths, workspace.config, "summarize@1")
            export_registry(session, base / "reg", label="staging")
            export_registry(session, base / "reg", label="production")
    finally:
        workspace.close()
    return base / "reg"


def _rollback(root: Path, rehash: bool) -> None:
    def change(index: dict[str, Any]) -> None:
        index["prompts"][CS]["production"] = dict(index["prompts"][CS]["staging"])

    _edit_index(root, change, rehash)


def _cross(root: Path, rehash: bool) -> None:
    def change(index: dict[str, Any]) -> None:
        index["prompts"][CS]["production"] = dict(index["prompts"]["summarize"]["production"])

    _edit_index(root, change, rehash)


def _template_edit_everywhere_but_the_index_hash(root: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["canonical"] = data["canonical"].replace("always", "never")
        data["content_hash"] = hashlib.sha256(data["canonical"].encode()).hexdigest()

    _edit_file(root, V2, change)
    new_hash = _json(root / V2)["content_hash"]

    def point(index: dict[str, Any]) -> None:
        index["prompts"][CS]["production"]["hash"] = new_hash

    _edit_index(root, point, rehash=False)
    _rehash(root, V2)


def _set_entry(key: str, value: Any) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        def change(index: dict[str, Any]) -> None:
            index["prompts"][CS]["production"][key] = value

        _edit_index(root, change, rehash=True)

    return tamper


def _drop_entry_key(key: str) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        _edit_index(root, lambda i: i["prompts"][CS]["production"].pop(key), rehash=True)

    return tamper


def _set_in_file(key: str, value: Any, rehash: bool = True) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        _edit_file(root, V2, lambda d: d.__setitem__(key, value))
        if rehash:
            _rehash(root, V2)

    return tamper


def _write(name: str, text: str, rehash: bool = False) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        (root / name).write_text(text)
        if rehash:
            _rehash(root, name)

    return tamper


def _manifest(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def tamper(root: Path) -> None:
        manifest = _json(root / "manifest.json")
        change(manifest)
        _put(root / "manifest.json", manifest)

    return tamper


def _symlink_outside(root: Path) -> None:
    outside = root.parent / "outside.json"
    shutil.copy(root / V2, outside)
    (root / V2).unlink()
    (root / V2).symlink_to(outside)


TAMPERINGS: dict[str, Callable[[Path], None]] = {
    "rollback: production at v1 (index only)": lambda r: _rollback(r, rehash=False),
    "rollback: production at v1, manifest rehashed": lambda r: _rollback(r, rehash=True),
    "cross-pointing (index only)": lambda r: _cross(r, rehash=False),
    "cross-pointing, manifest rehashed": lambda r: _cross(r, rehash=True),
    "template edit, every hash but index.json's": _template_edit_everywhere_but_the_index_hash,
    "template edit, file only": _set_in_file("canonical", "template: hacked\n", rehash=False),
    "template edit, file rehashed": _set_in_file("canonical", "template: hacked\n"),
    "manifest deleted": lambda r: (r / "manifest.json").unlink(),
    "index deleted": lambda r: (r / "index.json").unlink(),
    "version file deleted": lambda r: (r / V2).unlink(),
    "labels written as a string": lambda r: _edit_index(
        r, lambda i: i["prompts"].__setitem__(CS, "production"), rehash=True
    ),
    "entry without file": _drop_entry_key("file"),
    "entry without version": _drop_entry_key("version"),
    "entry without hash": _drop_entry_key("hash"),
    "entry is a list": lambda r: _edit_index(
        r, lambda i: i["prompts"][CS].__setitem__("production", [1, 2]), rehash=True
    ),
    "version as text": _set_entry("version", "2"),
    "version a boolean": _set_entry("version", True),
    "file escapes the folder": _set_entry("file", "../outside.json"),
    "file absolute": _set_entry("file", "/etc/passwd"),
    "file is the manifest": _set_entry("file", "manifest.json"),
    "hash of another version": _set_entry("hash", "0" * 64),
    "prompts is a list": lambda r: _edit_index(
        r, lambda i: i.__setitem__("prompts", []), rehash=True
    ),
    "index format changed": lambda r: _edit_index(
        r, lambda i: i.__setitem__("format", "other/1"), rehash=True
    ),
    "index not JSON": _write("index.json", "{not json", rehash=True),
    "index is a list": _write("index.json", "[]", rehash=True),
    "manifest not JSON": _write("manifest.json", "{"),
    "manifest without files": _manifest(lambda m: m.pop("files")),
    "manifest without index.json": _manifest(lambda m: m["files"].pop("index.json")),
    "manifest hash not hex": _manifest(lambda m: m["files"].__setitem__(V2, "zz")),
    "manifest files a list": _manifest(lambda m: m.__setitem__("files", [])),
    "file names another prompt": _set_in_file("name", "summarize"),
    "file names another version": _set_in_file("version", 1),
    "file without labels": _set_in_file("labels", None),
    "file labels a string": _set_in_file("labels", "production"),
    "file is not labelled production": _set_in_file("labels", ["staging"]),
    "file canonical not text": _set_in_file("canonical", ["x"]),
    "file canonical not a mapping": _set_in_file("canonical", "- a\n- b\n"),
    "file is a list": _write(V2, "[]", rehash=True),
    "file is deep JSON": _write(V2, "[" * 100_000 + "]" * 100_000, rehash=True),
    "file symlinked outside the folder": _symlink_outside,
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_each_tampering_raises_tampered_error(exported: Path, tmp_path: Path, name: str) -> None:
    root = tmp_path / "reg"
    shutil.copytree(exported, root)
    assert registry.load(root, CS).version == 2  # the copy loads before it is touched
    TAMPERINGS[name](root)
    with pytest.raises(registry.TamperedError):
        registry.load(root, CS, "production")


def test_the_corpus_is_large_enough() -> None:
    assert len(TAMPERINGS) >= 25


def test_untouched_labels_and_missing_names(exported: Path) -> None:
    assert registry.load(exported, CS, "staging").version == 1
    assert registry.load(exported, "summarize").name == "summarize"
    with pytest.raises(NotFoundError, match="no label 'qa'"):
        registry.load(exported, CS, "qa")
    with pytest.raises(NotFoundError, match="has no prompt"):
        registry.load(exported, "../../etc")
    with pytest.raises(NotFoundError, match="no prompt registry here"):
        registry.load(exported.parent / "nothing-here", CS)


@pytest.fixture(scope="module")
def signed(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """(a signed copy of the registry, its public key, another key's public half)."""
    base = tmp_path_factory.mktemp("signed")
    key = generate_key(base / "release.key")
    other = generate_key(base / "other.key")
    root = base / "reg"
    shutil.copytree(exported, root)
    manifest = (root / "manifest.json").read_bytes()
    (root / registry.SIGNATURE_FILE).write_bytes(key.signature_file(manifest))
    return root, key.public, other.public


def test_a_signed_registry_loads_with_its_key_only(
    signed: tuple[Path, str, str], tmp_path: Path
) -> None:
    root, public, other = signed
    assert registry.load(root, CS, public_key=public).version == 2
    written = (root.parent / "release.key.pub").read_text().strip()
    assert registry.load(root, CS, public_key=written.encode()).version == 2
    with pytest.raises(registry.TamperedError, match="does not verify"):
        registry.load(root, CS, public_key=other)
    unsigned = tmp_path / "unsigned"
    shutil.copytree(root, unsigned)
    (unsigned / registry.SIGNATURE_FILE).unlink()
    with pytest.raises(registry.TamperedError, match="not signed"):
        registry.load(unsigned, CS, public_key=public)
    with pytest.raises(ValueError, match="Ed25519 public key"):
        registry.load(root, CS, public_key="not a key")


def test_a_signed_registry_catches_every_hash_recomputed(
    signed: tuple[Path, str, str], tmp_path: Path
) -> None:
    root, public, _ = signed
    copy = tmp_path / "reg"
    shutil.copytree(root, copy)

    def change(data: dict[str, Any]) -> None:
        data["canonical"] = data["canonical"].replace("always", "never")
        data["content_hash"] = hashlib.sha256(data["canonical"].encode()).hexdigest()

    _edit_file(copy, V2, change)
    new_hash = _json(copy / V2)["content_hash"]
    _edit_index(copy, lambda i: i["prompts"][CS]["production"].__setitem__("hash", new_hash), False)
    _rehash(copy, V2, "index.json")
    assert "never" in (registry.load(copy, CS).template.system or "")  # hashes alone: fooled
    with pytest.raises(registry.TamperedError, match="does not verify"):
        registry.load(copy, CS, public_key=public)


def test_the_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "k")
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    assert load_signing_key(tmp_path / "k").public == key.public
    from promptdeck.errors import UsageError

    with pytest.raises(UsageError, match="already exists"):
        generate_key(tmp_path / "k")
    (tmp_path / "bad").write_text("nope")
    with pytest.raises(UsageError, match="not an unencrypted PEM private key"):
        load_signing_key(tmp_path / "bad")
