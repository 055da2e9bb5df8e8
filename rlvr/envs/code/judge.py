"""The multi-language I/O judge: compile a program once, run it on every test, return a ``Verdict``.

    judge = Judge(make_sandbox("local"), timeout_s=2)
    verdict = judge.judge(source, "python", [IOTest("1 2\\n", "3\\n")])
    verdict.status            # Status.ACCEPTED, WRONG_ANSWER, TIME_LIMIT, ...
    verdict.failure           # the first failing test: input, expected, actual, stderr tail

Judging goes by observable I/O only (Agnostics; MultiPL-E): the program reads a test's ``input`` on
stdin and its stdout is compared with the test's ``output`` by a checker (``rlvr.envs.code.checkers``).
A language is data (``rlvr.sandboxes.languages``): the source goes to ``language.source_filename``,
``language.compile_command`` (if any) runs once in the submission's workspace, and
``language.execute_command`` runs once per test in the same workspace.

Each test's ``ExecResult`` maps to a status, first match wins:

==================  ====================================================================
``TIME_LIMIT``      ``timed_out`` (wall clock or CPU time past the limit)
``MEMORY_LIMIT``    ``memory_exceeded``
``OUTPUT_LIMIT``    ``output_truncated`` (stdout or stderr past ``max_output_bytes``)
``RUNTIME_ERROR``   a non-zero exit status or a death by signal
``WRONG_ANSWER``    a clean exit whose output the checker rejects
``ACCEPTED``        a clean exit whose output the checker accepts
==================  ====================================================================

A failed compile (non-zero exit, or the compiler running out of time or memory) is
``COMPILE_ERROR`` for the whole submission. The verdict's status is that of the first failing
test; with ``stop_at_first_failure=True`` (the default) nothing after it runs, so ``pass_rate``
counts unrun tests as failed.

The judging logic is written once, as a generator that yields the commands to run and receives
their results; ``judge`` drives it with the sandbox's blocking API and ``ajudge`` with its async one.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Generator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from rlvr.envs.code.checkers import (
    Check,
    Checker,
    CheckerError,
    CheckerProgram,
    builtin_checker,
    checker_program_arguments,
    checker_program_files,
    interpret_checker_run,
    run_function_checker,
    validate_checker,
)
from rlvr.sandboxes.base import ExecResult, Files, Limits, Sandbox, Workspace
from rlvr.sandboxes.languages import Language, find_language

DETAIL_CHARS = 2000
"""How much of a failing test's input, expected and actual output a verdict keeps."""
STDERR_CHARS = 2000
COMPILE_OUTPUT_CHARS = 4000


@dataclass(frozen=True)
class IOTest:
    """One test: the program gets ``input`` on stdin and must print ``output``."""

    input: str
    output: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IOTest:
        return cls(input=str(data["input"]), output=str(data["output"]))

    def to_dict(self) -> dict[str, str]:
        return {"input": self.input, "output": self.output}


class Status(str, Enum):
    """A verdict; the value is the code used in ``info["verdict"]`` and in metrics."""

    ACCEPTED = "accepted"
    WRONG_ANSWER = "wrong_answer"
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    RUNTIME_ERROR = "runtime_error"
    COMPILE_ERROR = "compile_error"

    @property
    def short(self) -> str:
        """The contest abbreviation: AC, WA, TLE, MLE, OLE, RE, CE."""
        return _SHORT[self]

    @property
    def description(self) -> str:
        """Words for a human (and a model): ``"time limit exceeded"``."""
        return _DESCRIPTION[self]


