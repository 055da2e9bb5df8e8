"""``rlvr/RepairWithTests-v0``: expose a bug with tests, then fix it (Repair-R1)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rlvr.core.spaces import DEFAULT_MAX_LENGTH
from rlvr.envs.code.extract import fenced_blocks
from rlvr.envs.unit_tests.base import CodeTaskEnv
from rlvr.envs.unit_tests.execution import (
    DEFAULT_POOL_CACHE,
    UTRL_LIMITS,
    outcome_table,
)
from rlvr.envs.unit_tests.mutation import Mutant, mutant_pool
from rlvr.envs.unit_tests.rewards import parse_tests, repair_test_reward
from rlvr.envs.unit_tests.tasks import CodeTask
from rlvr.sandboxes.base import Sandbox


class RepairWithTestsEnv(CodeTaskEnv):
    """``rlvr/RepairWithTests-v0``: given buggy code, write tests that expose the bug, then the fix.

    Task
        One task per episode (HumanEval by default) with a buggy version of its reference solution:
        a mutant (see ``rlvr.envs.unit_tests.mutation``) that fails at least one of the task's hidden
        tests, drawn deterministically from the episode's seed. The observation shows the task and
        the buggy code; the hidden tests stay hidden.

    Action
        Any text: tests in UTRL's format (one fenced ``Input:``/``Output:`` block each), then the fixed
        program in a final fenced code block. For a function task a test's Input is the call's
        arguments as a Python literal tuple and its Output ``repr`` of the result.

    Reward (Repair-R1), each weight an argument
        ``test_weight * test_reward + repair_weight * repair_reward + format_weight * format``: the
        test reward is the mean over the tests of [the reference passes] * [the buggy code fails] (a
        test that fails the reference too earns nothing), the repair reward the fix's pass rate on the
        hidden tests, and format 1 when there is at least one well-formed test, the last fenced block
        is the program, and no other block is malformed. Defaults 1, 1, 0.1: range [0, 2.1].

    Info
        ``turn``, ``player``, ``role``, ``invalid_action`` (no program), ``invalid_reason``,
        ``task_id``, ``bug`` (the mutation's description, for analysis; not shown to the agent), and
        at the end ``metrics``: ``return``, ``test_reward``, ``repair_reward``, ``repaired`` (every
        hidden test passed), ``tests``, ``exposing_tests``, ``well_formed``.

    Arguments
        tasks, sandbox, workers, timeout_s: as ``rlvr/UnitTestGen-v0``; bugs_per_task: how many
        distinct bugs a task's episodes draw from; pool_seed, cache_dir: how they are drawn and
        cached.

    Version history
        v0: first version.
    """

    def __init__(
        self,
        tasks: str | Sequence[CodeTask] = "humaneval",
        *,
        test_weight: float = 1.0,
        repair_weight: float = 1.0,
        format_weight: float = 0.1,
        bugs_per_task: int = 4,
        pool_seed: int = 0,
        cache_dir: str | Path | None = DEFAULT_POOL_CACHE,
        sandbox: str | Sandbox = "local",
        workers: int | None = None,
        timeout_s: float = UTRL_LIMITS.timeout_s,
        render_mode: str | None = None,
        max_action_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        if bugs_per_task < 1:
            raise ValueError("bugs_per_task must be at least 1")
        super().__init__(
            tasks, sandbox=sandbox, workers=workers, timeout_s=timeout_s, render_mode=render_mode,
            max_action_length=max_action_length,
        )  # fmt: skip
        self.weights = (test_weight, repair_weight, format_weight)
        self.bugs_per_task = bugs_per_task
        self.pool_seed = pool_seed
        self.cache_dir = cache_dir
        self._bugs: dict[str, list[Mutant]] = {}
        self.bug: Mutant | None = None
        self._metrics: dict[str, float] = {}

    def bugs(self, task: CodeTask) -> list[Mutant]:
        """Mutants that fail at least one hidden test: bugs a correct fix can be shown to remove.
        Failing a hidden test already proves a mutant is not equivalent, so no fuzz screening is
        needed: mutants are tried in their seeded order, each stopping at its first failing test,
        until ``bugs_per_task`` are found (cached on disk). Empty when none fails."""
        if task.task_id not in self._bugs:
            program = task.program

            def survives(mutant: Mutant) -> bool:
                row = outcome_table(
                    self.pool,
                    [program(mutant.source)],
                    task.tests,
                    limits=self.limits,
                    stop_at_first_failure=True,
                ).passes[0]
                return all(row)

            where = None if self.cache_dir is None else Path(self.cache_dir) / "caught-by-hidden-tests"
            self._bugs[task.task_id] = mutant_pool(
                task.reference, self.bugs_per_task, seed=self.pool_seed, is_equivalent=survives,
                cache_dir=where, oversample=8,
            )  # fmt: skip
        return self._bugs[task.task_id]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        options = self._start(seed, options)
        bug_draw = float(self.np_random.random())
        bugs = self.bugs(self.task)
        if not bugs and "task_id" not in options:
            # A task whose hidden tests catch none of its mutants has nothing to repair: take the
            # next one (deterministically) that has.
            start = self.tasks.index(self.task)
            for step in range(1, len(self.tasks)):
                self.task = self.tasks[(start + step) % len(self.tasks)]
                bugs = self.bugs(self.task)
                if bugs:
                    break
        if not bugs:
            raise ValueError(
                f"{self.task.task_id}: its hidden tests catch none of its mutants; nothing to repair"
            )
        self.bug = bugs[int(np.floor(bug_draw * len(bugs)))]
        self._metrics = {}
        self._observation = (
            f"{self.task.statement.strip()}\n\n---\n\nThis implementation has a bug:\n```python\n"
            f"{self.bug.source.strip()}\n```\n\n{self.task.io_format}\nFirst write tests that the correct "
            "solution passes and this code fails, each in a fenced block with `Input:` and `Output:`. "
            "Then give the fixed code in a final ```python block."
        )
        info = self._info(None)
        info["instructions"] = (
            "You find and fix bugs. You are rewarded for tests that expose the bug (a correct solution "
            "passes them, the buggy code fails them) and for a fix that passes hidden tests."
        )
        return self._observation, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._check_running()
        assert self.bug is not None
        text = action if isinstance(action, str) else str(action)
        blocks, _ = fenced_blocks(text)
        parsed = parse_tests(text)
        is_test = [block.code.lstrip().startswith("Input:") for block in blocks]
        fix = blocks[-1].code if blocks and not is_test[-1] and blocks[-1].code.strip() else None
        task = self.task
        tests = parsed.tests
        test_reward = 0.0
        if tests:
            table = outcome_table(
                self.pool,
                [task.program(task.reference), task.program(self.bug.source)],
                tests,
                limits=self.limits,
            )
            test_reward = repair_test_reward(table.passes[0], table.passes[1])
        repair = 0.0
        if fix is not None:
            row = outcome_table(self.pool, [task.program(fix)], task.tests, limits=self.limits).passes[0]
            repair = sum(row) / len(row)
        malformed_others = parsed.malformed - (1 if fix is not None else 0)
        well_formed = bool(tests) and fix is not None and malformed_others == 0
        test_weight, repair_weight, format_weight = self.weights
        reward = test_weight * test_reward + repair_weight * repair + format_weight * float(well_formed)
        self._over = True
        exposing = round(test_reward * len(tests))
        self._metrics = {
            "return": reward,
            "test_reward": test_reward,
            "repair_reward": repair,
            "repaired": float(repair == 1.0),
            "tests": float(len(tests)),
            "exposing_tests": float(exposing),
            "well_formed": float(well_formed),
        }
        self._observation = (
            f"{exposing} of {len(tests)} tests expose the bug; the fix passes {repair:.0%} of the hidden "
            f"tests. Reward {reward:.3f}."
        )
        reason = None if fix is not None else "no fixed program (a final fenced code block)"
        return self._observation, float(reward), True, False, self._info(reason)

    def _info(self, reason: str | None) -> dict[str, Any]:
        bug = None if self.bug is None else self.bug.description
        return {**self._common_info(reason), "bug": bug, "metrics": dict(self._metrics)}
