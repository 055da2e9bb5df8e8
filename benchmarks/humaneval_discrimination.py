"""How well HumanEval's own tests (converted to stdin/stdout) discriminate its screened mutant pools.

A sanity check of the UTRL reward's scale: the reference solution's own tests should score high
discrimination against 8 screened mutants, and an empty test set 0. Prints per-task numbers and the
mean over the first ``--tasks`` problems that have tests.

    .venv/bin/python benchmarks/humaneval_discrimination.py --tasks 40
"""

from __future__ import annotations

import argparse
import statistics
import time

from rlvr.envs.unit_tests.execution import candidate_pool, format_tests, score_generated_tests
from rlvr.envs.unit_tests.tasks import humaneval_tasks
from rlvr.sandboxes import make_sandbox
from rlvr.sandboxes.pool import SandboxPool


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--candidates", type=int, default=8)
    args = parser.parse_args()
    tasks = [task for task in humaneval_tasks() if task.tests][: args.tasks]
    own, empty, pools, executions = [], [], [], 0
    began = time.perf_counter()
    with SandboxPool(make_sandbox("local")) as pool:
        for task in tasks:
            mutants = candidate_pool(pool, task, args.candidates, seed=0)
            programs = [task.program(m.source) for m in mutants]
            reference = task.program(task.reference)
            score, _, runs = score_generated_tests(pool, reference, programs, format_tests(task.tests))
            nothing, _, _ = score_generated_tests(pool, reference, programs, "")
            own.append(score.discrimination)
            empty.append(nothing.discrimination)
            pools.append(len(mutants))
            executions += runs
            print(f"{task.task_id:14s} tests {len(task.tests):3d}  mutants {len(mutants)}  "
                  f"discrimination {score.discrimination:.3f}  reward {score.reward:.3f}")  # fmt: skip
    print(
        f"\n{len(tasks)} tasks: own tests' discrimination mean {statistics.fmean(own):.3f} "
        f"(median {statistics.median(own):.3f}, min {min(own):.3f}, {sum(d == 1.0 for d in own)} at 1.0); "
        f"empty answer {statistics.fmean(empty):.3f}; full pools {sum(p == args.candidates for p in pools)}"
        f"/{len(tasks)}; {executions} reward executions; {time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
