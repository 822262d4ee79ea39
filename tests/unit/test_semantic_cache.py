"""The semantic cache with the real local embedder: different questions never share an
answer; trivial rewordings do.

Similarities are compared with wide margins only: the int8 embedder's scores differ
slightly between CPUs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from promptdeck.core.gateway.engine import CallResult, CallSpec, Gateway
from promptdeck.core.gateway.prompt_call import prompt_call
from promptdeck.core.providers.base import ChatRequest
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths


def _answer(request: ChatRequest) -> str:
    return f"answer to: {request.messages[-1]['content']}"


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider(default=_answer)


def _open(paths: WorkspacePaths, **cache: Any) -> Workspace:
    config = paths.root / "promptdeck.toml"
    text = config.read_text()
    for key, value in cache.items():
        line = next(x for x in text.splitlines() if x.startswith(f"{key} ="))
        text = text.replace(line, f"{key} = {str(value).lower()}")
    config.write_text(text)
    workspace = Workspace.open(paths)
    workspace.sync()
    return workspace


@pytest.fixture
def semantic_ws(demo_paths: WorkspacePaths) -> Iterator[Workspace]:
    """The demo workspace with ``[cache] semantic = true`` and the default threshold."""
    workspace = _open(demo_paths, semantic=True)
    try:
        yield workspace
    finally:
        workspace.close()


def _ask(
    workspace: Workspace, fake: FakeProvider, prompt: str, questions: list[str]
) -> list[CallResult]:
    async def go() -> list[CallResult]:
        gateway = Gateway.for_workspace(workspace, provider_factory=lambda target: fake)
        try:
            return [
                await gateway.call(prompt_call(workspace, prompt, {"question": q}))
                for q in questions
            ]
        finally:
            await gateway.aclose()

    return asyncio.run(go())


def test_different_questions_are_never_answered_from_the_cache(
    semantic_ws: Workspace, fake: FakeProvider
) -> None:
    questions = [
        "What is the capital of France?",
        "How many legs does a spider have?",
        "Who wrote Hamlet?",
        "What is the capital of Spain?",
        "Who wrote Macbeth?",
        "How many eyes does a spider have?",
        "Is it safe to eat raw eggs?",
        "Is it not safe to eat raw eggs?",
        "Is Pluto a planet?",
        "Was Pluto a planet?",
    ]
    results = _ask(semantic_ws, fake, "truthful-qa", questions)
    assert [r.cache for r in results] == ["miss"] * len(questions)
    assert len(fake.requests) == len(questions)


def test_numbers_and_words_that_change_the_answer_are_never_served(
    semantic_ws: Workspace, fake: FakeProvider
) -> None:
    base = "John has 5 apples and gives 2 to Mary. How many apples does he have left?"
    variants = [
        base.replace("gives 2", "gives 3"),
        base.replace("5 apples", "6 apples"),
        base.replace("gives 2 to Mary", "buys 2 more"),
        base.replace("How many apples", "How many pears"),
    ]
    results = _ask(semantic_ws, fake, "math-word-problem", [base, *variants])
    assert [r.cache for r in results] == ["miss"] * 5


@pytest.mark.parametrize(
    "reworded",
    [
        "what is the capital of france",
        "WHAT IS THE CAPITAL OF FRANCE?",
        "  What   is the capital\nof France?  ",
        "What is the capital of France??",
        "What is the capital of France",
        "Please, what is the capital of France?",
        "What is the capital of France, please?",
        "Q: What is the capital of France?",
        "Question: what's the capital of France?",
    ],
)
def test_a_trivial_rewording_is_served_its_own_answer(
    semantic_ws: Workspace, fake: FakeProvider, reworded: str
) -> None:
    first, again = _ask(
        semantic_ws, fake, "truthful-qa", ["What is the capital of France?", reworded]
    )
    assert first.cache == "miss"
    assert again.cache == "semantic" and again.completion.text == first.completion.text
    assert again.similarity is not None and again.similarity > 0.99
    assert len(fake.requests) == 1


def test_near_rewordings_need_the_same_words_and_the_threshold(
    semantic_ws: Workspace, fake: FakeProvider
) -> None:
    results = _ask(
        semantic_ws,
        fake,
        "truthful-qa",
        [
            "How many legs does a spider have?",
            "How many legs do spiders have?",  # plural: same match key, near
            "How many legs has a spider got?",  # other words: a miss, however near
        ],
    )
    assert [r.cache for r in results] == ["miss", "semantic", "miss"]
    similarity = results[1].similarity
    assert similarity is not None and 0.92 <= similarity < 0.999


def test_a_threshold_above_the_similarity_refuses_a_near_rewording(
    demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    workspace = _open(demo_paths, semantic=True, semantic_threshold=0.9999)
    try:
        results = _ask(
            workspace,
            fake,
            "truthful-qa",
            [
                "How many legs does a spider have?",
                "How many legs do spiders have?",
                "how many legs does a spider have",
            ],
        )
    finally:
        workspace.close()
    assert [r.cache for r in results] == ["miss", "miss", "semantic"]


def _write_prompt(workspace: Workspace) -> None:
    (workspace.paths.prompts / "translate.prompt.yaml").write_text(
        "name: translate\n"
        "template: 'Translate into {{ language }} in {{ words }} words or fewer: {{ text }}'\n"
        "variables:\n"
        "  text: {required: true}\n"
        "  language: {required: true}\n"
        "  words: {type: integer, default: 20}\n"
    )
    workspace.sync()


def test_every_text_variable_must_match_and_other_values_be_equal(
    semantic_ws: Workspace, fake: FakeProvider
) -> None:
    _write_prompt(semantic_ws)

    async def go() -> list[CallResult]:
        gateway = Gateway.for_workspace(semantic_ws, provider_factory=lambda target: fake)
        asks = [
            {"text": "Good morning!", "language": "French"},
            {"text": "good morning", "language": "french"},  # both reworded: hit
            {"text": "Good morning!", "language": "German"},  # one variable differs
            {"text": "Good morning!", "language": "French", "words": 5},  # a number differs
        ]
        try:
            return [await gateway.call(prompt_call(semantic_ws, "translate", v)) for v in asks]
        finally:
            await gateway.aclose()

    results = asyncio.run(go())
    assert [r.cache for r in results] == ["miss", "semantic", "miss", "miss"]


def test_a_chat_call_compares_its_last_turn_after_an_equal_prefix(
    semantic_ws: Workspace, fake: FakeProvider
) -> None:
    system = {"role": "system", "content": "You answer in one word."}
    other = {"role": "system", "content": "You answer at length."}

    def turn(text: str) -> dict[str, str]:
        return {"role": "user", "content": text}

    async def go() -> list[CallResult]:
        gateway = Gateway.for_workspace(semantic_ws, provider_factory=lambda target: fake)
        calls = [
            [system, turn("What is the capital of France?")],
            [system, turn("what is the capital of france")],
            [other, turn("what is the capital of france")],
            [system, turn("What is the capital of Italy?")],
        ]
        try:
            return [await gateway.call(CallSpec(model="fake/m", messages=m)) for m in calls]
        finally:
            await gateway.aclose()

    results = asyncio.run(go())
    assert [r.cache for r in results] == ["miss", "semantic", "miss", "miss"]


def test_a_new_gateway_finds_stored_entries_and_their_keys(
    semantic_ws: Workspace, fake: FakeProvider
) -> None:
    _ask(semantic_ws, fake, "truthful-qa", ["What is the capital of France?"])
    again = _ask(
        semantic_ws,
        fake,
        "truthful-qa",
        ["What is the capital of Spain?", "Q: what is the capital of france"],
    )
    assert [r.cache for r in again] == ["miss", "semantic"]
    assert again[1].completion.text == "answer to: Q: What is the capital of France?\nA:"


def test_shadow_mode_records_the_candidate_and_the_guard_verdict(
    demo_paths: WorkspacePaths, fake: FakeProvider
) -> None:
    workspace = _open(demo_paths, semantic=True, shadow=True)
    try:
        results = _ask(
            workspace,
            fake,
            "truthful-qa",
            [
                "What is the capital of France?",
                "what is the capital of france",  # would be served
                "What is the capital of Spain?",  # nearest refused by the keys
            ],
        )
    finally:
        workspace.close()
    assert [r.cache for r in results] == ["miss", "miss", "miss"]
    with sqlite3.connect(demo_paths.database) as db:
        rows = db.execute(
            "SELECT guarded, would_serve, similarity FROM semantic_shadow ORDER BY id"
        ).fetchall()
    assert [(g, w) for g, w, _ in rows] == [(1, 1), (0, 0)]
    assert rows[0][2] > 0.99 and rows[1][2] < 0.99


def test_eval_judges_and_calls_that_opt_out_never_take_a_semantic_hit(
    semantic_ws: Workspace, fake: FakeProvider
) -> None:
    async def go() -> list[CallResult]:
        gateway = Gateway.for_workspace(semantic_ws, provider_factory=lambda target: fake)
        first = prompt_call(semantic_ws, "truthful-qa", {"question": "Who wrote Hamlet?"})
        again = prompt_call(semantic_ws, "truthful-qa", {"question": "who wrote hamlet"})
        try:
            return [
                await gateway.call(first),
                await gateway.call(CallSpec(**{**again.__dict__, "semantic": False})),
            ]
        finally:
            await gateway.aclose()

    assert [r.cache for r in asyncio.run(go())] == ["miss", "miss"]


def test_an_entry_without_canonical_texts_is_never_served(
    semantic_ws: Workspace, fake: FakeProvider
) -> None:
    """Entries stored before migration m008 (or damaged) have no canonical texts."""
    _ask(semantic_ws, fake, "truthful-qa", ["What is the capital of France?"])
    with sqlite3.connect(semantic_ws.paths.database) as db:
        db.execute("UPDATE semantic_vector SET canon = NULL")
    again = _ask(semantic_ws, fake, "truthful-qa", ["what is the capital of france"])
    assert again[0].cache == "miss" and len(fake.requests) == 2
