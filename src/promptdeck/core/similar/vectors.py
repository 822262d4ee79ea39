"""Case vectors remembered between checks: in the process, and in ``.promptdeck/indexes``.

The near-duplicate check runs before every eval; embedding every case of every suite
each time would load the embedder and cost seconds. Vectors are kept by the SHA-256
of their text: in memory for the life of the process, and on disk
(``case-vectors.npz``), so a run embeds only the cases that are new or changed.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["CachedEmbed"]

_MEMORY: dict[str, NDArray[np.float32]] = {}
_LOCK = threading.Lock()
_MEMORY_LIMIT = 200_000


class CachedEmbed:
    """An embedder that remembers what it embedded.

    Args:
        embed: The embedder (texts -> normalised vectors).
        model: The embedder's name (part of each key).
        store: The ``.npz`` file keeping vectors between processes (None: memory only).
        known_only: Embed nothing: a text never embedded before gets a zero vector
            (similar to nothing) and is counted in :attr:`unknown`. For checks that
            must not load the embedder (an eval's start-up).
    """

    def __init__(
        self,
        embed: Callable[[Sequence[str]], NDArray[np.float32]],
        model: str,
        store: Path | None = None,
        *,
        known_only: bool = False,
    ) -> None:
        self.embed = embed
        self.model = model
        self.store = store
        self.known_only = known_only
        self.unknown = 0
        self._loaded = False

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model}\0{text}".encode()).hexdigest()

    def _load(self) -> None:
        import numpy as np

        self._loaded = True
        if self.store is None or not self.store.is_file():
            return
        try:
            with np.load(self.store) as data:
                keys, vectors = data["keys"], data["vectors"]
        except (OSError, ValueError, KeyError):
            return
        with _LOCK:
            for key, vector in zip(keys.tolist(), vectors, strict=False):
                _MEMORY.setdefault(str(key), vector)

    def _save(self, keys: list[str]) -> None:
        import numpy as np

        if self.store is None:
            return
        with _LOCK:
            kept = [k for k in keys if k in _MEMORY]
            matrix = np.stack([_MEMORY[k] for k in kept]) if kept else np.zeros((0, 0))
        self.store.parent.mkdir(parents=True, exist_ok=True)
        partial = self.store.with_name(self.store.name + ".partial.npz")
        np.savez(partial, keys=np.array(kept), vectors=matrix)
        partial.replace(self.store)

    def __call__(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """The vectors of ``texts``, embedding only those not seen before."""
        import numpy as np

        if not self._loaded:
            self._load()
        keys = [self._key(t) for t in texts]
        with _LOCK:
            missing = sorted({i for i, k in enumerate(keys) if k not in _MEMORY})
        fresh = [texts[i] for i in missing]
        if fresh and self.known_only:
            self.unknown = len(fresh)
            with _LOCK:
                width = next((len(_MEMORY[k]) for k in keys if k in _MEMORY), 1)
                return np.stack(
                    [_MEMORY[k] if k in _MEMORY else np.zeros(width, np.float32) for k in keys]
                )
        if fresh:
            vectors = np.asarray(self.embed(fresh), dtype=np.float32)
            with _LOCK:
                if len(_MEMORY) + len(fresh) > _MEMORY_LIMIT:
                    _MEMORY.clear()
                for i, vector in zip(missing, vectors, strict=True):
                    _MEMORY[keys[i]] = vector
            self._save(keys)
        with _LOCK:
            return np.stack([_MEMORY[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)
