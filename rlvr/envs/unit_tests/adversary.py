"""``rlvr/UnitTestAdversary-v0``: a tester and a coder on one task, scored from the same executions.

UTRL trains a test generator and a code generator against each other: tests are rewarded for
exposing faulty code, code for passing the (valid) tests. Here both are seats of one turn-based game,
so one policy can play both roles (self-play) or two policies can, through the runner, and either
seat can be a scripted bot in the single-agent view.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rlvr.core.game import TurnGame
from rlvr.core.game_envs import GameAECEnv, GameEnv
from rlvr.envs.code.extract import extract_program
from rlvr.envs.unit_tests.execution import (
    DEFAULT_POOL_CACHE,
    UTRL_LIMITS,
    LazyPool,
    candidate_pool,
    format_tests,
    outcome_table,
)
from rlvr.envs.unit_tests.mutation import Mutant
from rlvr.envs.unit_tests.rewards import coder_reward, generated_tests_reward, parse_tests
from rlvr.envs.unit_tests.tasks import CodeTask, load_tasks
from rlvr.sandboxes.base import Sandbox

TESTER, CODER = "tester", "coder"


def _reference_bot(game: UnitTestAdversary, role: str, rng: np.random.Generator) -> str:
    """The strong scripted seat: the task's own tests, or the reference solution."""
    task = game.task
    if role == TESTER:
        return format_tests(task.tests)
    return f"```python\n{task.reference}\n```"


def _random_bot(game: UnitTestAdversary, role: str, rng: np.random.Generator) -> str:
    """A weak scripted seat: a random half of the task's tests, or a random faulty version."""
    task = game.task
    if role == TESTER:
        kept = [test for test in task.tests if rng.random() < 0.5] or list(task.tests[:1])
        return format_tests(kept)
    mutants = game.mutants()
    return f"```python\n{mutants[int(rng.integers(len(mutants)))].source}\n```"


