"""The answer scores and Search-R1's format-aware reward, each value worked out by hand."""

from __future__ import annotations

import pytest

from rlvr.envs.search.answers import (
    contains_match,
    exact_match,
    format_aware_reward,
    gold_in_text,
    normalize_answer,
    score_answer,
    token_f1,
)


def test_squad_normalisation_drops_case_punctuation_articles_and_extra_space():
    assert normalize_answer("  The  Eiffel-Tower, in Paris! ") == "eiffeltower in paris"
    assert normalize_answer("An apple a day") == "apple day"
    assert normalize_answer("theatre") == "theatre"  # "the" only as a whole word


def test_exact_match_takes_the_best_gold():
    assert exact_match("the Lake Orvani.", ["Orvani", "Lake Orvani"]) == 1.0
    assert exact_match("Lake Orvani is the answer", ["Lake Orvani"]) == 0.0
    assert exact_match("", ["x"]) == 0.0


def test_token_f1_by_hand():
    # prediction tokens: [lake, orvani, north]; gold: [lake, orvani] -> P = 2/3, R = 1, F1 = 0.8
    assert token_f1("Lake Orvani north", "Lake Orvani") == pytest.approx(0.8)
    assert token_f1("Lake Orvani north", ["nothing", "Lake Orvani north"]) == 1.0
    assert token_f1("x", "y") == 0.0
    assert token_f1("", "y") == 0.0
    # repeated tokens count once per occurrence in both: pred [a1, a1], gold [a1] -> P 1/2, R 1
    assert token_f1("a1 a1", "a1") == pytest.approx(2 / 3)


def test_contains_matches_whole_words_only():
    assert contains_match("It was founded in 1843.", ["1843"]) == 1.0
    assert contains_match("in 18431", ["1843"]) == 0.0
    assert contains_match("anything", [""]) == 0.0


def test_score_answer_by_name():
    assert score_answer("Paris", ["paris"], "em") == 1.0
    assert score_answer("Paris France", ["paris"], "f1") == pytest.approx(2 / 3)
    assert score_answer("Paris France", ["paris"], "contains") == 1.0
    with pytest.raises(ValueError, match="unknown answer score"):
        score_answer("x", "x", "bleu")


def test_format_aware_reward_table():
    assert format_aware_reward(True, True) == 1.0
    assert format_aware_reward(True, False) == 0.8
    assert format_aware_reward(False, True) == 0.2
    assert format_aware_reward(False, False) == 0.1
    assert format_aware_reward(False, True, retrieved_gold=True, retrieval_bonus=0.1) == pytest.approx(0.3)
    assert format_aware_reward(False, False, retrieved_gold=True, retrieval_bonus=0.1) == 0.1


def test_gold_in_retrieved_text():
    assert gold_in_text(["Lake Orvani"], ["Doc about the lake orvani basin"])
    assert not gold_in_text(["Orvani"], ["Orvanis"])
