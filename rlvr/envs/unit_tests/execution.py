"""Running solutions on generated tests: one table of outcomes that every reward reads.

``outcome_table`` runs each program in its own workspace (written once) and every test in it one
after another, programs in parallel across the ``SandboxPool``. Both seats of the adversary score
from the same table, and the tester's discrimination needs only to know whether a candidate fails
*some* valid test, so ``stop_at_first_failure`` cuts a killed candidate's remaining runs (a mutant
stuck in a loop would otherwise cost a timeout per test).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rlvr.core.paths import cache_root
from rlvr.envs.unit_tests.mutation import Mutant, mutant_pool, sample_mutants
from rlvr.envs.unit_tests.rewards import (
    GeneratedTestsScore,
    ParsedTests,
    UnitTest,
    generated_tests_reward,
    output_matches,
    parse_tests,
)
from rlvr.envs.unit_tests.tasks import CodeTask, fuzz_inputs
from rlvr.sandboxes import make_sandbox
from rlvr.sandboxes.base import ExecResult, Limits, Sandbox
from rlvr.sandboxes.languages import find_language
from rlvr.sandboxes.pool import SandboxPool

DEFAULT_POOL_CACHE = cache_root() / "mutant-pools"
"""Screened pools are computed once per machine (thousands of runs per task) and reused by every env
instance and process; pass ``cache_dir=None`` to keep them in memory only."""

UTRL_LIMITS = Limits(timeout_s=10.0)
"""UTRL's per-test limit (10 s); the rest are the sandbox's defaults (512 MiB, 1 MiB of output)."""


@dataclass(frozen=True)
class Outcomes:
    """``passes[p][t]``: program p passed test t. A test not run (after an early stop) is ``False``."""

    passes: list[list[bool]]
    runs: int
    """Program executions actually made (for throughput accounting)."""


def _runs(pool: SandboxPool, program: str, inputs: Sequence[str], limits: Limits) -> Iterator[ExecResult]:
    """``program`` on each input in one workspace, in order, lazily: a caller that stops iterating
    runs nothing more (a killed candidate, a mutant already shown to differ)."""
    language = find_language("python")
    with pool.sandbox.open_workspace({language.source_filename: program}) as workspace:
        for stdin in inputs:
            yield workspace.run(language.execute_command, stdin=stdin, limits=limits)


def _run_program(pool: SandboxPool, program: str, tests: Sequence[UnitTest], limits: Limits, stop: bool):
    results: list[bool] = []
    for test, result in zip(tests, _runs(pool, program, [t.stdin for t in tests], limits), strict=False):
        passed = result.ok and output_matches(result.stdout, result.stderr, result.exit_code, test.expected)
        results.append(passed)
        if stop and not passed:
            break
    runs = len(results)
    return results + [False] * (len(tests) - runs), runs


def outcome_table(
    pool: SandboxPool,
    programs: Sequence[str],
    tests: Sequence[UnitTest],
    *,
    limits: Limits = UTRL_LIMITS,
    stop_at_first_failure: bool = False,
) -> Outcomes:
    """Every program on every test (Python programs; see ``CodeTask.program`` for function tasks)."""
    if not tests or not programs:
        return Outcomes([[False] * len(tests) for _ in programs], 0)
    rows = pool.map(
        lambda program: _run_program(pool, program, tests, limits, stop_at_first_failure), programs
    )
    return Outcomes([row for row, _ in rows], sum(runs for _, runs in rows))


def format_tests(tests: Sequence[UnitTest]) -> str:
    """Tests written in UTRL's answer format (to convert a task's own tests, or show an example)."""
    return "".join(f"```\nInput:\n{t.stdin.rstrip(chr(10))}\n\nOutput:\n{t.expected}\n```\n" for t in tests)


def score_generated_tests(
    pool: SandboxPool,
    reference: str,
    candidates: Sequence[str],
    reply: str,
    *,
    limits: Limits = UTRL_LIMITS,
    **weights: float,
) -> tuple[GeneratedTestsScore, ParsedTests, int]:
    """UTRL's reward for a tester's ``reply`` against runnable ``reference`` and ``candidates``
    programs: validity from the reference's runs, then each candidate on the valid tests only, stopping
    at its first failure (it is killed; later tests cannot change that). Returns the score, the parsed
    tests and the number of executions made."""
    parsed = parse_tests(reply)
    reference_row = outcome_table(pool, [reference], parsed.tests, limits=limits)
    valid = [t for t, ok in zip(parsed.tests, reference_row.passes[0], strict=True) if ok]
    killed = outcome_table(pool, candidates, valid, limits=limits, stop_at_first_failure=True)
    # Candidates ran on the valid tests only; invalid columns cannot kill, so mark them passed.
    columns = iter(range(len(valid)))
    index_of_valid = {t: next(columns) for t, ok in enumerate(reference_row.passes[0]) if ok}
    table = [
        [row[index_of_valid[t]] if t in index_of_valid else True for t in range(len(parsed.tests))]
        for row in killed.passes
    ]
    score = generated_tests_reward(
        reference_row.passes[0],
        table,
        unique_tests=len(parsed.tests),
        well_formed=parsed.well_formed,
        **weights,
    )
    return score, parsed, reference_row.runs + killed.runs


EQUIVALENCE_LIMITS = Limits(timeout_s=2.0)
"""Per-input limit while screening mutants: a reference input never takes long, and a mutant that
loops differs from the reference anyway."""


def _differs(
    pool: SandboxPool, program: str, inputs: Sequence[str], expected: Sequence[str], limits: Limits
) -> bool:
    return any(
        not result.ok or result.stderr.strip() or result.stdout != output
        for result, output in zip(_runs(pool, program, inputs, limits), expected, strict=True)
    )


def candidate_pool(
    pool: SandboxPool,
    task: CodeTask,
    count: int,
    *,
    seed: int,
    inputs: int = 64,
    oversample: int = 4,
    cache_dir: str | Path | None = None,
    limits: Limits = EQUIVALENCE_LIMITS,
) -> list[Mutant]:
    """``count`` mutants of ``task.reference`` that behave differently from it on at least one of
    ``inputs`` fuzzed inputs (``fuzz_inputs``): an equivalent mutant can never be killed, so it would
    only cap every tester's discrimination below 1. Deterministic per seed; cached under
    ``cache_dir``. The screening runs all drawn candidates in parallel, once, only on a cache miss."""
    stdins = fuzz_inputs(task, inputs, seed=seed)
    screened: dict[str, bool] = {}

    def is_equivalent(mutant: Mutant) -> bool:
        if not screened:
            reference = outcome_runs(pool, task.program(task.reference), stdins, limits)
            clean = [
                (s, r.stdout) for s, r in zip(stdins, reference, strict=True) if r.ok and not r.stderr.strip()
            ]
            drawn = sample_mutants(task.reference, count * oversample, seed=seed)
            verdicts = pool.map(
                lambda m: _differs(
                    pool, task.program(m.source), [s for s, _ in clean], [o for _, o in clean], limits
                ),
                drawn,
            )
            screened.update({m.source: differs for m, differs in zip(drawn, verdicts, strict=True)})
        return not screened.get(mutant.source, True)

    # Pools screened on different input sets may differ: keep them apart.
    where = None if cache_dir is None else Path(cache_dir) / f"screened-on-{inputs}-inputs"
    return mutant_pool(
        task.reference, count, seed=seed, is_equivalent=is_equivalent, cache_dir=where, oversample=oversample
    )


def outcome_runs(pool: SandboxPool, program: str, inputs: Sequence[str], limits: Limits) -> list[ExecResult]:
    """``program`` on each input in one workspace, in order: the raw results."""
    return list(_runs(pool, program, inputs, limits))


class LazyPool:
    """A ``SandboxPool`` made on first use (an env that is only reset never starts a sandbox) and
    closed with its owner, the sandbox too when it was made here from a backend name."""

    def __init__(self, sandbox: str | Sandbox = "local", workers: int | None = None) -> None:
        self._choice = sandbox
        self._workers = workers
        self._pool: SandboxPool | None = None

    def get(self) -> SandboxPool:
        if self._pool is None:
            sandbox = make_sandbox(self._choice) if isinstance(self._choice, str) else self._choice
            self._pool = SandboxPool(sandbox, self._workers)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            if isinstance(self._choice, str):
                self._pool.sandbox.close()
            self._pool = None
