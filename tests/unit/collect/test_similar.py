"""Similar traces: the usearch index, its watermark, and its rebuild (a fake embedder)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from promptdeck.core.similar.index import TraceIndex
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import NotFoundError, UsageError
from tests.unit.collect.spans import llm_span, store

DIMS = 64


class FakeEmbedder:
    """Bag of words hashed into 64 dimensions; counts the texts it embeds."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def __call__(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.embedded += texts
        out = np.zeros((len(texts), DIMS), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, hashlib.sha256(word.encode()).digest()[0] % DIMS] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


QUESTIONS = [
    ("where is my parcel it is late", "your parcel ships tomorrow"),
    ("my parcel is late where is it", "the parcel ships tomorrow"),
    ("reset my password please", "use the forgot password link"),
    ("how do i change my password", "open settings then password"),
    ("cancel my subscription now", "your subscription is cancelled"),
]


def _fill(workspace: Workspace, first: int = 1) -> None:
    store(
        workspace,
        [llm_span(first + i, q, a, offset_s=i) for i, (q, a) in enumerate(QUESTIONS)],
    )


def _index(workspace: Workspace, embed: FakeEmbedder) -> TraceIndex:
    return TraceIndex(workspace.paths.indexes, embed, DIMS, "fake")


def test_nearest_traces_by_prompt_and_answer(workspace: Workspace) -> None:
    _fill(workspace)
    index = _index(workspace, FakeEmbedder())
    with workspace.session() as session:
        found = index.similar(session, f"{1:032x}", k=2)
    assert [s.trace.uid for s in found] == [f"{2:032x}", found[1].trace.uid]
    assert found[0].similarity > 0.8 > found[1].similarity
    assert all(s.trace.uid != f"{1:032x}" for s in found)


def test_the_index_is_updated_incrementally_and_kept(workspace: Workspace) -> None:
    _fill(workspace)
    embed = FakeEmbedder()
    with workspace.session() as session:
        assert _index(workspace, embed).update(session) == 5
    assert len(embed.embedded) == 5
    meta = json.loads((workspace.paths.indexes / "similar-traces.json").read_text())
    assert meta["count"] == 5
    store(workspace, [llm_span(99, "parcel late again where", "parcel ships tomorrow")])
    again = FakeEmbedder()
    with workspace.session() as session:
        reopened = _index(workspace, again)
        assert reopened.update(session) == 1
        found = reopened.similar(session, f"{99:032x}", k=1)
    assert len(again.embedded) == 1  # only the new trace was embedded
    assert found[0].trace.uid in (f"{1:032x}", f"{2:032x}")


@pytest.mark.parametrize("damage", ["index", "meta", "count"])
def test_a_missing_or_damaged_index_is_rebuilt(workspace: Workspace, damage: str) -> None:
    _fill(workspace)
    with workspace.session() as session:
        _index(workspace, FakeEmbedder()).update(session)
    folder: Path = workspace.paths.indexes
    if damage == "index":
        (folder / "similar-traces.usearch").write_bytes(b"garbage")
    elif damage == "meta":
        (folder / "similar-traces.json").unlink()
    else:
        meta = json.loads((folder / "similar-traces.json").read_text())
        (folder / "similar-traces.json").write_text(json.dumps({**meta, "count": 3}))
    embed = FakeEmbedder()
    with workspace.session() as session:
        index = _index(workspace, embed)
        assert index.update(session) == 5
        assert len(index.similar(session, f"{3:032x}", k=10)) == 4
    assert len(embed.embedded) == 5


def test_unknown_and_textless_traces(workspace: Workspace) -> None:
    span = llm_span(7, "q", "a")
    span.attributes = {"http.route": "/health"}
    store(workspace, [span])
    index = _index(workspace, FakeEmbedder())
    with workspace.session() as session:
        with pytest.raises(NotFoundError):
            index.similar(session, "abcdef123456", k=3)
        with pytest.raises(UsageError, match="no prompt or answer"):
            index.similar(session, f"{7:032x}", k=3)


def test_an_index_made_with_other_settings_is_linked_again_without_embedding(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import promptdeck.core.similar.index as module

    _fill(workspace)
    monkeypatch.setattr(module, "CONNECTIVITY", 8)
    with workspace.session() as session:
        _index(workspace, FakeEmbedder()).update(session)
    monkeypatch.setattr(module, "CONNECTIVITY", 24)
    embed = FakeEmbedder()
    with workspace.session() as session:
        index = _index(workspace, embed)
        assert index.update(session) == 0
        found = index.similar(session, f"{1:032x}", k=1)
    assert embed.embedded == []  # the stored vectors were reused
    assert index._index.connectivity == 24 and len(index._index) == 5
    assert found[0].trace.uid == f"{2:032x}"
    reopened = module._index_class().restore(
        str(workspace.paths.indexes / "similar-traces.usearch")
    )
    assert reopened.connectivity == 24 and len(reopened) == 5