class UnitTestAdversary(TurnGame):
    """The game behind ``rlvr/UnitTestAdversary-v0`` (see ``UnitTestAdversaryEnv`` for the manual)."""

    name = "UnitTestAdversary"
    roles = (TESTER, CODER)
    penalize_invalid_moves = False  # every reply is scored; the format terms carry the penalty
    bots: ClassVar[dict[str, Any]] = {"reference": _reference_bot, "random": _random_bot}

    def __init__(
        self,
        tasks: str | Sequence[CodeTask] = "humaneval",
        *,
        solutions: int = 4,
        candidates: int = 8,
        target_tests: int = 12,
        format_weight: float = 0.1,
        discrimination_weight: float = 0.85,
        validity_weight: float = 0.05,
        pass_weight: float = 0.9,
        coder_format_weight: float = 0.1,
        pool_seed: int = 0,
        screening_inputs: int = 64,
        cache_dir: str | Path | None = DEFAULT_POOL_CACHE,
        sandbox: str | Sandbox = "local",
        workers: int | None = None,
        timeout_s: float = UTRL_LIMITS.timeout_s,
        **base_options: Any,
    ) -> None:
        base_options.setdefault("max_turns", solutions + 1)
        super().__init__(**base_options)
        if solutions < 1 or candidates < 0:
            raise ValueError("solutions must be at least 1 and candidates at least 0")
        loaded = load_tasks(tasks) if isinstance(tasks, str) else list(tasks)
        self.tasks: tuple[CodeTask, ...] = tuple(task for task in loaded if task.tests)
        if not self.tasks:
            raise ValueError("no task with ground-truth tests to pose")
        self.solutions = solutions
        self.candidates = candidates
        self.tester_weights = {
            "format_weight": format_weight,
            "discrimination_weight": discrimination_weight,
            "validity_weight": validity_weight,
            "target_tests": target_tests,
        }
        self.target_tests = target_tests
        self.coder_weights = {"pass_weight": pass_weight, "format_weight": coder_format_weight}
        self.pool_seed = pool_seed
        self.screening_inputs = screening_inputs
        self.cache_dir = cache_dir
        self.limits = UTRL_LIMITS.with_overrides(timeout_s=timeout_s)
        self._pool = LazyPool(sandbox, workers)
        self._mutants: dict[str, list[Mutant]] = {}
        self.task: CodeTask = self.tasks[0]
        self.tests_text = ""
        self.replies: list[str] = []
        self._metrics: dict[str, dict[str, float]] = {}

    def mutants(self) -> list[Mutant]:
        """The current task's screened faulty versions (built once, cached on disk)."""
        task = self.task
        if task.task_id not in self._mutants:
            self._mutants[task.task_id] = candidate_pool(
                self._pool.get(), task, self.candidates, seed=self.pool_seed,
                inputs=self.screening_inputs, cache_dir=self.cache_dir,
            )  # fmt: skip
        return self._mutants[task.task_id]

    # -- text ---------------------------------------------------------------------------------------

    def instructions(self, role: str) -> str:
        if role == TESTER:
            return (
                "You write unit tests. A good test passes a correct solution and fails a subtly wrong one. "
                f"Write up to {self.target_tests} tests; for each, reason briefly, then give it in its own "
                "fenced block:\n```\nInput:\n<input>\n\nOutput:\n<expected output>\n```\nYour tests run "
                "against a correct reference (a test it fails is invalid) and against faulty solutions, "
                "including the other player's; you are rewarded for valid tests that expose them."
            )
        return (
            f"You solve programming tasks in Python 3 and are asked for {self.solutions} independent "
            "solutions, one per turn, each in a fenced ```python block. Each is run on unit tests "
            "written by another player (those a correct reference fails are dropped) and rewarded by "
            "the fraction it passes."
        )

    def _setup(self) -> None:
        self.task = self.tasks[int(self.rng.integers(len(self.tasks)))]
        self.tests_text = ""
        self.replies = []
        self._metrics = {}
        task = self.task
        self.tell(
            f"# Write unit tests for this task\n\n{task.statement.strip()}\n\n---\n\n{task.io_format}\n"
            f"Give up to {self.target_tests} tests, each in a fenced block with `Input:` and `Output:`.",
            to=TESTER,
        )
        what = f"the function `{task.entry_point}`" if task.kind == "function" else "a stdin/stdout program"
        self.tell(
            f"{task.statement.strip()}\n\n---\n\nWrite {what} in a fenced ```python block "
            f"(solution 1 of {self.solutions}).",
            to=CODER,
        )
        self.current_role = TESTER

    def _legal_actions(self) -> list[str] | None:
        return None

    def _play(self, text: str) -> str | None:
        if self.current_role == TESTER:
            self.tests_text = text
            self.current_role = CODER
            return None
        self.replies.append(text)
        if len(self.replies) < self.solutions:
            self.tell(
                f"Write another, independent solution ({len(self.replies) + 1} of {self.solutions}).",
                to=CODER,
            )
            return None
        self._score()
        return None

    # -- scoring --------------------------------------------------------------------------------------

    def _score(self) -> None:
        """Both rewards from one set of executions (see the env's manual)."""
        pool, task, limits = self._pool.get(), self.task, self.limits
        parsed = parse_tests(self.tests_text)
        reference = task.program(task.reference)
        reference_row = outcome_table(pool, [reference], parsed.tests, limits=limits).passes[0]
        valid = [test for test, ok in zip(parsed.tests, reference_row, strict=True) if ok]
        valid_columns = [t for t, ok in enumerate(reference_row) if ok]
        codes = [extract_program(reply).code for reply in self.replies]
        programs = [task.program(code) for code in codes if code is not None]
        on_valid = outcome_table(pool, programs, valid, limits=limits).passes
        on_truth = outcome_table(pool, programs, task.tests, limits=limits, stop_at_first_failure=True).passes
        coder_rewards, rows = [], iter(on_valid)
        faulty_rows: list[list[bool]] = []
        truth_rows = iter(on_truth)
        for code in codes:
            if code is None:
                coder_rewards.append(
                    coder_reward([False] * len(valid), well_formed=False, **self.coder_weights)
                )
                continue
            row, truth = next(rows), next(truth_rows)
            coder_rewards.append(coder_reward(row, well_formed=True, **self.coder_weights))
            if not all(truth):
                faulty_rows.append(row)  # truly faulty: a candidate the tester should expose
        mutant_rows = (
            outcome_table(
                pool, [task.program(m.source) for m in self.mutants()], valid, limits=limits,
                stop_at_first_failure=True,
            ).passes
            if valid
            else [[] for _ in range(self.candidates)]
        )  # fmt: skip
        candidate_rows = [
            [row[valid_columns.index(t)] if t in valid_columns else True for t in range(len(parsed.tests))]
            for row in [*faulty_rows, *mutant_rows]
        ]
        tester = generated_tests_reward(
            reference_row, candidate_rows, unique_tests=len(parsed.tests), well_formed=parsed.well_formed,
            **self.tester_weights,
        )  # fmt: skip
        coder = float(np.mean(coder_rewards))
        self._metrics = {
            TESTER: {
                "discrimination": tester.discrimination,
                "validity": tester.validity,
                "valid_tests": float(tester.valid_tests),
                "unique_tests": float(len(parsed.tests)),
                "candidates_killed": float(tester.candidates_killed),
                "candidates": float(len(candidate_rows)),
                "faulty_coder_solutions": float(len(faulty_rows)),
                "well_formed": float(parsed.well_formed),
            },
            CODER: {
                "pass_rate": float(np.mean([sum(r) / len(r) if r else 0.0 for r in on_valid]))
                if on_valid
                else 0.0,
                "correct_solutions": float(sum(all(t) for t in on_truth)),
                "solutions_with_code": float(len(programs)),
            },
        }
        exposed = f"{tester.candidates_killed} of {len(candidate_rows)}"
        passed = f"{self._metrics[CODER]['pass_rate']:.0%}"
        self.finish(
            {TESTER: tester.reward, CODER: coder},
            f"{tester.valid_tests} valid tests exposed {exposed} faulty programs; the coder's solutions "
            f"passed {passed} of the valid tests.",
        )

    def _role_metrics(self, role: str) -> dict[str, float]:
        return dict(self._metrics.get(role, {}))

    def close(self) -> None:
        self._pool.close()


