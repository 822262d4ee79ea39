"""A benchmark corpus for the similar-traces index: real sentence vectors and their neighbours.

Uniform random unit vectors in 384 dimensions have no neighbourhood structure (every
point is nearly orthogonal to every other), which is not what trace vectors look like
and makes any approximate index look useless. This corpus starts from real texts
instead:

1. **Seeds**: every text of ``/work/shared/datasets`` (prompts from the injection,
   harmful-request, PII and toxicity sets; question + answer pairs from GSM8K and
   TruthfulQA: ~8,000 texts) embedded with promptdeck's own embedder
   (:mod:`promptdeck.core.providers.embeddings`, all-MiniLM-L6-v2), cached in
   ``bench/.cache/similar-seeds.npy``.
2. **Traces**: each of the ``count`` vectors is a seed, mixed with one of that seed's
   20 nearest seeds (weight uniform in [0, 0.5]: a trace between two related
   prompts), plus Gaussian noise drawn from the seeds' own covariance (so it stays in
   the span real sentence vectors occupy) scaled by ``noise``, then normalised. With
   the default ``noise`` a trace's cosine to its seed is ~0.9: the same template
   with other variables, a rephrasing, a different answer.

What it does not model: real traffic's skew (a few templates called millions of
times), which makes clusters denser still. The seed vectors themselves are real.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

DATASETS = Path("/work/shared/datasets")
SEEDS = 4000
"""Seed texts embedded (a random sample of the ~7,600: embedding all takes ~20 min here)."""
SEED_TOKENS = 128
"""Seed texts are cut to this many tokens (the embedder's own limit is 256), for speed."""
CACHE = Path(__file__).parent / ".cache" / "similar-seeds.npy"


def _rows(path: Path) -> list[dict[str, object]]:
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def seed_texts(root: Path = DATASETS) -> list[str]:
    """The real texts: prompts, and question + answer pairs as a trace embeds them."""
    texts: list[str] = []
    for name in (
        "injection/injection.jsonl",
        "injection/harmful_requests.jsonl",
        "pii/pii.jsonl",
        "toxicity/toxicity.jsonl",
    ):
        texts += [str(row["text"])[:2000] for row in _rows(root / name)]
    texts += [f"{r['question']}\n{r['answer']}" for r in _rows(root / "evals/gsm8k_test.jsonl")]
    texts += [
        f"{r['question']}\n{r['best_answer']}" for r in _rows(root / "evals/truthfulqa.jsonl")
    ]
    return [t for t in dict.fromkeys(texts) if t.strip()]


def seed_vectors(cache: Path = CACHE) -> NDArray[np.float32]:
    """The seed texts' vectors from promptdeck's embedder (computed once, then cached)."""
    if cache.is_file():
        return np.load(cache)
    from promptdeck.core.providers.embeddings import get_embedder

    texts = seed_texts()
    chosen = np.random.default_rng(7).choice(len(texts), size=min(SEEDS, len(texts)), replace=False)
    started = time.perf_counter()
    vectors = get_embedder().embed([texts[i] for i in sorted(chosen)], max_tokens=SEED_TOKENS)
    print(f"embedded {len(vectors):,} seed texts in {time.perf_counter() - started:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


def traces(
    seeds: NDArray[np.float32], count: int, noise: float = 0.45, seed: int = 7
) -> NDArray[np.float32]:
    """``count`` unit vectors around the seeds (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n, dims = seeds.shape
    sims = seeds @ seeds.T
    np.fill_diagonal(sims, -2.0)
    neighbours = np.argpartition(-sims, 20, axis=1)[:, :20]
    centred = seeds - seeds.mean(axis=0)
    # Noise with the seeds' covariance: z @ (U S / sqrt(n)) has covariance Vt' S^2 Vt / n.
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    basis = (s[:, None] * vt / np.sqrt(n)).astype(np.float32)
    basis *= noise / np.sqrt((basis**2).sum())  # expected noise norm == noise
    out = np.empty((count, dims), dtype=np.float32)
    step = 100_000
    for start in range(0, count, step):
        m = min(step, count - start)
        base = rng.integers(0, n, size=m)
        other = neighbours[base, rng.integers(0, 20, size=m)]
        weight = rng.uniform(0.0, 0.5, size=(m, 1)).astype(np.float32)
        block = (1 - weight) * seeds[base] + weight * seeds[other]
        block += rng.standard_normal((m, basis.shape[0]), dtype=np.float32) @ basis
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + m] = block
    return out
