"""Benchmark the similar-traces index (usearch HNSW), not a timed test.

The corpus (``bench/similar_corpus.py``): real texts from ``/work/shared/datasets``
embedded with promptdeck's embedder, and ``--count`` trace vectors made from them
(a seed mixed with a nearby seed, plus Gaussian noise shaped like the seeds' own
spread). Uniform random vectors are *not* used: in 384 dimensions they have no
neighbours to find (every pair is nearly orthogonal), which is nothing like trace
vectors and says nothing about the index.

The vectors go into an index built with promptdeck's settings
(``core/similar/index.py``: connectivity, expansion_add, expansion_search, dtype)
in batched ``add`` calls that usearch spreads over ``--threads`` cores. Then
``--queries`` indexed vectors are asked for their 10 nearest others, as
``traces similar`` asks, one query at a time on one thread; recall@10 is measured
against exact search (numpy, a batched matrix product over all vectors).

Targets: on 1,000,000 traces a query answers in < 10 ms; recall@10 >= 0.98.

Usage::

    .venv/bin/python bench/similar.py [--count 1000000] [--queries 200] [--ef 64 128]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from promptdeck.core.similar.index import (
    CONNECTIVITY,
    DTYPE,
    EXPANSION_ADD,
    EXPANSION_SEARCH,
    make_index,
)
from similar_corpus import seed_vectors, traces


def _exact(vectors: np.ndarray, chosen: np.ndarray) -> list[set[int]]:
    """The 10 nearest other vectors of each chosen one, by brute force."""
    exact: list[set[int]] = []
    for start in range(0, len(chosen), 50):
        block = chosen[start : start + 50]
        scores = vectors[block] @ vectors.T
        scores[np.arange(len(block)), block] = -np.inf  # not itself
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        exact += [{int(i) for i in row} for row in top]
    return exact


def _build(index: Any, keys: np.ndarray, vectors: np.ndarray, threads: int) -> None:
    """Add the vectors in batched calls (usearch spreads each over ``threads`` cores)."""
    started, cpu = time.perf_counter(), time.process_time()
    step = 100_000
    for start in range(0, len(keys), step):
        index.add(keys[start : start + step], vectors[start : start + step], threads=threads)
        print(
            f"  {min(start + step, len(keys)):,} added, {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    print(
        f"build: {time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s "
        f"CPU; index {index.memory_usage / 2**20:,.0f} MiB",
        flush=True,
    )


def main() -> None:
    """Build, query and compare with exact search; print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef", type=int, nargs="*", default=[EXPANSION_SEARCH])
    parser.add_argument("--threads", type=int, default=0, help="build threads (0: all cores)")
    parser.add_argument("--connectivity", type=int, default=CONNECTIVITY)
    parser.add_argument("--expansion-add", type=int, default=EXPANSION_ADD)
    parser.add_argument("--dtype", default=DTYPE)
    parser.add_argument("--noise", type=float, default=0.45)
    parser.add_argument("--save", help="keep the built index in this file")
    parser.add_argument("--load", help="query an index saved by --save instead of building")
    args = parser.parse_args()
    seeds = seed_vectors()
    vectors = traces(seeds, args.count, noise=args.noise)
    keys = np.arange(args.count, dtype=np.uint64)
    index = make_index(vectors.shape[1], args.connectivity, args.expansion_add, dtype=args.dtype)
    print(
        f"{args.count:,} vectors × {vectors.shape[1]} from {len(seeds):,} seeds "
        f"(noise {args.noise}); M={args.connectivity} efConstruction={args.expansion_add} "
        f"dtype={args.dtype}",
        flush=True,
    )
    if args.load:
        started = time.perf_counter()
        index = type(index).restore(args.load)
        print(f"restored {len(index):,} in {time.perf_counter() - started:.1f} s", flush=True)
    else:
        _build(index, keys, vectors, args.threads)
    if args.save:
        index.save(args.save)
    chosen = np.random.default_rng(11).choice(args.count, size=args.queries, replace=False)
    exact = _exact(vectors, chosen)
    for ef in args.ef:
        index.expansion_search = ef
        hits, times, cpu = 0, [], 0.0
        for query, truth in zip(chosen, exact, strict=True):
            t0, c0 = time.perf_counter(), time.thread_time()
            found = index.search(vectors[query], 11, threads=1)
            times.append(time.perf_counter() - t0)
            cpu += time.thread_time() - c0
            got = [int(k) for k in found.keys if int(k) != int(query)][:10]
            hits += len(set(got) & truth)
        recall = hits / (10 * args.queries)
        ms = np.array(times) * 1000
        print(
            f"ef={ef}: recall@10 {recall:.4f}; query p50 {np.percentile(ms, 50):.2f} ms, "
            f"p99 {np.percentile(ms, 99):.2f} ms, mean {ms.mean():.2f} ms "
            f"(CPU {cpu / len(chosen) * 1000:.2f} ms a query; "
            f"load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
