"""Executions per second of UTRL's discrimination reward for one answer: 12 tests, 8 candidates.

The answer is a HumanEval task's tests topped up to 12 with fuzzed inputs labelled by the reference,
scored against 8 screened mutants of the reference. Three ways, all on the same programs:

* **bare subprocess**: every (program, test) pair as ``subprocess.run(python3 main.py)`` in a temp
  directory, as many in flight as cores, no isolation: the floor.
* **outcome_table (all runs)**: rlvr's sandbox pool, every program on every test (108 executions),
  one workspace per program, programs in parallel.
* **score_generated_tests**: the reward as the env computes it: the reference on all 12, then each
  candidate on the valid tests, stopping at its first failure (killed candidates stop early).

Reported: executions/s, and answers/s for the reward; ratios are medians of back-to-back pairs.

    .venv/bin/python benchmarks/unit_test_reward_speed.py [--task HumanEval/0] [--repeats 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rlvr.envs.unit_tests.execution import (
    candidate_pool,
    format_tests,
    outcome_runs,
    outcome_table,
    score_generated_tests,
)
from rlvr.envs.unit_tests.rewards import UnitTest, output_matches
from rlvr.envs.unit_tests.tasks import fuzz_inputs, humaneval_tasks
from rlvr.sandboxes import make_sandbox
from rlvr.sandboxes.bubblewrap import SYSTEM_PATH
from rlvr.sandboxes.pool import SandboxPool, machine_parallelism


def twelve_tests(pool: SandboxPool, task) -> list[UnitTest]:
    reference = task.program(task.reference)
    stdins = fuzz_inputs(task, 40, seed=1)
    results = outcome_runs(pool, reference, stdins, limits=pool.sandbox.default_limits)
    labelled = [
        UnitTest(s, r.stdout.strip()) for s, r in zip(stdins, results, strict=True) if r.ok and r.stdout
    ]
    return labelled[:12]


def bare(programs: list[str], tests: list[UnitTest]) -> int:
    python = shutil.which("python3", path=SYSTEM_PATH) or "python3"

    def one(pair: tuple[str, UnitTest]) -> bool:
        program, test = pair
        directory = Path(tempfile.mkdtemp(prefix="bench-"))
        try:
            (directory / "main.py").write_text(program)
            done = subprocess.run([python, "main.py"], cwd=directory, input=test.stdin, capture_output=True,
                                  text=True, timeout=10)  # fmt: skip
            return output_matches(done.stdout, done.stderr, done.returncode, test.expected)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    pairs = [(program, test) for program in programs for test in tests]
    with ThreadPoolExecutor(machine_parallelism()) as executor:
        list(executor.map(one, pairs))
    return len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", default="HumanEval/0")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    task = next(t for t in humaneval_tasks() if t.task_id == args.task)
    with SandboxPool(make_sandbox("local")) as pool:
        tests = twelve_tests(pool, task)
        mutants = candidate_pool(pool, task, 8, seed=0, inputs=64)
        reference = task.program(task.reference)
        candidates = [task.program(m.source) for m in mutants]
        programs = [reference, *candidates]
        answer = format_tests(tests)
        print(
            f"{task.task_id}: {len(tests)} tests, {len(candidates)} candidates, "
            f"{machine_parallelism()} workers"
        )

        def timed(fn) -> tuple[float, int]:
            began = time.perf_counter()
            runs = fn()
            return time.perf_counter() - began, runs

        rows: dict[str, list[tuple[float, int]]] = {"bare": [], "table": [], "reward": []}
        score = None
        for _ in range(args.repeats):
            rows["bare"].append(timed(lambda: bare(programs, tests)))
            rows["table"].append(timed(lambda: outcome_table(pool, programs, tests).runs))

            def reward() -> int:
                nonlocal score
                score, _, runs = score_generated_tests(pool, reference, candidates, answer)
                return runs

            rows["reward"].append(timed(reward))
        assert score is not None
        for name, label in (("bare", "bare subprocess"), ("table", "outcome_table (all runs)"),
                            ("reward", "score_generated_tests")):  # fmt: skip
            seconds = statistics.median(s for s, _ in rows[name])
            runs = rows[name][0][1]
            print(
                f"{label:28s} {runs:4d} executions  {runs / seconds:7.1f} exec/s  "
                f"{1 / seconds:6.2f} answers/s"
            )
        ratio = statistics.median(
            (t_runs / t_s) / (b_runs / b_s)
            for (b_s, b_runs), (t_s, t_runs) in zip(rows["bare"], rows["table"], strict=True)
        )
        print(f"sandboxed exec/s over bare exec/s: {ratio:.2f}")
        print(f"reward: discrimination {score.discrimination:.3f}, valid {score.valid_tests}, "
              f"killed {score.candidates_killed}/{len(candidates)}")  # fmt: skip


if __name__ == "__main__":
    main()
