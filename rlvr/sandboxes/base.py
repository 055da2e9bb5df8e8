"""The one interface every execution backend speaks (local namespaces, Docker, E2B).

A ``Sandbox`` opens ``Workspace``s: a private, writable directory where several commands can run in
turn (compile once, then run the binary on every test) before the directory is thrown away.
``Sandbox.run`` is the one-shot shortcut: a fresh workspace, one command, cleaned up.

Every limit is enforced by the backend, and every failure of the *program* (timeout, memory,
output flood, crash) comes back as an ``ExecResult``, never as an exception: exceptions are for a
broken *sandbox* (``SandboxUnavailable``, ``SandboxError``).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

Command = str | Sequence[str]
"""A shell string (run with ``/bin/sh -c``) or an argv list."""

Files = Mapping[str, str | bytes]
"""Relative path inside the workspace -> content."""


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the program inside it)."""


class SandboxUnavailable(SandboxError):
    """The backend cannot run here; the message says how to fix it or which backend to use."""


@dataclass(frozen=True)
class Limits:
    """Per-run resource limits. Defaults follow Agnostics / MultiPL-E judging (10 s, 512 MiB, 1 MiB)."""

    timeout_s: float = 10.0
    """Wall-clock limit; the whole process tree is killed when it passes."""
    memory_mb: int = 512
    cpu_time_s: float | None = None
    """CPU-time limit; ``None`` means the same as ``timeout_s``."""
    max_output_bytes: int = 1 << 20
    """Cap on each of stdout and stderr; more is discarded and ``output_truncated`` set."""
    max_processes: int = 64
    max_file_mb: int = 64
    """Largest file the program may write."""
    max_disk_mb: int = 256
    """Most the workspace (with its temp dir) may grow during one run; past it the run is killed."""
    network: bool = False

    def with_overrides(self, **overrides: Any) -> Limits:
        return replace(self, **{key: value for key, value in overrides.items() if value is not None})


@dataclass(frozen=True)
class ExecResult:
    """What happened to one command."""

    stdout: str
    stderr: str
    exit_code: int | None
    """``None`` when the process was killed by a signal."""
    signal: int | None = None
    timed_out: bool = False
    memory_exceeded: bool = False
    output_truncated: bool = False
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Exited normally with status 0 inside every limit."""
        return self.exit_code == 0 and not (self.timed_out or self.memory_exceeded or self.output_truncated)


class Workspace(abc.ABC):
    """A private directory inside a sandbox in which commands run one after another."""

    @abc.abstractmethod
    def write_files(self, files: Files) -> None:
        """Create or overwrite files (parents created); paths must stay inside the workspace."""

    @abc.abstractmethod
    def read_file(self, path: str) -> bytes:
        """Read a file the program wrote; ``FileNotFoundError`` if it is not there."""

    @abc.abstractmethod
    def run(self, command: Command, *, stdin: str | bytes = b"", limits: Limits | None = None) -> ExecResult:
        """Run ``command`` with the workspace as working directory; never raises for program faults."""

    @abc.abstractmethod
    def close(self) -> None:
        """Kill anything still running and delete the workspace. Idempotent."""

    async def arun(
        self, command: Command, *, stdin: str | bytes = b"", limits: Limits | None = None
    ) -> ExecResult:
        """Async ``run``: the blocking call goes to a thread, so an event loop keeps generating."""
        return await asyncio.to_thread(self.run, command, stdin=stdin, limits=limits)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Sandbox(abc.ABC):
    """An execution backend. Cheap to keep around; ``close`` releases what it holds (containers)."""

    name: str = "sandbox"

    def __init__(self, limits: Limits | None = None) -> None:
        self.default_limits = limits or Limits()

    @abc.abstractmethod
    def _new_workspace(self) -> Workspace:
        """A fresh, empty workspace (the backend's own kind)."""

    def open_workspace(self, files: Files | None = None) -> Workspace:
        """A fresh workspace holding ``files``; closed again if writing them fails."""
        workspace = self._new_workspace()
        if files:
            try:
                workspace.write_files(files)
            except BaseException:
                workspace.close()
                raise
        return workspace

    def run(
        self,
        command: Command,
        *,
        files: Files | None = None,
        stdin: str | bytes = b"",
        limits: Limits | None = None,
        **limit_overrides: Any,
    ) -> ExecResult:
        """One command in a fresh workspace that is deleted afterwards."""
        effective = (limits or self.default_limits).with_overrides(**limit_overrides)
        with self.open_workspace(files) as workspace:
            return workspace.run(command, stdin=stdin, limits=effective)

    async def arun(
        self,
        command: Command,
        *,
        files: Files | None = None,
        stdin: str | bytes = b"",
        limits: Limits | None = None,
        **limit_overrides: Any,
    ) -> ExecResult:
        return await asyncio.to_thread(
            self.run, command, files=files, stdin=stdin, limits=limits, **limit_overrides
        )

    def close(self) -> None:  # noqa: B027 - optional hook: only backends with containers need it
        """Release long-lived resources; the default backend holds none."""

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