_SHORT = {
    Status.ACCEPTED: "AC",
    Status.WRONG_ANSWER: "WA",
    Status.TIME_LIMIT: "TLE",
    Status.MEMORY_LIMIT: "MLE",
    Status.OUTPUT_LIMIT: "OLE",
    Status.RUNTIME_ERROR: "RE",
    Status.COMPILE_ERROR: "CE",
}
_DESCRIPTION = {
    Status.ACCEPTED: "accepted",
    Status.WRONG_ANSWER: "wrong answer",
    Status.TIME_LIMIT: "time limit exceeded",
    Status.MEMORY_LIMIT: "memory limit exceeded",
    Status.OUTPUT_LIMIT: "output limit exceeded",
    Status.RUNTIME_ERROR: "runtime error",
    Status.COMPILE_ERROR: "compile error",
}


@dataclass(frozen=True)
class TestFailure:
    """The first failing test of a verdict; the texts are truncated to a few thousand characters."""

    __test__ = False  # not a pytest test class

    index: int
    """Position of the test in the list that was judged (0-based)."""
    status: Status
    reason: str
    """Why it failed, in one line: the checker's reason, the exit status, the limit that was hit."""
    input: str
    expected: str
    actual: str
    stderr: str
    """The last part of the program's stderr."""
    exit_code: int | None = None
    signal: int | None = None


@dataclass(frozen=True)
class Verdict:
    """The judgement of one program on one list of tests."""

    status: Status
    passed: int
    total: int
    failure: TestFailure | None = None
    compile_output: str = ""
    """The compiler's output: the error for ``COMPILE_ERROR``, else any warnings."""
    statuses: tuple[Status, ...] = ()
    """One status per test that ran, in order (fewer than ``total`` after an early stop)."""
    compile_time_s: float = 0.0
    test_times_s: tuple[float, ...] = field(default=(), compare=False)

    @property
    def accepted(self) -> bool:
        return self.status is Status.ACCEPTED

    @property
    def pass_rate(self) -> float:
        """Passed tests over all tests (tests skipped after an early stop count as failed)."""
        return self.passed / self.total if self.total else 0.0

    @property
    def run_time_s(self) -> float:
        return sum(self.test_times_s)

    @property
    def max_test_time_s(self) -> float:
        return max(self.test_times_s, default=0.0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["statuses"] = [status.value for status in self.statuses]
        if self.failure is not None:
            data["failure"]["status"] = self.failure.status.value
        data["pass_rate"] = self.pass_rate
        return data

    def summary(self) -> str:
        """One line: ``wrong answer on test 3 (2/10 passed)``."""
        if self.status is Status.COMPILE_ERROR:
            return "compile error"
        if self.accepted:
            return f"accepted ({self.passed}/{self.total} passed)"
        where = f" on test {self.failure.index + 1}" if self.failure is not None else ""
        return f"{self.status.description}{where} ({self.passed}/{self.total} passed)"


# -- the judging plan (no I/O) ---------------------------------------------------------------------

_PROGRAM = "program"
_CHECKER = "checker"


@dataclass(frozen=True)
class _Step:
    """One command for a driver to run: in the submission's or the checker's workspace."""

    workspace: str
    command: str
    stdin: str
    limits: Limits
    files: Files = field(default_factory=dict)
    """Written before the command runs (the workspace is opened with them the first time)."""


Plan = Generator[_Step, ExecResult, list[Verdict]]


def _head(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n... [{len(text) - limit} more characters]"


def _tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} earlier characters]\n{text[-limit:]}"


def _signal_name(number: int | None) -> str:
    try:
        return f"signal {number} ({signal.Signals(number).name})"  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return f"signal {number}"


def classify_run(result: ExecResult, limits: Limits) -> tuple[Status | None, str]:
    """The status a run earns before its output is checked; ``None`` means it exited cleanly."""
    if result.timed_out:
        return Status.TIME_LIMIT, f"time limit of {limits.timeout_s:g} s exceeded"
    if result.memory_exceeded:
        return Status.MEMORY_LIMIT, f"memory limit of {limits.memory_mb} MiB exceeded"
    if result.output_truncated:
        return Status.OUTPUT_LIMIT, f"output limit of {limits.max_output_bytes} bytes exceeded"
    if result.exit_code is None:
        return Status.RUNTIME_ERROR, f"killed by {_signal_name(result.signal)}"
    if result.exit_code != 0:
        return Status.RUNTIME_ERROR, f"exit status {result.exit_code}"
    return None, ""


