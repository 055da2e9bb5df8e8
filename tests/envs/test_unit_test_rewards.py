"""UTRL / Repair-R1 rewards on hand-made cases, every number worked out by hand."""

from __future__ import annotations

import math

import pytest

from rlvr.envs.unit_tests.rewards import (
    best_of_n,
    coder_reward,
    generated_tests_reward,
    output_matches,
    parse_tests,
    repair_test_reward,
    spearman,
)


def block(stdin: str, stdout: str) -> str:
    return f"The sum of {stdin!r}.\n```\nInput:\n{stdin}\n\nOutput:\n{stdout}\n```\n"


def test_parsing_keeps_well_formed_tests_and_counts_the_rest():
    text = block("1 2", "3") + block("1 2  ", "3 ") + "```python\nprint(1)\n```\n" + block("5 5", "10")
    parsed = parse_tests(text)
    assert [(t.stdin, t.expected) for t in parsed.tests] == [("1 2\n", "3"), ("5 5\n", "10")]
    assert (parsed.blocks, parsed.malformed, parsed.duplicates) == (4, 1, 1)
    assert not parsed.well_formed  # one malformed block spoils the format term
    assert parse_tests(block("1", "1")).well_formed
    assert not parse_tests("no tests at all").well_formed
    assert parse_tests("```\nInput:\n3\n\nOutput:\n\n```").malformed == 1  # no expected output
    multi_line = parse_tests(block("2\n1 2", "3\n4"))
    assert multi_line.tests[0].stdin == "2\n1 2\n" and multi_line.tests[0].expected == "3\n4"


def test_the_pass_rule():
    assert output_matches("3\n", "", 0, "3")
    assert not output_matches("3\n", "Warning\n", 0, "3")  # stderr must be empty
    assert not output_matches("3\n", "", 1, "3")
    assert not output_matches("", "", 0, "")  # silence never passes
    assert not output_matches("4", "", 0, "3")


def test_a_test_set_that_kills_every_candidate():
    # 3 valid tests, 4 candidates, each failing at least one valid test.
    reference = [True, True, True]
    candidates = [[False, True, True], [True, False, True], [True, True, False], [False, False, False]]
    score = generated_tests_reward(reference, candidates, unique_tests=3, well_formed=True)
    assert score.discrimination == 1.0 and score.candidates_killed == 4
    assert score.validity == pytest.approx(3 / 12)
    assert score.reward == pytest.approx(0.1 + 0.85 + 0.05 * 3 / 12)


def test_a_test_set_that_kills_none():
    score = generated_tests_reward([True, True], [[True, True]] * 8, unique_tests=2, well_formed=True)
    assert score.discrimination == 0.0 and score.reward == pytest.approx(0.1 + 0.05 * 2 / 12)


def test_invalid_tests_cannot_kill():
    # Test 1 has a wrong expected output: the reference fails it, and so does every candidate.
    reference = [True, False]
    candidates = [[True, False], [False, False], [True, False], [True, False]]
    score = generated_tests_reward(reference, candidates, unique_tests=2, well_formed=True)
    assert score.valid_tests == 1 and score.candidates_killed == 1
    assert score.discrimination == pytest.approx(1 / 4)
    all_invalid = generated_tests_reward(
        [False, False], [[False, False]] * 4, unique_tests=2, well_formed=True
    )
    assert all_invalid.discrimination == 0.0 and all_invalid.validity == 0.0
    assert all_invalid.reward == pytest.approx(0.1)


def test_duplicates_and_malformed_blocks_through_the_parser():
    text = block("1 2", "3") * 3 + "```\nnot a test\n```"
    parsed = parse_tests(text)
    assert len(parsed.tests) == 1 and parsed.duplicates == 2 and not parsed.well_formed
    score = generated_tests_reward(
        [True], [[False]], unique_tests=len(parsed.tests), well_formed=parsed.well_formed
    )
    assert score.reward == pytest.approx(0.85 + 0.05 / 12)  # no format term


def test_more_than_twelve_tests_dilute_validity():
    valid_half = [True] * 10 + [False] * 10
    score = generated_tests_reward(valid_half, [[True] * 20], unique_tests=20, well_formed=True)
    assert score.validity == pytest.approx(10 / 20)
    exactly_twelve = generated_tests_reward([True] * 12, [[True] * 12], unique_tests=12, well_formed=True)
    assert exactly_twelve.validity == 1.0


def test_weights_and_target_are_arguments():
    score = generated_tests_reward(
        [True], [[False]], unique_tests=1, well_formed=False, target_tests=1,
        format_weight=0.0, discrimination_weight=0.5, validity_weight=0.5,
    )  # fmt: skip
    assert score.reward == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one outcome per test"):
        generated_tests_reward([True, True], [[True]], unique_tests=2, well_formed=True)


def test_coder_and_repair_rewards():
    assert coder_reward([True, True, False, True], well_formed=True) == pytest.approx(0.9 * 0.75 + 0.1)
    assert coder_reward([], well_formed=True) == pytest.approx(0.1)
    # Tests: ref passes & bug fails (counts), ref fails (wasted), both pass (misses the bug).
    assert repair_test_reward([True, False, True], [False, False, True]) == pytest.approx(1 / 3)
    assert repair_test_reward([], []) == 0.0


def test_best_of_n_and_spearman_fidelity():
    assert best_of_n([0.2, 0.9, 0.9], [0.0, 1.0, 0.5]) == 0.75  # the expected pick among the tied best
    assert best_of_n([0.2, 1.0, 0.9], [0.0, 1.0, 0.5]) == 1.0
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # Ties get average ranks: x ranks [1.5, 1.5, 3], y ranks [1, 2, 3] -> rho = 0.866...
    assert spearman([0, 0, 1], [1, 2, 3]) == pytest.approx(math.sqrt(3) / 2)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
