"""Many sandboxed runs in parallel, as many at once as the machine has cores.

Judging is CPU-bound inside the sandboxed programs, so more workers than cores only adds
contention (and makes timeouts fire on programs that would pass alone). A run blocks a thread
while it waits on its child, so a thread pool is enough: the GIL is released the whole time.
The async entry points hand the same threads to the event loop, so generation never stalls.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from rlvr.sandboxes.base import Command, ExecResult, Files, Limits, Sandbox

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Job:
    """One ``Sandbox.run``: a command in a fresh workspace holding ``files``."""

    command: Command
    files: Files = field(default_factory=dict)
    stdin: str | bytes = b""
    limits: Limits | None = None


def machine_parallelism() -> int:
    """Cores this process may use (its CPU affinity, which containers and ``taskset`` narrow)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:
        return os.cpu_count() or 1


class SandboxPool:
    """Runs jobs on ``sandbox`` with at most ``max_workers`` at a time; results in input order.

    One job's failure never stops the others: every job runs to completion, then the first
    exception is raised, or, with ``return_exceptions=True``, each exception takes its job's place.
    (A program's own failures are ``ExecResult``s, not exceptions; exceptions mean a broken sandbox.)

        with SandboxPool(make_sandbox()) as pool:
            results = pool.run_many([Job("python3 main.py", files={"main.py": code}) for code in codes])
    """

    def __init__(self, sandbox: Sandbox, max_workers: int | None = None) -> None:
        self.sandbox = sandbox
        self.max_workers = max_workers or machine_parallelism()
        self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="sandbox")

    @overload
    def map(
        self,
        function: Callable[[Item], Result],
        items: Iterable[Item],
        *,
        return_exceptions: Literal[False] = False,
    ) -> list[Result]: ...
    @overload
    def map(
        self, function: Callable[[Item], Result], items: Iterable[Item], *, return_exceptions: Literal[True]
    ) -> list[Result | Exception]: ...
    def map(
        self, function: Callable[[Item], Result], items: Iterable[Item], *, return_exceptions: bool = False
    ) -> list[Any]:
        """``function(item)`` for every item in parallel, e.g. compile once and run every test."""
        futures = [self._executor.submit(function, item) for item in items]
        return _collect([_outcome(future) for future in futures], return_exceptions)

    @overload
    def run_many(
        self, jobs: Iterable[Job], *, return_exceptions: Literal[False] = False
    ) -> list[ExecResult]: ...
    @overload
    def run_many(
        self, jobs: Iterable[Job], *, return_exceptions: Literal[True]
    ) -> list[ExecResult | Exception]: ...
    def run_many(self, jobs: Iterable[Job], *, return_exceptions: bool = False) -> list[Any]:
        """``Sandbox.run`` for every job in parallel."""
        futures = [self._executor.submit(self._run_job, job) for job in jobs]
        return _collect([_outcome(future) for future in futures], return_exceptions)

    @overload
    async def amap(
        self,
        function: Callable[[Item], Result],
        items: Iterable[Item],
        *,
        return_exceptions: Literal[False] = False,
    ) -> list[Result]: ...
    @overload
    async def amap(
        self, function: Callable[[Item], Result], items: Iterable[Item], *, return_exceptions: Literal[True]
    ) -> list[Result | Exception]: ...
    async def amap(
        self, function: Callable[[Item], Result], items: Iterable[Item], *, return_exceptions: bool = False
    ) -> list[Any]:
        """Async ``map``: awaits the same worker threads, so the event loop stays free."""
        loop = asyncio.get_running_loop()
        futures = [loop.run_in_executor(self._executor, function, item) for item in items]
        return _collect(await asyncio.gather(*futures, return_exceptions=True), return_exceptions)

    @overload
    async def arun_many(
        self, jobs: Iterable[Job], *, return_exceptions: Literal[False] = False
    ) -> list[ExecResult]: ...
    @overload
    async def arun_many(
        self, jobs: Iterable[Job], *, return_exceptions: Literal[True]
    ) -> list[ExecResult | Exception]: ...
    async def arun_many(self, jobs: Iterable[Job], *, return_exceptions: bool = False) -> list[Any]:
        """Async ``run_many``."""
        loop = asyncio.get_running_loop()
        futures = [loop.run_in_executor(self._executor, self._run_job, job) for job in jobs]
        return _collect(await asyncio.gather(*futures, return_exceptions=True), return_exceptions)

    def _run_job(self, job: Job) -> ExecResult:
        return self.sandbox.run(job.command, files=job.files, stdin=job.stdin, limits=job.limits)

    def close(self) -> None:
        """Wait for running jobs and stop the workers (the sandbox stays open; it is the caller's)."""
        self._executor.shutdown(wait=True)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _outcome(future: Future[Result]) -> Result | Exception:
    try:
        return future.result()
    except Exception as error:
        return error


def _collect(outcomes: Sequence[object], return_exceptions: bool) -> list[Any]:
    """Results in order; unless asked to keep them in place, the first exception is raised."""
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and (
            not return_exceptions or not isinstance(outcome, Exception)
        ):
            raise outcome  # a CancelledError or KeyboardInterrupt is never a job's result
    return list(outcomes)