def _compile_failure_text(result: ExecResult, limits: Limits) -> str:
    output = (result.stdout + ("\n" if result.stdout and result.stderr else "") + result.stderr).strip()
    if result.timed_out:
        output = f"compilation timed out after {limits.timeout_s:g} s\n{output}"
    elif result.memory_exceeded:
        output = f"the compiler ran out of memory ({limits.memory_mb} MiB)\n{output}"
    elif result.exit_code is None:
        output = f"the compiler was killed by {_signal_name(result.signal)}\n{output}"
    return _head(output.strip() or f"compiler exit status {result.exit_code}", COMPILE_OUTPUT_CHARS)


class _CheckerRunner:
    """Runs a checker of any kind; program checkers compile lazily, once per submission."""

    def __init__(self, checker: Checker, checker_limits: Limits) -> None:
        self.checker = checker
        self.limits = checker_limits
        self._program_language: Language | None = None
        self._pending_files: dict[str, str | bytes] = {}
        self._compiled = True
        if isinstance(checker, CheckerProgram):
            self._program_language = find_language(checker.language)
            self._pending_files = dict(self._program_language.source_files(checker.source))
            self._compiled = self._program_language.compile_command is None

    def check(self, test: IOTest, actual: str) -> Generator[_Step, ExecResult, Check]:
        if isinstance(self.checker, str):
            return builtin_checker(self.checker)(test.output, actual)
        if not isinstance(self.checker, CheckerProgram):
            return run_function_checker(self.checker, test.input, test.output, actual)
        language = self._program_language
        assert language is not None
        if not self._compiled:
            assert language.compile_command is not None
            compile_limits = language.compile_limits(self.limits)
            result = yield _Step(_CHECKER, language.compile_command, "", compile_limits, self._pending_files)
            self._pending_files = {}
            if not result.ok:
                raise CheckerError(
                    f"the checker program does not compile:\n{_compile_failure_text(result, compile_limits)}"
                )
            self._compiled = True
        files = {**self._pending_files, **checker_program_files(test.input, test.output, actual)}
        self._pending_files = {}
        command = language.execute_command + checker_program_arguments()
        result = yield _Step(_CHECKER, command, "", language.run_limits(self.limits), files)
        return interpret_checker_run(result)


def judging_plan(
    source: str,
    language: Language,
    suites: Sequence[Sequence[IOTest]],
    *,
    checker: Checker,
    stop_at_first_failure: bool,
    limits: Limits,
    checker_limits: Limits,
) -> Plan:
    """The whole judgement as a generator: yields ``_Step``s, receives their ``ExecResult``s.

    The program is compiled once; then each suite is judged on its own (an early stop ends only
    that suite), and the return value holds one verdict per suite.
    """
    pending: Files = language.source_files(source)
    compile_output, compile_time = "", 0.0
    compile_command = language.compile_command
    if compile_command is not None:
        compile_limits = language.compile_limits(limits)
        result = yield _Step(_PROGRAM, compile_command, "", compile_limits, pending)
        pending = {}
        compile_time = result.wall_time_s
        if not result.ok:
            output = _compile_failure_text(result, compile_limits)
            return [
                Verdict(Status.COMPILE_ERROR, 0, len(suite), None, output, (), compile_time)
                for suite in suites
            ]
        compile_output = _head((result.stdout + result.stderr).strip(), COMPILE_OUTPUT_CHARS)
    run_limits = language.run_limits(limits)
    checking = _CheckerRunner(checker, checker_limits)
    verdicts = []
    for suite in suites:
        statuses: list[Status] = []
        times: list[float] = []
        failure: TestFailure | None = None
        for index, test in enumerate(suite):
            result = yield _Step(_PROGRAM, language.execute_command, test.input, run_limits, pending)
            pending = {}
            times.append(result.wall_time_s)
            status, reason = classify_run(result, run_limits)
            if status is None:
                check = yield from checking.check(test, result.stdout)
                status = Status.ACCEPTED if check.ok else Status.WRONG_ANSWER
                reason = check.reason
            statuses.append(status)
            if status is Status.ACCEPTED:
                continue
            if failure is None:
                failure = TestFailure(
                    index=index,
                    status=status,
                    reason=reason,
                    input=_head(test.input, DETAIL_CHARS),
                    expected=_head(test.output, DETAIL_CHARS),
                    actual=_head(result.stdout, DETAIL_CHARS),
                    stderr=_tail(result.stderr, STDERR_CHARS),
                    exit_code=result.exit_code,
                    signal=result.signal,
                )
            if stop_at_first_failure:
                break
        passed = statuses.count(Status.ACCEPTED)
        verdicts.append(
            Verdict(
                status=failure.status if failure is not None else Status.ACCEPTED,
                passed=passed,
                total=len(suite),
                failure=failure,
                compile_output=compile_output,
                statuses=tuple(statuses),
                compile_time_s=compile_time,
                test_times_s=tuple(times),
            )
        )
    return verdicts


