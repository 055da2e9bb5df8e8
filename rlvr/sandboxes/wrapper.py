"""The shell wrapper that runs a command inside a container or VM, and how its report is read back.

Backends that reach their machine through a remote exec (``docker``, ``e2b``) cannot ``wait4`` the
program themselves, so a ``/bin/sh`` script does it over there: it runs the command under rlimits and
``timeout -s KILL``, kills whatever the command left behind, and only then writes a trailer to
stderr, so the trailer is the last thing the stream carries:

    <newline>rlvr-status-<random> done STATUS OOM_BEFORE OOM_AFTER UPTIME_START UPTIME_END SURVIVOR
    <`times` of the wrapper itself>
    <`times` of its waited-for children: the command's CPU time>

(or ``... setup MESSAGE`` when the workspace could not be prepared). The host strips the trailer
off stderr and turns it into an ``ExecResult`` with the same verdicts as the local backend. A
missing trailer means the wrapper was killed, by the host (timeout, output flood) or by the
program itself.
"""

from __future__ import annotations

import io
import math
import re
import secrets
import signal
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass

from rlvr.sandboxes.base import ExecResult, Limits
from rlvr.sandboxes.workspace_fs import checked_parts

KILL_ALL = """
kill -9 -1 2>/dev/null
tries=0
while :; do
    survivor=0
    for proc in /proc/[0-9]*; do
        [ "${proc#/proc/}" = $$ ] && continue
        [ -O "$proc" ] && { survivor=${proc#/proc/}; break; }
    done
    [ "$survivor" = 0 ] && break
    tries=$((tries + 1))
    [ "$tries" -ge 20000 ] && break
    kill -9 -1 2>/dev/null
done
"""
"""Kill every process of this shell's uid but itself until ``/proc`` lists none. ``kill -1`` signals
them all in one pass under the kernel's task-list lock, so a fork bomb cannot outrun it, and only
builtins run, so it works while the process limit is exhausted. Leaves in ``$survivor`` the pid of
a process that would not die (0 when none)."""

REPORT_LINE = """
printf '\\n%s done %s %s %s %s %s %s\\n' "$marker" "$status" "$oom_before" "$oom_after" "$started" \\
    "$ended" "$survivor" >&2
"""
"""The trailer's first line, from the variables of those names (``started``/``ended`` from
``/proc/uptime``); the output of ``times`` must follow."""
REPORT = REPORT_LINE + "times >&2\n"
"""The whole trailer, when the wrapper's own children were only the command."""

FAIL = """fail() { printf '\\n%s setup %s\\n' "$marker" "$1" >&2; exit 125; }"""
"""``fail MESSAGE``: the workspace could not be prepared; the host raises ``SandboxError``."""

TRAILER_ROOM = 4096
"""Bytes of stderr to keep past ``max_output_bytes`` so that the trailer survives a full buffer."""

_SIGNAL_STATUSES = range(129, 160)
"""Exit statuses that mean "killed by signal status - 128" (sh and ``timeout`` report them so)."""
_TRAILER = re.compile(rb"(\w+) ([^\n]*)\n?(.*)", re.DOTALL)
_TIMES = re.compile(rb"(\d+)m([\d.]+)s")


@dataclass(frozen=True)
class Trailer:
    """What the wrapper reported about one command."""

    kind: str
    """``done``, or ``setup`` when the workspace could not be prepared (``detail`` says why)."""
    detail: str
    status: int = 0
    oom_killed: bool = False
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0
    survivor: bool = False
    """A process of the run would not die: the machine should be replaced."""


def new_marker() -> bytes:
    return f"rlvr-status-{secrets.token_hex(8)}".encode()


def split_trailer(stderr: bytes, marker: bytes) -> tuple[bytes, Trailer | None]:
    """The program's stderr and the wrapper's trailer (``None`` when there is none)."""
    at = stderr.rfind(b"\n" + marker + b" ")
    if at < 0:
        return stderr, None
    match = _TRAILER.match(stderr, at + len(marker) + 2)
    if match is None:
        return stderr, None
    kind, detail, rest = match.group(1).decode(), match.group(2).decode(errors="replace"), match.group(3)
    if kind != "done":
        return stderr[:at], Trailer(kind, detail)
    fields = detail.split()
    try:
        status, oom_before, oom_after = int(fields[0]), int(fields[1]), int(fields[2])
        wall_time_s = max(float(fields[4]) - float(fields[3]), 0.0)
        survivor = fields[5] != "0"
    except (IndexError, ValueError):
        return stderr, None
    times = [int(minutes) * 60 + float(seconds) for minutes, seconds in _TIMES.findall(rest)]
    cpu_time_s = sum(times[2:4])  # the second line of `times`: the waited-for children
    return stderr[:at], Trailer(
        kind, detail, status, oom_after > oom_before, wall_time_s, cpu_time_s, survivor
    )


def verdict(
    *,
    stdout: bytes,
    stderr: bytes,
    trailer: Trailer | None,
    limits: Limits,
    killed_for: str | None,
    overflow: bool,
    host_wall_s: float,
) -> ExecResult:
    """The ``ExecResult`` of a wrapped run; ``killed_for`` is why the host killed it, if it did."""
    cap = limits.max_output_bytes
    if trailer is None:  # killed from outside, or the program killed its wrapper
        exit_code, signal_number = None, int(signal.SIGKILL)
        oom_killed, wall_time_s, cpu_time_s = False, host_wall_s, 0.0
    else:
        exit_code, signal_number = trailer.status, None
        if trailer.status in _SIGNAL_STATUSES:
            exit_code, signal_number = None, trailer.status - 128
        oom_killed, wall_time_s, cpu_time_s = trailer.oom_killed, trailer.wall_time_s, trailer.cpu_time_s
    timed_out = not oom_killed and (
        killed_for == "timeout"
        or signal_number == signal.SIGXCPU
        or (
            signal_number == signal.SIGKILL
            and killed_for is None
            and (wall_time_s >= limits.timeout_s - 0.05 or cpu_time_s >= cpu_limit_s(limits))
        )
    )
    return ExecResult(
        stdout=stdout[:cap].decode(errors="replace"),
        stderr=stderr[:cap].decode(errors="replace"),
        exit_code=exit_code,
        signal=signal_number,
        timed_out=timed_out,
        memory_exceeded=oom_killed,
        output_truncated=overflow or len(stdout) > cap or len(stderr) > cap,
        wall_time_s=wall_time_s,
        cpu_time_s=cpu_time_s,
    )


def tar_files(files: Mapping[str, bytes], uid: int) -> bytes:
    """An uncompressed tar of ``files`` (workspace-relative paths, checked), owned by ``uid``."""
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for path, data in files.items():
            info = tarfile.TarInfo("/".join(checked_parts(path)))
            info.size, info.mode, info.mtime = len(data), 0o644, now
            info.uid = info.gid = uid
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def cpu_limit_s(limits: Limits) -> int:
    """Whole CPU seconds of RLIMIT_CPU: ``cpu_time_s``, or ``timeout_s`` when that is unset."""
    return math.ceil(limits.cpu_time_s if limits.cpu_time_s is not None else limits.timeout_s)
