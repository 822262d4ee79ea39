"""Semantic cache benchmark: no wrong answers on distinct questions, hits on rewordings.

Run: .venv/bin/python bench/semantic_cache.py [--data DIR] [--json] [--limit N] [--before]

The questions are the 1,064 of ``../shared/datasets/evals/`` (657 GSM8K, 407
TruthfulQA), asked through the demo prompts ``math-word-problem`` and
``truthful-qa`` of a fresh workspace made from ``workspace_template`` with
``[cache] semantic = true`` and the default threshold. Calls go through the real
gateway (exact cache, semantic cache, records written to SQLite) with a fake provider
that answers "answer to <id>", so a served answer names the question it belongs to.
No model is called; the local MiniLM embedder is.

Measured, per dataset and for two halves (``design``: the rows whose
``sha256("design:" + id)`` is even, used to design the canonical forms and match
keys; ``check``: the others), and in total:

1. **distinct**: every question asked once, in file order. Each call that is served
   from a cache is a wrong answer (all questions differ). Target: 0 semantic hits.
2. **reworded**: every question asked again, trivially reworded (a seeded mix of case,
   punctuation, whitespace, "please" and a leading "Q:"; one punctuation rewording in
   seven deletes every ASCII punctuation mark, "$3.50" becoming "350", which the cache
   rightly refuses). A hit is right when the served answer is the question's own.
   Target: >= 90 % right hits, 0 wrong.
3. **threshold alone** (for comparison): how many distinct questions have another
   question of the same prompt at or above each similarity threshold, by cosine of
   the canonical values alone (no match keys), and (``--before``) of the whole
   rendered prompts, as the semantic cache compared them before.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import string
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from promptdeck.core.gateway.canonical import canonical_text  # noqa: E402
from promptdeck.core.gateway.engine import Gateway  # noqa: E402
from promptdeck.core.gateway.prompt_call import prompt_call  # noqa: E402
from promptdeck.core.gateway.semantic import request_text  # noqa: E402
from promptdeck.core.providers.base import ChatRequest  # noqa: E402
from promptdeck.core.providers.fake import FakeProvider  # noqa: E402
from promptdeck.core.workspace.init import init_workspace  # noqa: E402
from promptdeck.core.workspace.offline import apply_offline_environment  # noqa: E402
from promptdeck.core.workspace.workspace import Workspace  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "evals"
SETS = {
    "gsm8k": ("gsm8k_test.jsonl", "math-word-problem"),
    "truthfulqa": ("truthfulqa.jsonl", "truthful-qa"),
}
THRESHOLDS = (0.8, 0.85, 0.9, 0.92, 0.95, 0.98)


@dataclass(frozen=True)
class Question:
    """One question: its dataset, id, text, the prompt that asks it, and its half."""

    dataset: str
    id: str
    text: str
    prompt: str
    half: str


def load(data: Path, limit: int | None) -> list[Question]:
    """The questions of both datasets, in file order."""
    questions: list[Question] = []
    for dataset, (name, prompt) in SETS.items():
        rows = [json.loads(line) for line in (data / name).read_text().splitlines() if line]
        for row in rows[:limit]:
            digest = int(hashlib.sha256(f"design:{row['id']}".encode()).hexdigest(), 16)
            half = "design" if digest % 2 == 0 else "check"
            questions.append(Question(dataset, row["id"], row["question"], prompt, half))
    return questions


def _case(rng: random.Random, text: str) -> str:
    return rng.choice([str.lower, str.upper, str.title, str.swapcase])(text)


_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _punctuation(rng: random.Random, text: str) -> str:
    stripped = text.rstrip(" ?.!")
    return rng.choice(
        [
            lambda: stripped,
            lambda: stripped + "??",
            lambda: stripped + " ?",
            lambda: stripped + "?!",
            lambda: text.replace(",", ""),
            lambda: text.replace("?", "."),
            lambda: text.translate(_NO_PUNCTUATION),
        ]
    )()


def _whitespace(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    return rng.choice(
        [
            lambda: "  ".join(words),
            lambda: f"  {text}\n",
            lambda: "\n".join(words[: len(words) // 2]) + " " + " ".join(words[len(words) // 2 :]),
            lambda: "\t" + text + "   ",
        ]
    )()


def _please(rng: random.Random, text: str) -> str:
    return rng.choice(
        [
            lambda: f"Please, {text[:1].lower()}{text[1:]}",
            lambda: f"Please {text}",
            lambda: f"{text.rstrip()} Please.",
            lambda: f"{text.rstrip()}, please",
            lambda: f"Kindly {text[:1].lower()}{text[1:]}",
        ]
    )()


def _q(rng: random.Random, text: str) -> str:
    return rng.choice(["Q: ", "Q:", "q: ", "Question: ", "QUESTION:"]) + text


REWORDINGS: dict[str, Callable[[random.Random, str], str]] = {
    "case": _case,
    "punctuation": _punctuation,
    "whitespace": _whitespace,
    "please": _please,
    "q-prefix": _q,
}


def reword(question: Question) -> tuple[str, tuple[str, ...]]:
    """A trivial rewording of a question (seeded by its id): one to three kinds, in order."""
    rng = random.Random(f"reword:{question.id}")
    kinds = sorted(rng.sample(list(REWORDINGS), rng.randint(1, 3)), key=list(REWORDINGS).index)
    text = question.text
    for kind in kinds:
        text = REWORDINGS[kind](rng, text)
    if text == question.text:
        text = text.lower() if text != text.lower() else text.upper()
    return text, tuple(kinds)


def near_reword(question: Question) -> str | None:
    """A rewording past the canonical form (an article, a contraction), where one applies."""
    text = question.text
    for old, new in (
        (" the ", " "),
        ("What is ", "What's "),
        (" is not ", " isn't "),
        (" do not ", " don't "),
    ):
        if old in text:
            return text.replace(old, new, 1)
    return None


@dataclass
class Tally:
    """Outcomes of one phase for one group of questions."""

    asked: int = 0
    exact: int = 0
    semantic: int = 0
    right: int = 0
    wrong: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_kind_hit: Counter[str] = field(default_factory=Counter)
    similarities: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        sims = sorted(self.similarities)
        return {
            "asked": self.asked,
            "exact_hits": self.exact,
            "semantic_hits": self.semantic,
            "right": self.right,
            "wrong": self.wrong,
            "hit_rate": round(self.right / self.asked, 4) if self.asked else None,
            "min_similarity": round(sims[0], 4) if sims else None,
            "by_kind": {k: [self.by_kind_hit[k], n] for k, n in sorted(self.by_kind.items())},
        }


def _groups(q: Question) -> tuple[str, ...]:
    return ("all", q.dataset, q.half, f"{q.dataset}/{q.half}")


async def ask(
    gateway: Gateway,
    ws: Workspace,
    asking: dict[str, str],
    questions: list[Question],
    texts: list[str],
    kinds: list[tuple[str, ...]] | None = None,
) -> dict[str, Tally]:
    """Ask each question (as worded in ``texts``) once; tally the cache's answers."""
    tallies: dict[str, Tally] = {}
    for i, (q, text) in enumerate(zip(questions, texts, strict=True)):
        asking["id"] = q.id
        spec = prompt_call(ws, q.prompt, {"question": text})
        result = await gateway.call(spec)
        served = result.cache in ("exact", "semantic")
        right = served and result.completion.text == f"answer to {q.id}"
        for name in _groups(q):
            t = tallies.setdefault(name, Tally())
            t.asked += 1
            t.exact += result.cache == "exact"
            t.semantic += result.cache == "semantic"
            t.right += right
            t.wrong += served and not right
            if result.similarity is not None:
                t.similarities.append(result.similarity)
            for kind in kinds[i] if kinds else ():
                t.by_kind[kind] += 1
                t.by_kind_hit[kind] += right
    await gateway.flush()
    return tallies


