"""Hostile programs against the docker backend: each is contained with the right verdict.

One sandbox (so one container) serves the whole module, as it would serve a judge. After each
program no process of it is left, neither in the container nor on the host, and the same sandbox
still answers ``echo ok``.
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

pytest.importorskip("docker", reason="the docker SDK is not installed (pip install 'rlvr-gym[docker]')")

import docker

from rlvr.sandboxes import Limits
from rlvr.sandboxes.docker_backend import DockerSandbox
from tests.sandboxes.docker_support import run_processes
from tests.sandboxes.local_support import processes_carrying

MiB = 1 << 20
LIMITS = Limits(timeout_s=2.0, memory_mb=128, max_processes=32, max_file_mb=16, max_disk_mb=48)
TOKEN = secrets.token_hex(8)


@pytest.fixture(scope="module")
def sandbox(docker_client: docker.DockerClient, sandbox_image: str) -> Iterator[DockerSandbox]:
    with DockerSandbox(
        LIMITS, image=sandbox_image, client=docker_client, env={"HOSTILE_TOKEN": TOKEN}
    ) as sandbox:
        yield sandbox


def assert_contained(sandbox: DockerSandbox) -> None:
    """Nothing of the run survives, and the sandbox serves the next request."""
    assert processes_carrying(TOKEN) == []
    for container_id in sandbox.container_ids:
        assert run_processes(sandbox.client, container_id) == []
    after = sandbox.run("echo ok")
    assert (after.stdout, after.exit_code) == ("ok\n", 0)


def test_network_is_unreachable(sandbox: DockerSandbox) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        program = (
            "import socket\n"
            f"for address in [('127.0.0.1', {port}), ('1.1.1.1', 53)]:\n"
            "    try:\n"
            "        socket.create_connection(address, timeout=1); print('connected')\n"
            "    except OSError as error:\n"
            "        print(error)\n"
        )
        result = sandbox.run(["python3", "-c", program])
        interfaces = sandbox.run("ls /sys/class/net")
    assert "connected" not in result.stdout
    assert "Connection refused" in result.stdout  # a loopback of its own, where nothing listens
    assert "Network is unreachable" in result.stdout
    assert interfaces.stdout.split() == ["lo"]
    assert_contained(sandbox)


def test_a_fork_bomb_is_contained(sandbox: DockerSandbox) -> None:
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
    assert result.stdout.count("+") < LIMITS.max_processes  # every fork past the cap failed
    assert_contained(sandbox)


@pytest.mark.parametrize("disks", ["empty", "full"])
def test_a_memory_bomb_is_reported(sandbox: DockerSandbox, disks: str) -> None:
    sandbox.run("true")
    before = sandbox.container_ids
    fill = (
        "for d in . /tmp /dev/shm; do i=0; while head -c 8000000 /dev/zero >$d/$i; do i=$((i+1)); done; done"
    )
    bomb = "python3 -c 'chunks = []\nwhile True: chunks.append(bytearray(8 << 20))'"
    result = sandbox.run(f"{fill}; {bomb}" if disks == "full" else bomb)
    assert result.memory_exceeded and not result.timed_out and not result.ok
    assert result.signal == signal.SIGKILL
    assert (result.stderr.count("No space left on device") == 3) == (disks == "full")
    assert sandbox.container_ids == before  # the OOM killer took the program, never the init
    assert_contained(sandbox)


def test_a_cpu_spin_hits_the_cpu_limit(sandbox: DockerSandbox) -> None:
    result = sandbox.run(["python3", "-c", "while True: pass"], cpu_time_s=1, timeout_s=5)
    assert result.timed_out and result.signal in (signal.SIGXCPU, signal.SIGKILL)
    assert result.wall_time_s < 3  # the CPU limit, not the wall clock, stopped it
    assert_contained(sandbox)


def test_sleeping_past_the_timeout_is_killed_on_time(sandbox: DockerSandbox) -> None:
    start = time.monotonic()
    result = sandbox.run("sleep 30", timeout_s=1.0)
    assert result.timed_out and result.signal == signal.SIGKILL
    assert 1.0 <= result.wall_time_s < 1.8
    assert time.monotonic() - start < 2.5
    assert_contained(sandbox)


@pytest.mark.parametrize(
    "escape",
    [
        "nohup sleep 1000 >/dev/null 2>&1 &",
        "setsid sleep 1000 &",
        "(sleep 1000 &)",
        "python3 -c 'import os, time\nif os.fork() == 0:\n os.setsid()\n os.fork() or time.sleep(1000)'",
        "exec >/dev/null 2>&1; sleep 1000 &",  # no longer holds our pipes
        "sleep 1000 & echo holding-stdout",  # still holds them: the exec stream stays open
    ],
    ids=["nohup", "setsid", "subshell", "double-fork", "closed-stdout", "open-stdout"],
)
def test_children_that_escape_into_the_background_do_not_survive(sandbox: DockerSandbox, escape: str) -> None:
    result = sandbox.run(f"{escape}\necho left")
    assert result.exit_code == 0 and result.wall_time_s < 1.5 and not result.timed_out
    assert_contained(sandbox)


def test_filling_the_disk_is_stopped(sandbox: DockerSandbox) -> None:
    with sandbox.open_workspace() as workspace:
        one_file = workspace.run("head -c 1000000000 /dev/zero > big; echo written")
        assert workspace.read_file("big") == b"\0" * (LIMITS.max_file_mb * MiB)  # RLIMIT_FSIZE
        many_files = workspace.run(
            "i=0; while head -c 10000000 /dev/zero > f$i; do i=$((i+1)); done; du -sm ."
        )
    assert one_file.stdout == "written\n" and "File size limit exceeded" in one_file.stderr
    assert "No space left on device" in many_files.stderr  # /work is a tmpfs of max_disk_mb
    assert int(many_files.stdout.split()[0]) <= LIMITS.max_disk_mb
    tmp_fill = sandbox.run("i=0; while head -c 10000000 /dev/zero > /tmp/f$i; do i=$((i+1)); done")
    assert "No space left on device" in tmp_fill.stderr  # so is /tmp
    reclaimed = sandbox.run("du -sm /work /tmp")  # what closed workspaces and runs left is gone
    assert [int(line.split()[0]) for line in reclaimed.stdout.splitlines()] == [0, 0]
    assert_contained(sandbox)


def test_a_gigabyte_of_output_is_cut_short(sandbox: DockerSandbox) -> None:
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for stream in ("", ">&2"):
        start = time.monotonic()
        result = sandbox.run(f"head -c 1000000000 /dev/zero {stream}; echo never", timeout_s=10)
        assert time.monotonic() - start < 3
        assert result.output_truncated and not result.ok and not result.timed_out
        assert len(result.stdout + result.stderr) == LIMITS.max_output_bytes
    peak_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert peak_growth_kib < 64 * 1024  # the flood was never held in memory
    assert_contained(sandbox)


def test_files_outside_the_workspace_are_invisible(sandbox: DockerSandbox) -> None:
    secret, name = secrets.token_hex(8), f"rlvr-hostile-{secrets.token_hex(4)}"
    host_files = [Path.home() / name, Path(tempfile.gettempdir()) / name]
    try:
        for path in host_files:
            path.write_text(secret)
        reads = " ".join(f"cat {path};" for path in host_files)
        result = sandbox.run(
            f"{reads} ls -a {Path.home()} /root /home /tmp; cat /etc/shadow; cat /proc/1/environ; ls /var/run"
        )
    finally:
        for path in host_files:
            path.unlink()
    assert secret not in result.stdout + result.stderr
    assert "No such file or directory" in result.stderr or "Permission denied" in result.stderr
    assert "cat: /etc/shadow: Permission denied" in result.stderr
    assert_contained(sandbox)


def test_writes_outside_the_workspace_fail(sandbox: DockerSandbox) -> None:
    victim = Path(tempfile.gettempdir()) / f"rlvr-victim-{secrets.token_hex(4)}"
    victim.write_text("original")
    try:
        result = sandbox.run(
            f"touch /usr/rlvr-hostile /etc/rlvr-hostile /rlvr-hostile /var/rlvr-hostile; "
            f"touch /dev/rlvr-hostile /proc/rlvr-hostile /sys/fs/cgroup/memory/memory.limit_in_bytes; "
            f"echo pwned > {victim} && echo private-tmp-ok"
        )
        assert victim.read_text() == "original"
    finally:
        victim.unlink()
    assert result.stderr.count("Read-only file system") >= 4
    assert "private-tmp-ok" in result.stdout  # its own /tmp, not the host's
    for path in ("/usr/rlvr-hostile", "/etc/rlvr-hostile", "/rlvr-hostile", "/var/rlvr-hostile"):
        assert not Path(path).exists()
    assert_contained(sandbox)


def test_killing_the_parent_harms_nobody(sandbox: DockerSandbox) -> None:
    sandbox.run("true")
    before = sandbox.container_ids
    result = sandbox.run(f"kill -9 1; kill -9 {os.getpid()}; kill -9 -1; echo still-here")
    assert "still-here" in result.stdout  # init and the host's pids are out of reach
    assert sandbox.container_ids == before  # so the container lives on
    assert_contained(sandbox)
    orphaned = sandbox.run("kill -9 $PPID; sleep 1000")  # its supervisor gone, the run is over
    assert orphaned.signal == signal.SIGKILL and orphaned.wall_time_s < 1.5 and not orphaned.timed_out
    assert sandbox.container_ids == before
    assert_contained(sandbox)