# -- drivers ---------------------------------------------------------------------------------------


def _drive(sandbox: Sandbox, plan: Plan) -> list[Verdict]:
    workspaces: dict[str, Workspace] = {}
    try:
        step = next(plan)
        while True:
            workspace = workspaces.get(step.workspace)
            if workspace is None:
                workspace = workspaces[step.workspace] = sandbox.open_workspace(step.files)
            elif step.files:
                workspace.write_files(step.files)
            step = plan.send(workspace.run(step.command, stdin=step.stdin, limits=step.limits))
    except StopIteration as finished:
        return finished.value
    finally:
        plan.close()
        for workspace in workspaces.values():
            workspace.close()


async def _adrive(sandbox: Sandbox, plan: Plan) -> list[Verdict]:
    workspaces: dict[str, Workspace] = {}
    try:
        step = next(plan)
        while True:
            workspace = workspaces.get(step.workspace)
            if workspace is None:
                workspace = await asyncio.to_thread(sandbox.open_workspace, step.files)
                workspaces[step.workspace] = workspace
            elif step.files:
                await asyncio.to_thread(workspace.write_files, step.files)
            result = await workspace.arun(step.command, stdin=step.stdin, limits=step.limits)
            step = plan.send(result)
    except StopIteration as finished:
        return finished.value
    finally:
        plan.close()
        for workspace in workspaces.values():
            await asyncio.to_thread(workspace.close)