def threshold_alone(
    gateway: Gateway, ws: Workspace, questions: list[Question], before: bool
) -> dict[str, Any]:
    """How many questions another one of the same prompt reaches, by similarity alone."""
    import numpy as np

    embedder = gateway.embedder()
    out: dict[str, Any] = {}
    kinds = [("values", lambda q: canonical_text(q.text))]
    if before:
        kinds.append(
            (
                "whole prompt",
                lambda q: request_text(prompt_call(ws, q.prompt, {"question": q.text}).messages),
            )
        )
    for label, text_of in kinds:
        counts = Counter[float]()
        for prompt in {q.prompt for q in questions}:
            mine = [q for q in questions if q.prompt == prompt]
            vectors = embedder.embed([text_of(q) for q in mine])
            sims = vectors @ vectors.T
            np.fill_diagonal(sims, -1.0)
            nearest = sims.max(axis=1)
            for level in THRESHOLDS:
                counts[level] += int((nearest >= level).sum())
        out[label] = {f"{level:.2f}": counts[level] for level in THRESHOLDS}
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    apply_offline_environment()
    questions = load(args.data, args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        paths = init_workspace(Path(tmp) / "ws")
        config = paths.root / "promptdeck.toml"
        config.write_text(config.read_text().replace("semantic = false", "semantic = true"))
        ws = Workspace.open(paths)
        ws.sync()
        asking: dict[str, str] = {}

        def answer(request: ChatRequest) -> str:
            return f"answer to {asking['id']}"

        fake = FakeProvider(default=answer)
        gateway = Gateway.for_workspace(ws, provider_factory=lambda target: fake)
        threshold = ws.config.cache.semantic_threshold
        started = time.perf_counter()
        distinct = await ask(gateway, ws, asking, questions, [q.text for q in questions])
        reworded_texts, kinds = zip(*(reword(q) for q in questions), strict=True)
        reworded = await ask(gateway, ws, asking, questions, list(reworded_texts), list(kinds))
        near_pairs = [(q, t) for q in questions if (t := near_reword(q)) is not None]
        near = await ask(
            gateway, ws, asking, [q for q, _ in near_pairs], [t for _, t in near_pairs]
        )
        took = time.perf_counter() - started
        alone = threshold_alone(gateway, ws, questions, args.before)
        await gateway.aclose()
        calls = len(fake.requests)
        ws.close()
    return {
        "threshold": threshold,
        "questions": len(questions),
        "provider_calls": calls,
        "seconds": round(took, 1),
        "distinct": {k: v.as_dict() for k, v in sorted(distinct.items())},
        "reworded": {k: v.as_dict() for k, v in sorted(reworded.items())},
        "near": {k: v.as_dict() for k, v in sorted(near.items())},
        "threshold_alone": alone,
    }


def report(result: dict[str, Any]) -> str:
    """The figures as text."""
    lines = [
        f"{result['questions']} questions, default threshold {result['threshold']}, "
        f"{result['provider_calls']} provider calls, {result['seconds']} s",
        "",
        f"{'group':<20} {'distinct: semantic hits (wrong)':>32} "
        f"{'reworded: right hits':>22} {'wrong':>6}",
    ]
    for name, d in result["distinct"].items():
        r = result["reworded"][name]
        lines.append(
            f"{name:<20} {d['semantic_hits']:>24} ({d['wrong']:>3}) "
            f"{r['right']:>10}/{r['asked']:<5} {100 * (r['hit_rate'] or 0):5.1f} % {r['wrong']:>6}"
        )
    r = result["reworded"]["all"]
    lines.append(
        f"reworded hits: {r['exact_hits']} exact (the same rendered prompt), "
        f"{r['semantic_hits']} semantic (lowest similarity {r['min_similarity']})"
    )
    n = result["near"].get("all")
    if n:
        lines.append(
            f"near rewordings (an article dropped, a contraction; no target): "
            f"{n['right']}/{n['asked']} right, {n['wrong']} wrong, "
            f"lowest similarity served {n['min_similarity']}"
        )
    lines += ["", "reworded, by kind (right hits / questions with that kind):"]
    for kind, (hit, n) in result["reworded"]["all"]["by_kind"].items():
        lines.append(f"  {kind:<12} {hit}/{n}")
    lines += ["", "distinct questions with another at or above each threshold, similarity alone:"]
    for label, counts in result["threshold_alone"].items():
        lines.append(f"  {label:<13} " + "  ".join(f"{t}: {n}" for t, n in counts.items()))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=None, help="rows per dataset")
    parser.add_argument("--before", action="store_true", help="also embed whole prompts")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    print(json.dumps(result, indent=2) if args.json else report(result))
    distinct, reworded = result["distinct"]["all"], result["reworded"]["all"]
    ok = distinct["semantic_hits"] == 0 and reworded["wrong"] == 0 and reworded["hit_rate"] >= 0.9
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
