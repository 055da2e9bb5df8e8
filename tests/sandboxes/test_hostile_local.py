"""Hostile programs against the local backend: each is contained with the right verdict.

Every test runs twice: with rlimits only (the default, and all an unprivileged CI runner gets) and
with per-run cgroups (where this process may create them, i.e. as root on a cgroup-v1 host). After
each, no process carrying the run's token is alive, and the same sandbox still answers ``echo ok``.
"""

from __future__ import annotations

import os
import resource
import secrets
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rlvr.sandboxes import workspace_fs
from rlvr.sandboxes.local import LocalSandbox
from tests.sandboxes.local_support import FAST_LIMITS, processes_carrying, tagged_sandbox

MiB = 1 << 20


@pytest.fixture(params=["rlimits", "cgroups"])
def hostile(request: pytest.FixtureRequest) -> Iterator[tuple[LocalSandbox, str]]:
    sandbox, token = tagged_sandbox(limits=FAST_LIMITS, cgroups=request.param == "cgroups")
    yield sandbox, token


def assert_contained(sandbox: LocalSandbox, token: str) -> None:
    """Nothing of the run survives, and the sandbox serves the next request."""
    assert processes_carrying(token) == []
    after = sandbox.run("echo ok")
    assert (after.stdout, after.exit_code) == ("ok\n", 0)


def test_network_is_unreachable(hostile: tuple[LocalSandbox, str]) -> None:
    sandbox, token = hostile
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        program = (
            f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=1); print('connected')"
        )
        result = sandbox.run(["python3", "-c", program])
    assert "connected" not in result.stdout
    assert result.exit_code != 0 and "Connection refused" in result.stderr  # nothing listens in there
    assert_contained(sandbox, token)


def test_a_fork_bomb_is_contained(hostile: tuple[LocalSandbox, str]) -> None:
    sandbox, token = hostile
    bomb = (
        "import os, sys\n"
        "while True:\n"
        "    try:\n"
        "        os.fork() and sys.stdout.write('+') and sys.stdout.flush()\n"
        "    except OSError:\n"
        "        pass"
    )
    start = time.monotonic()
    result = sandbox.run(["python3", "-c", bomb], timeout_s=1.0)
    assert result.timed_out and not result.ok
    assert time.monotonic() - start < 4
    assert result.stdout.count("+") < FAST_LIMITS.max_processes  # every fork past the cap failed
    assert_contained(sandbox, token)


def test_a_memory_bomb_is_reported(hostile: tuple[LocalSandbox, str]) -> None:
    sandbox, token = hostile
    result = sandbox.run(["python3", "-c", "chunks = []\nwhile True: chunks.append(bytearray(8 << 20))"])
    assert result.memory_exceeded and not result.timed_out and not result.ok
    assert_contained(sandbox, token)


def test_a_cpu_spin_hits_the_cpu_limit(hostile: tuple[LocalSandbox, str]) -> None:
    sandbox, token = hostile
    result = sandbox.run(["python3", "-c", "while True: pass"], cpu_time_s=1, timeout_s=5)
    assert result.timed_out and result.signal in (signal.SIGXCPU, signal.SIGKILL)
    assert result.wall_time_s < 3  # the CPU limit, not the wall clock, stopped it
    assert_contained(sandbox, token)


def test_sleeping_past_the_timeout_is_killed_on_time(hostile: tuple[LocalSandbox, str]) -> None:
    sandbox, token = hostile
    result = sandbox.run("sleep 30", timeout_s=1.0)
    assert result.timed_out and result.signal == signal.SIGKILL
    assert 1.0 <= result.wall_time_s < 1.8
    assert_contained(sandbox, token)


@pytest.mark.parametrize(
    "escape",
    [
        "nohup sleep 1000 >/dev/null 2>&1 &",
        "setsid sleep 1000 &",
        "(sleep 1000 &)",
        "python3 -c 'import os, time\nif os.fork() == 0:\n os.setsid()\n os.fork() or time.sleep(1000)'",
        "exec >/dev/null 2>&1; sleep 1000 &",  # no longer holds our pipes
    ],
    ids=["nohup", "setsid", "subshell", "double-fork", "closed-stdout"],
)
def test_children_that_escape_into_the_background_do_not_survive(
    hostile: tuple[LocalSandbox, str], escape: str
) -> None:
    sandbox, token = hostile
    result = sandbox.run(f"{escape}\necho left")
    assert result.exit_code == 0 and result.wall_time_s < 1.5
    assert_contained(sandbox, token)


