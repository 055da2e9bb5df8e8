"""Run one process to completion under a wall-clock deadline, with capped output, and reap it.

The loop multiplexes stdin, stdout, stderr and a pidfd (the process's exit) on one selector, so a
program that floods one stream while the other fills, or never reads its input, cannot deadlock us,
and no thread is spent per run. Whatever the caller's ``kill`` does, the process is reaped with
``wait4``, whose rusage gives the CPU time and peak memory of the whole waited-for tree.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

KillReason = Literal["timeout", "output", "disk"]

_READ_CHUNK = 1 << 16
_WRITE_CHUNK = 1 << 16
_EXIT_POLL_S = 0.05
"""How often the exit is polled where ``pidfd_open`` is missing (Linux < 5.3)."""
_DRAIN_GRACE_S = 1.0
"""After the exit or a kill, how long pipes may stay open before we stop reading them."""


@dataclass(frozen=True)
class Outcome:
    """What the supervised process did, before any verdict is drawn."""

    stdout: bytes
    stderr: bytes
    status: int
    """``waitpid`` status, decode with ``os.waitstatus_to_exitcode``."""
    killed_for: KillReason | None
    stdout_truncated: bool
    stderr_truncated: bool
    wall_time_s: float
    cpu_time_s: float
    max_rss_bytes: int


@dataclass(frozen=True)
class Watchdog:
    """A check run every ``interval_s`` while the process lives; returning True kills it for ``reason``."""

    check: Callable[[], bool]
    interval_s: float
    reason: KillReason


class _CappedBuffer:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.truncated = False

    def add(self, chunk: bytes) -> bool:
        """Keep what fits under the cap; True the first time something had to be dropped."""
        room = self.cap - len(self.data)
        if len(chunk) <= room:
            self.data += chunk
            return False
        self.data += chunk[: max(room, 0)]
        first_overflow = not self.truncated
        self.truncated = True
        return first_overflow


def supervise(
    argv: Sequence[str],
    *,
    stdin: bytes,
    env: Mapping[str, str],
    cwd: str,
    timeout_s: float,
    max_output_bytes: int,
    kill: Callable[[subprocess.Popen[bytes]], None],
    on_exit: Callable[[], None] | None = None,
    watchdog: Watchdog | None = None,
    user: int | None = None,
) -> Outcome:
    """Start ``argv`` in a new session and supervise it until it and its pipes are done.

    ``kill`` must kill the whole tree (the caller knows whether that is a process group, a pid
    namespace or a cgroup). ``on_exit`` runs once when the main process exits, to dispose of
    children it left behind while they may still hold the pipes. ``user`` switches the child to
    that uid (and gid) before exec, dropping supplementary groups.
    """
    start = time.monotonic()
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
        user=user,
        group=user,
        extra_groups=[] if user is not None else None,
    )
    try:
        killed_for, stdout, stderr = _pump(
            process, stdin, start + timeout_s, max_output_bytes, kill, on_exit, watchdog
        )
    except BaseException:
        kill(process)
        _reap(process)
        raise
    status, usage = _reap(process)
    return Outcome(
        stdout=bytes(stdout.data),
        stderr=bytes(stderr.data),
        status=status,
        killed_for=killed_for,
        stdout_truncated=stdout.truncated,
        stderr_truncated=stderr.truncated,
        wall_time_s=time.monotonic() - start,
        cpu_time_s=usage.ru_utime + usage.ru_stime,
        max_rss_bytes=usage.ru_maxrss * 1024,
    )


def _pump(
    process: subprocess.Popen[bytes],
    stdin: bytes,
    deadline: float,
    max_output_bytes: int,
    kill: Callable[[subprocess.Popen[bytes]], None],
    on_exit: Callable[[], None] | None,
    watchdog: Watchdog | None,
) -> tuple[KillReason | None, _CappedBuffer, _CappedBuffer]:
    assert process.stdin and process.stdout and process.stderr
    stdout, stderr = _CappedBuffer(max_output_bytes), _CappedBuffer(max_output_bytes)
    buffers = {process.stdout.fileno(): stdout, process.stderr.fileno(): stderr}
    selector = selectors.DefaultSelector()
    for fd in buffers:
        selector.register(fd, selectors.EVENT_READ)
    pending_input = memoryview(stdin)
    stdin_fd = process.stdin.fileno()
    if pending_input:
        os.set_blocking(stdin_fd, False)
        selector.register(stdin_fd, selectors.EVENT_WRITE)
    else:
        process.stdin.close()
    exit_fd = _pidfd(process.pid)
    if exit_fd is not None:
        selector.register(exit_fd, selectors.EVENT_READ)

    killed_for: KillReason | None = None
    exited = False
    stop_reading_at: float | None = None
    next_check = time.monotonic() + watchdog.interval_s if watchdog else float("inf")

    def stop(reason: KillReason) -> None:
        nonlocal killed_for, stop_reading_at
        if killed_for is None:
            killed_for = reason
            kill(process)
            stop_reading_at = time.monotonic() + _DRAIN_GRACE_S

    try:
        while not (exited and not buffers):
            now = time.monotonic()
            if now >= deadline and not exited:
                stop("timeout")
            if stop_reading_at is not None and now >= stop_reading_at:
                if not exited:
                    kill(process)
                break
            if watchdog and not exited and now >= next_check:
                next_check = now + watchdog.interval_s
                if watchdog.check():
                    stop(watchdog.reason)
            wake_at = min(deadline if killed_for is None and not exited else float("inf"), next_check)
            if stop_reading_at is not None:
                wake_at = min(wake_at, stop_reading_at)
            if exit_fd is None:
                wake_at = min(wake_at, now + _EXIT_POLL_S)
            for key, _events in selector.select(max(wake_at - now, 0.0)):
                fd = key.fd
                if fd == exit_fd:
                    selector.unregister(fd)
                    exited = True
                elif fd == stdin_fd:
                    pending_input = _feed(fd, pending_input)
                    if not pending_input:
                        selector.unregister(fd)
                        process.stdin.close()
                else:
                    chunk = os.read(fd, _READ_CHUNK)
                    if not chunk:
                        selector.unregister(fd)
                        del buffers[fd]
                    elif buffers[fd].add(chunk):
                        stop("output")
            if exit_fd is None and not exited:
                exited = _has_exited(process.pid)
            if exited and stop_reading_at is None:
                stop_reading_at = time.monotonic() + _DRAIN_GRACE_S
                if on_exit is not None:
                    on_exit()
    finally:
        selector.close()
        if exit_fd is not None:
            os.close(exit_fd)
        for stream in (process.stdin, process.stdout, process.stderr):
            with contextlib.suppress(OSError):
                stream.close()
    return killed_for, stdout, stderr


def _feed(fd: int, pending: memoryview) -> memoryview:
    """Write what the pipe takes now; the program closing its stdin early is not our error."""
    try:
        written = os.write(fd, pending[:_WRITE_CHUNK])
    except BlockingIOError:
        return pending
    except (BrokenPipeError, ConnectionResetError):
        return pending[:0]
    return pending[written:]


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _has_exited(pid: int) -> bool:
    """Exit check that leaves the zombie in place, so ``wait4`` can still collect its rusage."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def _reap(process: subprocess.Popen[bytes]) -> tuple[int, os.struct_rusage]:
    """``wait4`` the child and tell ``Popen`` it is gone, so it never waits on a recycled pid."""
    while True:
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
            break
        except InterruptedError:
            continue
    process.returncode = os.waitstatus_to_exitcode(status)
    return status, usage