class UnitTestAdversaryEnv(GameEnv):
    """``rlvr/UnitTestAdversary-v0`` (single-agent view): tester vs coder on one programming task (UTRL).

    Seats and turns
        ``tester`` moves first: up to ``target_tests`` unit tests in UTRL's format (reasoning, then
        one fenced ``Input:``/``Output:`` block per test). Then ``coder`` writes ``solutions``
        independent solutions, one per turn, each in a fenced ```` ```python ```` block. Neither
        sees the other's replies. Tasks are HumanEval's by default (function tasks judged through the
        stdin/stdout call harness; see ``rlvr/UnitTestGen-v0``).

    Scoring (one set of executions for both)
        The reference solution runs every test (a test it fails is invalid). Each coder solution runs
        the valid tests and the task's hidden tests. The tester's candidates are the coder's
        *faulty* solutions (those failing a hidden test) plus ``candidates`` screened mutants of the
        reference; tester return = UTRL's reward (0.1 format + 0.85 discrimination + 0.05 clipped
        validity) over those candidates. Coder return = the mean over its solutions of 0.9 * pass rate
        on the valid tests + 0.1 * format (a solution without a code block scores 0). Every weight
        and count is an argument. A reply is never an invalid move: the format terms price it.

    Opponents (bots)
        ``"reference"``: the task's own tests / the reference solution. ``"random"``: a random half
        of the task's tests / a random mutant per turn. Any text policy works too (``opponent=``).

    Info
        The usual game keys, and at the end ``metrics`` per seat: return, win/loss/draw (returns
        compared), and for the tester ``discrimination``, ``validity``, ``valid_tests``,
        ``unique_tests``, ``candidates_killed``, ``candidates``, ``faulty_coder_solutions``,
        ``well_formed``; for the coder ``pass_rate``, ``correct_solutions``, ``solutions_with_code``.

    Arguments
        tasks, solutions, candidates, target_tests, the weights (``format_weight``,
        ``discrimination_weight``, ``validity_weight`` for the tester, ``pass_weight``,
        ``coder_format_weight`` for the coder), pool_seed, screening_inputs, cache_dir, sandbox,
        workers, timeout_s; and the views' ``opponent``, ``seat``.

    Version history
        v0: first version.
    """

    game_class = UnitTestAdversary

    def close(self) -> None:
        self.game.close()


class UnitTestAdversaryAECEnv(GameAECEnv):
    """PettingZoo AEC view of ``rlvr/UnitTestAdversary-v0``: one policy in both seats is self-play."""

    game_class = UnitTestAdversary

    def close(self) -> None:
        self.game.close()
