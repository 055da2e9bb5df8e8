"""rlvr/CodeJudge-v0 with the real local sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from gymnasium.utils.env_checker import check_env

from rlvr.core.game import GameOverError
from rlvr.envs.code.env import CodeJudgeEnv
from rlvr.envs.code.judge import IOTest
from rlvr.envs.code.problems import Problem
from rlvr.sandboxes import Sandbox
from tests.envs.code.conftest import needs_gcc

# A tiny problem whose hidden tests hold strings that must never reach the agent.
ECHO = Problem(
    id="echo",
    title="Echo",
    statement="Print the input line.\n\nInput\nOne line.\n\nOutput\nThe same line.",
    tests=(
        IOTest("SECRET-ALPHA\n", "SECRET-ALPHA\n"),
        IOTest("SECRET-BETA\n", "SECRET-BETA\n"),
        IOTest("SECRET-GAMMA\n", "SECRET-GAMMA\n"),
        IOTest("SECRET-DELTA\n", "SECRET-DELTA\n"),
    ),
    public_tests=(IOTest("hello\n", "hello\n"), IOTest("world\n", "world\n")),
    difficulty="easy",
    solutions={"python": "print(input())\n"},
    tags=("strings",),
)
ECHO_PY = "```python\nprint(input())\n```"
ALPHA_ONLY_PY = "```python\nprint('SECRET-ALPHA')\n```"  # passes 1 of 4 hidden tests
CRASH_PY = "```python\nraise SystemExit(1)\n```"


def make_env(sandbox: Sandbox, **options: Any) -> CodeJudgeEnv:
    return CodeJudgeEnv(problems=[ECHO], sandbox=sandbox, **options)


def test_passes_gymnasium_check_env(sandbox: Sandbox) -> None:
    check_env(CodeJudgeEnv(sandbox=sandbox), skip_render_check=True)


def test_first_observation_and_instructions_describe_the_task(sandbox: Sandbox) -> None:
    env = CodeJudgeEnv(sandbox=sandbox, max_attempts=2)
    observation, info = env.reset(seed=0, options={"problem_id": "maze-escape"})
    assert observation.startswith("# Maze Escape\n")
    assert "Example 1" in observation and "```python" in observation
    assert "only the last one is judged" in observation
    assert "Write a complete Python 3 program" in observation
    instructions = info["instructions"]
    assert "time limit of 2 s" in instructions and "memory limit of 256 MiB" in instructions  # the sandbox's
    assert "You have 2 attempts" in instructions and "```python" in instructions
    assert info["turn"] == 0 and info["player"] == "agent" and info["role"] == "agent"
    assert info["problem_id"] == "maze-escape" and info["language"] == "python"
    assert info["invalid_action"] is False and info["metrics"] == {}


@pytest.mark.parametrize("problem_id", ["expression-value", "clock-hands"])
def test_the_reference_solution_earns_reward_one(sandbox: Sandbox, problem_id: str) -> None:
    env = CodeJudgeEnv(sandbox=sandbox)
    env.reset(seed=1, options={"problem_id": problem_id})
    assert env.reference_solution is not None
    observation, reward, terminated, truncated, info = env.step(
        f"Here it is.\n```python\n{env.reference_solution}```"
    )
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert observation == "Accepted: your program passed all 10 hidden tests."
    assert info["verdict"] == "accepted" and info["player"] is None
    metrics = info["metrics"]
    assert metrics["return"] == 1.0 and metrics["accepted"] == 1.0 and metrics["pass_rate"] == 1.0
    assert (
        metrics["attempts"] == 1.0
        and metrics["verdict_accepted"] == 1.0
        and metrics["verdict_wrong_answer"] == 0.0
    )


def test_a_wrong_program_earns_zero(sandbox: Sandbox) -> None:
    env = make_env(sandbox)
    env.reset(seed=0)
    observation, reward, terminated, _, info = env.step(ALPHA_ONLY_PY)
    assert (reward, terminated) == (0.0, True)
    assert info["verdict"] == "wrong_answer" and info["metrics"]["verdict_wrong_answer"] == 1.0
    assert "No attempts left" in observation
    assert info["metrics"]["pass_rate"] == 0.25  # stopped at hidden test 2 of 4


def test_partial_credit_pays_the_hidden_pass_rate_over_all_tests(sandbox: Sandbox) -> None:
    env = make_env(sandbox, partial_credit=True)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(ALPHA_ONLY_PY)
    assert reward == 0.25 and info["passed"] == 1 and info["total"] == 4
    assert env.last_verdict is not None and len(env.last_verdict.statuses) == 4  # every test ran


def test_wrong_output_bonus_rewards_a_wrong_answer_but_not_a_crash(sandbox: Sandbox) -> None:
    env = make_env(sandbox, wrong_output_bonus=0.2)
    env.reset(seed=0)
    assert env.step(ALPHA_ONLY_PY)[1] == 0.2
    env.reset(seed=0)
    assert env.step(CRASH_PY)[1] == 0.0
    env.reset(seed=0)
    assert env.step(ECHO_PY)[1] == 1.0


def test_feedback_shows_public_examples_and_never_hidden_tests(sandbox: Sandbox) -> None:
    env = make_env(sandbox, max_attempts=3)
    env.reset(seed=0)
    observation, reward, terminated, _, info = env.step("```python\nprint(input()[::-1])\n```")
    assert not terminated and reward == 0.0 and info["metrics"] == {} and info["verdict"] == "wrong_answer"
    assert "SECRET" not in observation and "TERCES" not in observation
    assert "- Example 1: wrong answer" in observation and "Example 1 failed" in observation
    assert "hello" in observation and "olleh" in observation
    assert "Your program passes all" not in observation
    assert "You have 2 attempts left" in observation

    observation, _, terminated, _, info = env.step(ALPHA_ONLY_PY)
    assert not terminated and "SECRET" not in observation.replace("SECRET-ALPHA", "")
    assert "wrong answer on hidden test 2 of 4" in observation
    crash = "```python\nimport sys\nprint(sys.stdin.read(), file=sys.stderr)\nraise SystemExit(3)\n```"
    observation, _, terminated, _, info = env.step(crash)
    assert terminated and "SECRET" not in observation and info["verdict"] == "runtime_error"


def test_feedback_when_public_examples_pass_but_hidden_tests_fail(sandbox: Sandbox) -> None:
    env = make_env(sandbox, max_attempts=2)
    env.reset(seed=0)
    program = "```python\nline = input()\nprint('nope' if line.startswith('SECRET-G') else line)\n```"
    observation, *_ = env.step(program)
    assert "passes all 2 public examples, but fails on hidden tests" in observation
    assert "wrong answer on hidden test 3 of 4" in observation and "SECRET" not in observation


def test_the_stderr_of_a_failing_public_example_is_shown(sandbox: Sandbox) -> None:
    env = make_env(sandbox, max_attempts=2)
    env.reset(seed=0)
    observation, *_ = env.step("```python\nraise KeyError('missing-key')\n```")
    assert "runtime error" in observation and "missing-key" in observation and "exit status 1" in observation


def test_the_last_fenced_block_wins(sandbox: Sandbox) -> None:
    env = make_env(sandbox)
    env.reset(seed=0)
    assert env.step(f"Draft:\n{ALPHA_ONLY_PY}\nFinal:\n{ECHO_PY}\n")[1] == 1.0
    env.reset(seed=0)
    assert env.step(f"Final:\n{ECHO_PY}\nOops, one more:\n{ALPHA_ONLY_PY}")[1] == 0.0


def test_a_reply_without_a_code_block_is_an_invalid_attempt(sandbox: Sandbox) -> None:
    env = make_env(sandbox, max_attempts=2)
    env.reset(seed=0)
    observation, reward, terminated, _, info = env.step("print(input())")
    assert (reward, terminated) == (0.0, False)
    assert (
        info["invalid_action"] and info["invalid_reason"] == "Your reply contains no fenced code block (```)."
    )
    assert info["verdict"] is None and "You have 1 attempt left" in observation
    observation, reward, terminated, _, info = env.step("```python\nprint(input())")
    assert (reward, terminated) == (0.0, True) and "never closes it" in observation
    metrics = info["metrics"]
    assert (
        metrics["verdict_no_code"] == 1.0 and metrics["invalid_answers"] == 2.0 and metrics["accepted"] == 0.0
    )
    with pytest.raises(GameOverError):
        env.step(ECHO_PY)


def test_non_text_and_overlong_actions_are_invalid(sandbox: Sandbox) -> None:
    env = make_env(sandbox, max_action_length=50)
    env.reset(seed=0)
    assert env.step(f"```python\n# {'x' * 60}\nprint(input())\n```")[4]["invalid_action"]
    env.reset(seed=0)
    info = env.step(None)[4]  # type: ignore[arg-type]
    assert info["invalid_action"] and "must be text" in info["invalid_reason"]


def test_max_attempts_pays_only_the_final_attempt(sandbox: Sandbox) -> None:
    env = make_env(sandbox, max_attempts=3)
    env.reset(seed=0)
    first = env.step(ALPHA_ONLY_PY)
    second = env.step(ECHO_PY)
    assert (first[1], first[2]) == (0.0, False) and (second[1], second[2]) == (1.0, True)
    assert second[4]["metrics"]["attempts"] == 2.0 and second[4]["turn"] == 2
    env.reset(seed=0)
    steps = [env.step(ALPHA_ONLY_PY) for _ in range(3)]
    assert [step[2] for step in steps] == [False, False, True] and [step[1] for step in steps] == [0.0] * 3


def test_same_seed_same_episode_and_seeds_vary_the_problem(sandbox: Sandbox) -> None:
    env = CodeJudgeEnv(sandbox=sandbox, language=["python", "c"])
    first = env.reset(seed=7)
    assert env.reset(seed=7) == first
    problems = {env.reset(seed=seed)[1]["problem_id"] for seed in range(12)}
    languages = {env.reset(seed=seed)[1]["language"] for seed in range(12)}
    assert len(problems) > 5 and languages == {"python", "c"}


def test_options_pick_the_problem_and_language_and_difficulty_filters(sandbox: Sandbox) -> None:
    env = CodeJudgeEnv(sandbox=sandbox, difficulty="hard")
    assert {problem.difficulty for problem in env.problems} == {"hard"}
    _, info = env.reset(seed=0, options={"problem_id": "cheapest-route", "language": "cpp"})
    assert info["problem_id"] == "cheapest-route" and info["language"] == "cpp"
    assert env.reference_solution is None  # only Python references are bundled
    with pytest.raises(ValueError, match="unknown problem_id"):
        env.reset(options={"problem_id": "no-such-problem"})
    with pytest.raises(ValueError, match="no problems"):
        CodeJudgeEnv(sandbox=sandbox, difficulty="impossible")


@needs_gcc
def test_a_c_episode_compiles_and_reports_compile_errors_in_feedback(sandbox: Sandbox) -> None:
    env = make_env(sandbox, language="c", max_attempts=2)
    env.reset(seed=0)
    observation, *_ = env.step("```c\nint main(void) { return nope; }\n```")
    assert "compile error" in observation and "nope" in observation
    program = (
        "#include <stdio.h>\n"
        'int main(void) { char s[256]; fgets(s, 256, stdin); printf("%s", s); return 0; }\n'
    )
    assert env.step(f"```c\n{program}```")[1] == 1.0


def test_step_before_reset_is_an_error(sandbox: Sandbox) -> None:
    with pytest.raises(GameOverError, match="reset"):
        make_env(sandbox).step(ECHO_PY)


def test_render_returns_the_last_observation(sandbox: Sandbox) -> None:
    env = make_env(sandbox, render_mode="ansi")
    observation, _ = env.reset(seed=0)
    assert env.render() == observation
