"""Benchmark the similar-traces index (usearch HNSW), not a timed test.

1,000,000 synthetic unit vectors of the embedder's dimension (384) go into an index
built with promptdeck's settings (``core/similar/index.py``: connectivity,
expansion_add, expansion_search); then 1,000 queries (the vectors of indexed items,
as ``traces similar`` asks) measure the query time and recall@10 against exact
search (brute-force cosine over all vectors, numpy). Random vectors are the hard
case for HNSW (no clusters to exploit): real sentence vectors do at least as well.

Targets: a query answers in < 10 ms; recall@10 >= 0.98.

Usage::

    .venv/bin/python bench/similar.py [--count 1000000] [--queries 1000] [--ef 128]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from promptdeck.core.providers.embeddings import DIMENSIONS
from promptdeck.core.similar.index import CONNECTIVITY, EXPANSION_ADD, EXPANSION_SEARCH, make_index


def main() -> None:
    """Build, query and compare with exact search; print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--ef", type=int, nargs="*", default=[EXPANSION_SEARCH])
    parser.add_argument("--threads", type=int, default=0, help="0: all cores")
    parser.add_argument("--connectivity", type=int, default=CONNECTIVITY)
    parser.add_argument("--expansion-add", type=int, default=EXPANSION_ADD)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((args.count, DIMENSIONS), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = np.arange(args.count, dtype=np.uint64)
    index = make_index(DIMENSIONS, args.connectivity, args.expansion_add)
    print(
        f"{args.count:,} vectors × {DIMENSIONS}; "
        f"M={args.connectivity} efConstruction={args.expansion_add}"
    )
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, args.count, 100_000):
        index.add(
            keys[start : start + 100_000], vectors[start : start + 100_000], threads=args.threads
        )
        print(f"  {start + 100_000:,} added, {time.perf_counter() - started:.0f} s", flush=True)
    print(
        f"build: {time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s CPU"
    )
    chosen = rng.choice(args.count, size=args.queries, replace=False)
    exact: list[set[int]] = []
    for start in range(0, args.queries, 100):
        block = vectors[chosen[start : start + 100]]
        scores = block @ vectors.T
        top = np.argpartition(-scores, 11, axis=1)[:, :11]
        for row, query in zip(top, chosen[start : start + 100], strict=True):
            exact.append({int(i) for i in row if int(i) != int(query)})
    for ef in args.ef:
        index.expansion_search = ef
        hits, times = 0, []
        for query, truth in zip(chosen, exact, strict=True):
            t0 = time.perf_counter()
            found = index.search(vectors[query], 11)
            times.append(time.perf_counter() - t0)
            got = [int(k) for k in found.keys if int(k) != int(query)][:10]
            hits += len(set(got) & truth)
        recall = hits / (10 * args.queries)
        ms = np.array(times) * 1000
        print(
            f"ef={ef}: recall@10 {recall:.4f}; query p50 {np.percentile(ms, 50):.2f} ms, "
            f"p99 {np.percentile(ms, 99):.2f} ms, mean {ms.mean():.2f} ms"
        )


if __name__ == "__main__":
    main()
