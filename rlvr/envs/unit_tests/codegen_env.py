"""``rlvr/CodeGenVsTests-v0``: write a solution scored by a test set (UTRL's code generator)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rlvr.core.spaces import DEFAULT_MAX_LENGTH
from rlvr.envs.code.extract import extract_program
from rlvr.envs.unit_tests.base import CodeTaskEnv
from rlvr.envs.unit_tests.execution import UTRL_LIMITS, outcome_table
from rlvr.envs.unit_tests.rewards import UnitTest, coder_reward, parse_tests
from rlvr.envs.unit_tests.tasks import CodeTask
from rlvr.sandboxes.base import Sandbox


class CodeGenVsTestsEnv(CodeTaskEnv):
    """``rlvr/CodeGenVsTests-v0``: solve a task; the reward is the pass rate on a test set (UTRL).

    Task
        One task per episode (HumanEval by default: complete the function whose signature and
        docstring are shown). The first observation holds the task and the answer format.

    Action
        Any text; the program is the last fenced code block (for a function task, the complete
        function: it is run through the task's stdin/stdout harness). A reply without one is an
        invalid action and scores 0.

    Tests
        The task's own tests by default; ``reset(options={"tests": text})`` poses a test set written
        in UTRL's format instead (a tester policy's reply: the adversary env uses this). Tests the
        reference solution fails are dropped first (they are wrong, not hard).

    Reward
        ``pass_weight * pass_rate + format_weight * format`` (0.9 and 0.1): the pass rate on the
        valid tests under UTRL's rule (exit 0, empty stderr, stdout equal after ``strip``), format 1
        when the reply holds a program. With no valid test only the format term counts. One step.

    Info
        ``turn``, ``player``, ``role``, ``invalid_action``, ``invalid_reason``, ``task_id``, and at the
        end ``metrics``: ``return``, ``pass_rate``, ``passed``, ``valid_tests``, ``posed_tests``,
        ``accepted`` (every valid test passed), ``has_program``.

    Arguments
        tasks: ``"humaneval"``, ``"core"`` or a list of ``CodeTask``; pass_weight, format_weight: the
        reward's weights; sandbox, workers, timeout_s: how programs run.

    Version history
        v0: first version.
    """

    def __init__(
        self,
        tasks: str | Sequence[CodeTask] = "humaneval",
        *,
        pass_weight: float = 0.9,
        format_weight: float = 0.1,
        sandbox: str | Sandbox = "local",
        workers: int | None = None,
        timeout_s: float = UTRL_LIMITS.timeout_s,
        render_mode: str | None = None,
        max_action_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        super().__init__(
            tasks, sandbox=sandbox, workers=workers, timeout_s=timeout_s, render_mode=render_mode,
            max_action_length=max_action_length,
        )  # fmt: skip
        self.pass_weight = pass_weight
        self.format_weight = format_weight
        self.posed_tests: list[UnitTest] = []
        self._metrics: dict[str, float] = {}
        self._valid: dict[tuple[str, tuple[tuple[str, str], ...]], list[UnitTest]] = {}

    def _prompt(self) -> str:
        task = self.task
        if task.kind == "function":
            ask = f"Complete `{task.entry_point}`. Reply with the whole function, imports included,"
        else:
            ask = "Write a complete Python 3 program that reads stdin and writes stdout. Reply with it"
        return f"{task.statement.strip()}\n\n---\n\n{ask} in one fenced code block: ```python ... ```."

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        options = self._start(seed, options)
        self.posed_tests = (
            parse_tests(options["tests"]).tests if "tests" in options else list(self.task.tests)
        )
        self._metrics = {}
        self._observation = self._prompt()
        info = self._info(None)
        info["instructions"] = (
            "You solve programming tasks in Python 3. Your solution is run on unit tests and rewarded by "
            "the fraction it passes; output must match exactly and nothing may be printed to stderr."
        )
        return self._observation, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._check_running()
        extraction = extract_program(action if isinstance(action, str) else str(action))
        task, tests = self.task, self.posed_tests
        has_program = extraction.code is not None
        # Without a program the reward is 0 whatever the tests: run nothing.
        valid = self._valid_tests(task, tests) if has_program else []
        passes: list[bool] = []
        if extraction.code is not None and valid:
            passes = outcome_table(
                self.pool, [task.program(extraction.code)], valid, limits=self.limits
            ).passes[0]
        reward = coder_reward(
            passes if has_program else [False] * len(valid),
            well_formed=has_program,
            pass_weight=self.pass_weight,
            format_weight=self.format_weight,
        )
        self._over = True
        self._metrics = {
            "return": reward,
            "pass_rate": sum(passes) / len(valid) if valid else 0.0,
            "passed": float(sum(passes)),
            **({"valid_tests": float(len(valid))} if has_program else {}),
            "posed_tests": float(len(tests)),
            "accepted": float(bool(valid) and all(passes) and len(passes) == len(valid)),
            "has_program": float(has_program),
        }
        self._observation = f"Passed {sum(passes)} of {len(valid)} tests. Reward {reward:.3f}."
        return self._observation, float(reward), True, False, self._info(extraction.problem)

    def _valid_tests(self, task: CodeTask, tests: list[UnitTest]) -> list[UnitTest]:
        """The tests the reference passes; remembered per task and test set (a task's own tests are
        posed again and again in training)."""
        key = (task.task_id, tuple(test.key for test in tests))
        if key not in self._valid:
            row = outcome_table(self.pool, [task.program(task.reference)], tests, limits=self.limits).passes[
                0
            ]
            self._valid[key] = [test for test, ok in zip(tests, row, strict=True) if ok]
        return self._valid[key]

    def _info(self, reason: str | None) -> dict[str, Any]:
        return {**self._common_info(reason), "metrics": dict(self._metrics)}
