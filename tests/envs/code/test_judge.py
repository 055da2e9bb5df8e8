"""The judge with the real local sandbox: every verdict, in Python and (where gcc exists) in C."""

from __future__ import annotations

import asyncio
import signal

import pytest

from rlvr.envs.code.checkers import Check, CheckerError, CheckerProgram
from rlvr.envs.code.judge import IOTest, Judge, Status, Verdict
from rlvr.sandboxes import Sandbox
from rlvr.sandboxes.languages import find_language
from tests.envs.code.conftest import needs_gcc

ADDITION = [IOTest("1 2\n", "3\n"), IOTest("5 5\n", "10\n"), IOTest("-4 1\n", "-3\n")]

PY_SUM = "a, b = map(int, input().split())\nprint(a + b)\n"
PY_WRONG_ON_FIVES = "a, b = map(int, input().split())\nprint(0 if a == 5 else a + b)\n"


@pytest.fixture
def judge(sandbox: Sandbox) -> Judge:
    return Judge(sandbox, timeout_s=1.0, memory_mb=128)


def test_a_correct_program_is_accepted(judge: Judge) -> None:
    verdict = judge.judge(PY_SUM, "python", ADDITION)
    assert verdict.status is Status.ACCEPTED and verdict.accepted
    assert (verdict.passed, verdict.total, verdict.pass_rate) == (3, 3, 1.0)
    assert verdict.failure is None
    assert verdict.statuses == (Status.ACCEPTED,) * 3
    assert len(verdict.test_times_s) == 3 and verdict.run_time_s > 0


def test_wrong_answer_reports_the_first_failing_test(judge: Judge) -> None:
    verdict = judge.judge(PY_WRONG_ON_FIVES, "python", ADDITION)
    assert verdict.status is Status.WRONG_ANSWER
    assert verdict.statuses == (Status.ACCEPTED, Status.WRONG_ANSWER)  # stopped at the failure
    assert (verdict.passed, verdict.total) == (1, 3)
    failure = verdict.failure
    assert failure is not None
    assert (failure.index, failure.input, failure.expected, failure.actual) == (1, "5 5\n", "10\n", "0\n")
    assert failure.reason == "line 1: expected '10', got '0'"
    assert failure.exit_code == 0
    assert verdict.summary() == "wrong answer on test 2 (1/3 passed)"


def test_run_all_tests_keeps_going_after_a_failure(judge: Judge) -> None:
    tests = [*ADDITION, IOTest("5 1\n", "6\n")]
    verdict = judge.judge(PY_WRONG_ON_FIVES, "python", tests, stop_at_first_failure=False)
    assert verdict.statuses == (Status.ACCEPTED, Status.WRONG_ANSWER, Status.ACCEPTED, Status.WRONG_ANSWER)
    assert verdict.pass_rate == 0.5
    assert verdict.failure is not None and verdict.failure.index == 1  # still the first failure


def test_a_non_zero_exit_is_a_runtime_error_with_the_stderr_tail(judge: Judge) -> None:
    program = "import sys\nprint('partial')\nraise ValueError('boom ' * 2000)\n"
    verdict = judge.judge(program, "python", ADDITION)
    assert verdict.status is Status.RUNTIME_ERROR
    failure = verdict.failure
    assert failure is not None and failure.exit_code == 1 and failure.reason == "exit status 1"
    assert failure.actual == "partial\n"
    assert failure.stderr.startswith("[... ") and failure.stderr.rstrip().endswith("boom")
    assert len(failure.stderr) < 2100


def test_a_python_syntax_error_is_a_runtime_error_without_a_compile_step(judge: Judge) -> None:
    verdict = judge.judge("def (:\n", "python", ADDITION)
    assert verdict.status is Status.RUNTIME_ERROR
    assert verdict.failure is not None and "SyntaxError" in verdict.failure.stderr


def test_time_limit(sandbox: Sandbox) -> None:
    verdict = Judge(sandbox, timeout_s=0.5).judge("while True:\n    pass\n", "python", ADDITION)
    assert verdict.status is Status.TIME_LIMIT
    assert verdict.failure is not None and verdict.failure.reason == "time limit of 0.5 s exceeded"
    assert verdict.statuses == (Status.TIME_LIMIT,)


def test_memory_limit(judge: Judge) -> None:
    verdict = judge.judge("block = bytearray(1 << 30)\nprint(len(block))\n", "python", ADDITION)
    assert verdict.status is Status.MEMORY_LIMIT
    assert verdict.failure is not None and verdict.failure.reason == "memory limit of 128 MiB exceeded"


def test_output_limit(judge: Judge) -> None:
    program = "import sys\nwhile True:\n    sys.stdout.write('x' * 4096)\n"
    verdict = judge.judge(program, "python", ADDITION)
    assert verdict.status is Status.OUTPUT_LIMIT
    assert verdict.failure is not None and len(verdict.failure.actual) < 2100  # truncated in the verdict


def test_limits_can_be_overridden_per_call(judge: Judge) -> None:
    verdict = judge.judge("import time\ntime.sleep(0.6)\nprint(3)\n", "python", ADDITION[:1], timeout_s=0.3)
    assert verdict.status is Status.TIME_LIMIT
    assert judge.limits_for(timeout_s=0.3).timeout_s == 0.3 and judge.limits.timeout_s == 1.0


