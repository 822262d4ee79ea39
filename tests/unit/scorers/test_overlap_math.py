"""Levenshtein, ROUGE and BLEU against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from promptdeck.core.scorers.overlap import (
    bleu,
    levenshtein_distance,
    levenshtein_similarity,
    rouge_l,
    rouge_n,
    tokenize,
)

CAND = "The cat sat on the mat."
REF = "the cat is on the mat"


def test_tokenize() -> None:
    assert tokenize("The cat, sat!") == ["the", "cat", "sat"]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("kitten", "sitting", 3), ("", "abc", 3), ("flaw", "lawn", 2), ("same", "same", 0)],
)
def test_levenshtein_distance(a: str, b: str, distance: int) -> None:
    assert levenshtein_distance(a, b) == distance
    assert levenshtein_distance(b, a) == distance


def test_levenshtein_similarity() -> None:
    assert levenshtein_similarity("kitten", "sitting") == pytest.approx(4 / 7)
    assert levenshtein_similarity("", "") == 1.0


def test_rouge_1_and_2() -> None:
    # unigrams: the×2, cat, on, mat match (5 of 6 each side)
    assert rouge_n(CAND, REF, 1) == pytest.approx(5 / 6)
    # bigrams: "the cat", "on the", "the mat" match (3 of 5 each side)
    assert rouge_n(CAND, REF, 2) == pytest.approx(3 / 5)
    # P = 1/1, R = 1/3 for a one-word candidate
    assert rouge_n("cat", "the cat sat", 1) == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3))
    assert rouge_n("", REF) == 0.0


def test_rouge_l() -> None:
    # LCS = "the cat on the mat" (5 tokens); P = R = 5/6
    assert rouge_l(CAND, REF) == pytest.approx(5 / 6)
    # LCS("a b c d", "a c") = 2; P = 2/4, R = 2/2 -> F = 2/3
    assert rouge_l("a b c d", "a c") == pytest.approx(2 / 3)


def test_bleu_by_hand() -> None:
    # p1 = 5/6, p2 = 3/5, p3 = 1/4, p4 = 0 -> epsilon 0.1/3; c = r = 6 so BP = 1
    expected = (5 / 6 * 3 / 5 * 1 / 4 * (0.1 / 3)) ** 0.25
    assert bleu(CAND, REF) == pytest.approx(expected)
    assert bleu(REF, REF) == pytest.approx(1.0)


def test_bleu_brevity_penalty_and_short_texts() -> None:
    # c = 2, r = 4: both orders match fully over N = 2; BP = exp(1 - 4/2)
    assert bleu("the cat", "the cat sat down") == pytest.approx(math.exp(-1))
    assert bleu("", REF) == 0.0
