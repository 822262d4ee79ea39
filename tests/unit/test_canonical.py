"""Canonical forms and match keys: what the semantic cache treats as the same question."""

from __future__ import annotations

import pytest

from promptdeck.core.gateway.canonical import canonical_text, canonical_tokens, match_key

QUESTION = "What is the capital of France?"


@pytest.mark.parametrize(
    "variant",
    [
        "what is the capital of france",
        "WHAT IS THE CAPITAL OF FRANCE?",
        "What Is The Capital Of France?",
        "  What  is the\tcapital\nof France?  ",
        "What is the capital of France?!",
        "What is the capital of France ?",
        "What is the capital, of France.",
        "Please, what is the capital of France?",
        "Please what is the capital of France?",
        "Kindly what is the capital of France?",
        "What is the capital of France, please?",
        "What is the capital of France? Please.",
        "What is the capital of France? Thank you!",
        "Q: What is the capital of France?",
        "q:What is the capital of France?",
        "Question: What is the capital of France?",
        "QUESTION: Q: please what is the capital of France",
        "What's the capital of France?",
        "What’s the capital of France?",
        "Whats the capital of France?",
        "“What is the capital of France?”",
    ],
)
def test_trivial_rewordings_have_one_canonical_form(variant: str) -> None:
    assert canonical_text(variant) == canonical_text(QUESTION) == "what is the capital of france"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What is the capital of France?", "What is the capital of Spain?"),
        ("How many legs does a spider have?", "How many eyes does a spider have?"),
        ("Is it safe to eat raw eggs?", "Is it not safe to eat raw eggs?"),
        ("Is it safe?", "Isn't it safe?"),
        ("Is Pluto a planet?", "Was Pluto a planet?"),
        ("Is A older than B?", "Is B older than A?"),
        ("He gives 2 to Mary.", "He gives 3 to Mary."),
        ("It costs $.1 per foot.", "It costs $1 per foot."),
        ("It rose by 5%.", "It rose by 5."),
        ("What is 5 - 3?", "What is 5 + 3?"),
        ("What is -3 squared?", "What is 3 squared?"),
        ("It costs 1.5 dollars.", "It costs 15 dollars."),
        ("Who is 3rd?", "Who is 4th?"),
        ("Do you like it?", "Do I like it?"),
    ],
)
def test_questions_with_other_answers_keep_other_match_keys(a: str, b: str) -> None:
    assert match_key(canonical_text(a)) != match_key(canonical_text(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How many legs does a spider have?", "How many legs do spiders have?"),
        ("What is the capital of France?", "What is capital of France?"),
        ("Which boxes contain apples?", "Which box contains apples?"),
        ("Who wrote the stories?", "Who wrote a story?"),
    ],
)
def test_match_keys_forgive_articles_and_plural_endings(a: str, b: str) -> None:
    assert canonical_text(a) != canonical_text(b)
    assert match_key(canonical_text(a)) == match_key(canonical_text(b))


def test_numbers_and_symbols_stay_words() -> None:
    assert canonical_tokens("It cost $1,000.50 (or 5%) - 3 & more.") == (
        "it",
        "cost",
        "1000.50",
        "or",
        "5",
        "%",
        "-",
        "3",
        "&",
        "more",
    )
    assert canonical_text("a well-known 10-15 range") == "a wellknown 10 - 15 range"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Is the U.S. bigger than Canada?", "Is the US bigger than Canada"),
        ("Who sells door-to-door?", "Who sells doortodoor"),
        ("It costs $1,200. How much is 3 of them?", "It costs 1200 How much is 3 of them"),
        ("Don't people in the U.K. drive on the left?", "Dont people in the UK drive on the left"),
    ],
)
def test_deleting_every_punctuation_mark_keeps_the_canonical_form(a: str, b: str) -> None:
    assert canonical_text(a) == canonical_text(b)


def test_politeness_is_dropped_only_at_the_ends() -> None:
    assert canonical_text("How do I say please in French?") == "how do i say please in french"
    assert canonical_text("Please") == ""