def test_checker_by_name_and_by_callable(judge: Judge) -> None:
    spaced = "a, b = map(int, input().split())\nprint(' ', a + b, ' ')\n"
    assert judge.judge(spaced, "python", ADDITION).status is Status.WRONG_ANSWER
    assert judge.judge(spaced, "python", ADDITION, checker="tokens").accepted

    def parity(test_input: str, expected: str, actual: str) -> Check:
        same = int(expected) % 2 == int(actual) % 2
        return Check(same, "" if same else "wrong parity")

    verdict = judge.judge("print(1)\n", "python", ADDITION, checker=parity)
    assert verdict.status is Status.WRONG_ANSWER and verdict.failure is not None
    assert verdict.failure.reason == "wrong parity" and verdict.failure.index == 1


def test_a_checker_program_judges_in_its_own_workspace(judge: Judge) -> None:
    # Accepts any output within 1 of the expected sum; reads the three files named in argv.
    checker = CheckerProgram(
        "import sys\n"
        "test_input, expected, actual = (open(name).read() for name in sys.argv[1:4])\n"
        "sys.exit(0 if abs(int(expected) - int(actual)) <= 1 else 1)\n"
    )
    off_by_one = "a, b = map(int, input().split())\nprint(a + b + 1)\n"
    assert judge.judge(off_by_one, "python", ADDITION, checker=checker).accepted
    verdict = judge.judge("print(100)\n", "python", ADDITION, checker=checker)
    assert verdict.status is Status.WRONG_ANSWER
    # The submission cannot reach the checker: it writes a fake checker into its own workspace.
    tamper = "open('main.py', 'w').write('import sys; sys.exit(0)')\nprint(0)\n"
    assert judge.judge(tamper, "python", ADDITION, checker=checker).status is Status.WRONG_ANSWER


def test_a_broken_checker_program_raises_instead_of_blaming_the_submission(judge: Judge) -> None:
    with pytest.raises(CheckerError, match="was killed by signal"):
        judge.judge(PY_SUM, "python", ADDITION, checker=CheckerProgram("import os\nos.abort()\n"))


def test_judge_suites_compiles_once_and_judges_each_suite(judge: Judge) -> None:
    hidden, public = judge.judge_suites(PY_WRONG_ON_FIVES, "python", [ADDITION, ADDITION[:1]])
    assert hidden.status is Status.WRONG_ANSWER and public.accepted


def test_async_judging_gives_the_same_verdict(judge: Judge) -> None:
    async def both() -> list[Verdict]:
        return list(
            await asyncio.gather(
                judge.ajudge(PY_SUM, "python", ADDITION), judge.ajudge(PY_WRONG_ON_FIVES, "python", ADDITION)
            )
        )

    accepted, wrong = asyncio.run(both())
    assert accepted.accepted and wrong.status is Status.WRONG_ANSWER
    assert wrong.failure == judge.judge(PY_WRONG_ON_FIVES, "python", ADDITION).failure


def test_bad_arguments_fail_early(judge: Judge) -> None:
    with pytest.raises(ValueError, match="at least one test"):
        judge.judge(PY_SUM, "python", [])
    with pytest.raises(ValueError, match="unknown checker"):
        judge.judge(PY_SUM, "python", ADDITION, checker="fuzzy")
    with pytest.raises(LookupError, match="unknown language 'klingon'"):
        judge.judge(PY_SUM, "klingon", ADDITION)


def test_verdict_to_dict_is_plain_data(judge: Judge) -> None:
    data = judge.judge(PY_WRONG_ON_FIVES, "python", ADDITION).to_dict()
    assert data["status"] == "wrong_answer" and data["statuses"] == ["accepted", "wrong_answer"]
    assert data["failure"]["status"] == "wrong_answer" and data["pass_rate"] == pytest.approx(1 / 3)


C_SUM = (
    "#include <stdio.h>\n"
    'int main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", a + b); return 0; }\n'
)


@needs_gcc
def test_c_program_is_compiled_once_and_accepted(judge: Judge) -> None:
    verdict = judge.judge(C_SUM, find_language("c"), ADDITION)
    assert verdict.accepted and verdict.compile_time_s > 0


@needs_gcc
def test_c_compile_error_carries_the_compiler_output(judge: Judge) -> None:
    verdict = judge.judge("int main(void) { return undefined_name; }\n", "c", ADDITION)
    assert verdict.status is Status.COMPILE_ERROR
    assert (verdict.passed, verdict.total, verdict.statuses, verdict.failure) == (0, 3, (), None)
    assert "undefined_name" in verdict.compile_output and "error" in verdict.compile_output
    assert verdict.summary() == "compile error"


@needs_gcc
def test_c_segfault_is_a_runtime_error_naming_the_signal(judge: Judge) -> None:
    crash = "int main(void) { volatile int *p = 0; *p = 1; return 0; }\n"
    verdict = judge.judge(crash, "c", ADDITION)
    assert verdict.status is Status.RUNTIME_ERROR
    failure = verdict.failure
    assert failure is not None and failure.exit_code is None and failure.signal == signal.SIGSEGV
    assert failure.reason == "killed by signal 11 (SIGSEGV)"


@needs_gcc
def test_c_wrong_answer_and_compile_error_in_every_suite(judge: Judge) -> None:
    wrong = C_SUM.replace("a + b", "a - b")
    assert judge.judge(wrong, "c", ADDITION).status is Status.WRONG_ANSWER
    verdicts = judge.judge_suites("int main(", "c", [ADDITION, ADDITION[:1]])
    assert [v.status for v in verdicts] == [Status.COMPILE_ERROR, Status.COMPILE_ERROR]
    assert [v.total for v in verdicts] == [3, 1]