class Judge:
    """Judges programs in any configured language on I/O tests, through one sandbox.

    Args:
        sandbox: a ``Sandbox``, or a backend name for ``make_sandbox`` (then ``close`` closes it).
        timeout_s: per-test wall-clock limit; the CPU-time limit follows it unless ``limits`` sets
            one. Default: that of ``limits``.
        memory_mb: per-test memory limit; a language's ``memory_mb`` raises it for runtimes that
            reserve memory up front (the JVM). Default: that of ``limits``.
        limits: the base ``Limits`` (output cap, processes, ...); default: the sandbox's default
            limits, which are Agnostics' 10 s, 512 MiB and 1 MiB of output unless it was built
            with others.
        checker: ``"exact"``, ``"tokens"``, ``"float"``, a callable or a ``CheckerProgram``.
        stop_at_first_failure: stop judging at the first failing test (the default) or run all.

    Every ``judge`` call can override ``checker``, ``stop_at_first_failure``, ``timeout_s`` and
    ``memory_mb``. A program's faults are verdicts; exceptions mean a broken sandbox
    (``SandboxError``), a broken checker (``CheckerError``) or a bad argument.
    """

    def __init__(
        self,
        sandbox: Sandbox | str = "local",
        *,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
        limits: Limits | None = None,
        checker: Checker = "exact",
        stop_at_first_failure: bool = True,
    ) -> None:
        if isinstance(sandbox, str):
            from rlvr.sandboxes import make_sandbox

            sandbox = make_sandbox(sandbox)
            self._owns_sandbox = True
        else:
            self._owns_sandbox = False
        self.sandbox = sandbox
        base = limits or sandbox.default_limits
        self.limits = base.with_overrides(timeout_s=timeout_s, memory_mb=memory_mb)
        validate_checker(checker)
        self.checker = checker
        self.stop_at_first_failure = stop_at_first_failure

    def limits_for(self, timeout_s: float | None = None, memory_mb: int | None = None) -> Limits:
        """The per-test limits of a call (before a language raises its memory floor)."""
        return self.limits.with_overrides(timeout_s=timeout_s, memory_mb=memory_mb)

    def _plan(
        self,
        source: str,
        language: Language | str,
        suites: Sequence[Sequence[IOTest]],
        checker: Checker | None,
        stop_at_first_failure: bool | None,
        timeout_s: float | None,
        memory_mb: int | None,
    ) -> Plan:
        resolved = find_language(language) if isinstance(language, str) else language
        if not suites or any(len(suite) == 0 for suite in suites):
            raise ValueError("every suite must hold at least one test")
        chosen = self.checker if checker is None else checker
        validate_checker(chosen)
        return judging_plan(
            source,
            resolved,
            [[test if isinstance(test, IOTest) else IOTest.from_dict(test) for test in s] for s in suites],
            checker=chosen,
            stop_at_first_failure=(
                self.stop_at_first_failure if stop_at_first_failure is None else stop_at_first_failure
            ),
            limits=self.limits_for(timeout_s, memory_mb),
            checker_limits=self.limits,
        )

    def judge(
        self,
        source: str,
        language: Language | str,
        tests: Sequence[IOTest],
        *,
        checker: Checker | None = None,
        stop_at_first_failure: bool | None = None,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
    ) -> Verdict:
        """Compile ``source`` once and run it on ``tests`` in one workspace."""
        plan = self._plan(source, language, [tests], checker, stop_at_first_failure, timeout_s, memory_mb)
        return _drive(self.sandbox, plan)[0]

    def judge_suites(
        self,
        source: str,
        language: Language | str,
        suites: Sequence[Sequence[IOTest]],
        *,
        checker: Checker | None = None,
        stop_at_first_failure: bool | None = None,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
    ) -> list[Verdict]:
        """Compile once, then judge each suite separately (hidden tests, then public examples)."""
        plan = self._plan(source, language, suites, checker, stop_at_first_failure, timeout_s, memory_mb)
        return _drive(self.sandbox, plan)

    async def ajudge(
        self,
        source: str,
        language: Language | str,
        tests: Sequence[IOTest],
        *,
        checker: Checker | None = None,
        stop_at_first_failure: bool | None = None,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
    ) -> Verdict:
        """``judge`` through the sandbox's async API, so an event loop keeps running meanwhile."""
        plan = self._plan(source, language, [tests], checker, stop_at_first_failure, timeout_s, memory_mb)
        return (await _adrive(self.sandbox, plan))[0]

    async def ajudge_suites(
        self,
        source: str,
        language: Language | str,
        suites: Sequence[Sequence[IOTest]],
        *,
        checker: Checker | None = None,
        stop_at_first_failure: bool | None = None,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
    ) -> list[Verdict]:
        plan = self._plan(source, language, suites, checker, stop_at_first_failure, timeout_s, memory_mb)
        return await _adrive(self.sandbox, plan)

    def close(self) -> None:
        """Close the sandbox if this judge made it."""
        if self._owns_sandbox:
            self.sandbox.close()

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