# The disk watcher polls every 50 ms, so how far a writer overshoots depends on the poller getting
# the CPU; on the same worker as the model tests it never races their gigabyte checkpoint writes.
@pytest.mark.xdist_group("smollm2")
def test_filling_the_disk_is_stopped(hostile: tuple[LocalSandbox, str]) -> None:
    sandbox, token = hostile
    limits = FAST_LIMITS
    with sandbox.open_workspace() as workspace:
        one_file = workspace.run("head -c 1000000000 /dev/zero > big; echo written")
        assert workspace.read_file("big") == b"\0" * (limits.max_file_mb * MiB)  # RLIMIT_FSIZE
        many_files = workspace.run("i=0; while head -c 10000000 /dev/zero > f$i; do i=$((i+1)); done")
        used = workspace_fs.disk_usage(workspace.path)
        path = workspace.path
    assert one_file.stdout == "written\n" and "File size limit exceeded" in one_file.stderr
    assert many_files.signal == signal.SIGKILL and "max_disk_mb" in many_files.stderr
    assert used < (limits.max_disk_mb + 256) * MiB  # overshoot: what one 50 ms check interval lets through
    assert not path.exists()
    tmp_fill = sandbox.run("i=0; while head -c 10000000 /dev/zero > /tmp/f$i; do i=$((i+1)); done")
    assert "No space left on device" in tmp_fill.stderr  # /tmp is a tmpfs of max_disk_mb
    assert_contained(sandbox, token)


def test_a_gigabyte_of_output_is_cut_short(hostile: tuple[LocalSandbox, str]) -> None:
    sandbox, token = hostile
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    result = sandbox.run("head -c 1000000000 /dev/zero; echo never", timeout_s=10)
    assert time.monotonic() - start < 3
    assert result.output_truncated and not result.ok and not result.timed_out
    assert len(result.stdout) == FAST_LIMITS.max_output_bytes
    peak_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert peak_growth_kib < 64 * 1024  # the flood was never held in memory
    assert_contained(sandbox, token)


def test_files_outside_the_workspace_are_invisible(hostile: tuple[LocalSandbox, str]) -> None:
    sandbox, token = hostile
    secret, name = secrets.token_hex(8), f"rlvr-hostile-{secrets.token_hex(4)}"
    host_files = [Path.home() / name, Path(tempfile.gettempdir()) / name]
    try:
        for path in host_files:
            path.write_text(secret)
        reads = " ".join(f"cat {path};" for path in host_files)
        result = sandbox.run(f"{reads} ls -a {Path.home()} /root /home; cat /etc/shadow; ls /tmp /var /run")
    finally:
        for path in host_files:
            path.unlink()
    assert secret not in result.stdout + result.stderr
    assert "No such file or directory" in result.stderr
    assert_contained(sandbox, token)


def test_writes_outside_the_workspace_fail(hostile: tuple[LocalSandbox, str]) -> None:
    sandbox, token = hostile
    victim = Path(tempfile.gettempdir()) / f"rlvr-victim-{secrets.token_hex(4)}"
    victim.write_text("original")
    try:
        result = sandbox.run(
            f"touch /usr/rlvr-hostile /etc/rlvr-hostile /rlvr-hostile /dev/rlvr-hostile; "
            f"echo pwned > {victim}; echo pwned > /tmp/{victim.name} && echo private-tmp-ok"
        )
        assert victim.read_text() == "original"
    finally:
        victim.unlink()
    assert result.stderr.count("Read-only file system") == 4
    assert "private-tmp-ok" in result.stdout  # its own /tmp, not the host's
    for path in ("/usr/rlvr-hostile", "/etc/rlvr-hostile", "/rlvr-hostile"):
        assert not Path(path).exists()
    assert_contained(sandbox, token)


def test_killing_the_parent_harms_nobody(hostile: tuple[LocalSandbox, str]) -> None:
    sandbox, token = hostile
    result = sandbox.run(f"kill -9 $PPID; kill -9 {os.getpid()}; kill -9 -1; echo still-here")
    assert "still-here" in result.stdout  # the host's pids mean nothing in there
    assert_contained(sandbox, token)
