"""The docker backend against a real daemon: I/O, files, workspaces, container reuse and replacement."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("docker", reason="the docker SDK is not installed (pip install 'rlvr-gym[docker]')")

import docker

from rlvr.sandboxes import Limits, SandboxError, SandboxUnavailable, docker_image, make_sandbox
from rlvr.sandboxes.docker_backend import DockerSandbox
from tests.sandboxes.docker_support import run_processes

LIMITS = Limits(timeout_s=5.0, memory_mb=256, max_processes=32, max_file_mb=16, max_disk_mb=64)


@pytest.fixture(scope="module")
def sandbox(docker_client: docker.DockerClient, sandbox_image: str) -> Iterator[DockerSandbox]:
    with DockerSandbox(LIMITS, image=sandbox_image, client=docker_client) as sandbox:
        yield sandbox


def test_stdout_stderr_and_exit_status_come_back(sandbox: DockerSandbox) -> None:
    result = sandbox.run("echo out; echo err >&2; exit 3")
    assert (result.stdout, result.stderr, result.exit_code, result.signal) == ("out\n", "err\n", 3, None)
    assert not result.ok and not result.timed_out and not result.memory_exceeded
    assert sandbox.run(["python3", "-c", "print('argv', 'list')"]).stdout == "argv list\n"


def test_a_signal_death_is_reported_as_the_signal(sandbox: DockerSandbox) -> None:
    result = sandbox.run("kill -TERM $$")
    assert (result.exit_code, result.signal, result.timed_out) == (None, signal.SIGTERM, False)


def test_stdin_reaches_the_program(sandbox: DockerSandbox) -> None:
    program = "import sys\nnumbers = sys.stdin.read().split()\nprint(len(numbers), sum(map(int, numbers)))"
    big = " ".join(str(i) for i in range(500_000)) + "\n"  # ~3.4 MB: more than any pipe buffer
    result = sandbox.run("python3 main.py", files={"main.py": program}, stdin=big)
    assert result.stdout == f"500000 {sum(range(500_000))}\n"
    ignored = sandbox.run("echo did not read", stdin=big)  # never reads: no deadlock, no error
    assert ignored.stdout == "did not read\n" and ignored.ok
    assert sandbox.run("cat", stdin="").stdout == ""  # stdin is closed, not left open


def test_files_are_written_and_read_back(sandbox: DockerSandbox) -> None:
    binary = bytes(range(256)) * 4
    with sandbox.open_workspace({"main.py": "print('hi')", "data/deep/blob.bin": binary}) as workspace:
        assert workspace.read_file("data/deep/blob.bin") == binary
        result = workspace.run("python3 main.py > out.txt; ln -s /etc/passwd link; mkfifo fifo; pwd; id -u")
        assert workspace.read_file("out.txt") == b"hi\n"
        directory, uid = result.stdout.split()
        assert directory.startswith("/work/") and uid == "65534"
        with pytest.raises(FileNotFoundError):
            workspace.read_file("missing.txt")
        for planted in ("link", "fifo", "data"):
            with pytest.raises(PermissionError):
                workspace.read_file(planted)
        for escape in ("../etc/passwd", "/etc/passwd", ""):
            with pytest.raises(ValueError, match="relative path"):
                workspace.read_file(escape)
            with pytest.raises(ValueError, match="relative path"):
                workspace.write_files({escape: "x"})


def test_a_workspace_keeps_its_files_between_commands(sandbox: DockerSandbox) -> None:
    with sandbox.open_workspace({"main.c": "source"}) as workspace:
        compiled = workspace.run("cp main.c main && chmod +x main && echo built")
        workspace.write_files({"input.txt": "42"})
        listed = workspace.run("ls; cat input.txt")
    assert compiled.stdout == "built\n"
    assert listed.stdout.split() == ["input.txt", "main", "main.c", "42"]


def test_runs_do_not_see_each_others_files(sandbox: DockerSandbox) -> None:
    sandbox.run("echo secret > left-behind; echo secret > /tmp/left-behind", files={"a": "1"})
    result = sandbox.run("ls -A /work /tmp /dev/shm")
    assert "left-behind" not in result.stdout and result.exit_code == 0


def test_one_container_serves_run_after_run(
    sandbox: DockerSandbox, docker_client: docker.DockerClient
) -> None:
    sandbox.run("true")
    before = sandbox.container_ids
    for _ in range(5):
        assert sandbox.run("echo again").stdout == "again\n"
    assert sandbox.container_ids == before and len(before) == 1
    assert run_processes(docker_client, before[0]) == []


def test_parallel_workspaces_get_a_container_each_and_give_it_back(sandbox: DockerSandbox) -> None:
    with sandbox.open_workspace() as first, sandbox.open_workspace() as second:
        assert first.container_id != second.container_id
        leased = {first.container_id, second.container_id}
    assert set(sandbox.container_ids) >= leased
    with sandbox.open_workspace() as third:
        assert third.container_id in leased


def test_a_container_that_died_is_replaced(
    sandbox: DockerSandbox, docker_client: docker.DockerClient
) -> None:
    with sandbox.open_workspace({"kept.txt": "written by the host"}) as workspace:
        assert workspace.run("echo made-by-a-run > made.txt").ok
        old = workspace.container_id
        docker_client.api.kill(old)
        result = workspace.run("ls; cat kept.txt")
        assert workspace.container_id != old
    assert result.stdout == "kept.txt\nwritten by the host"  # made.txt died with the container
    assert old not in sandbox.container_ids
    assert sandbox.run("echo ok").stdout == "ok\n"


def test_a_container_killed_during_a_run_is_reported_and_replaced(
    sandbox: DockerSandbox, docker_client: docker.DockerClient
) -> None:
    with sandbox.open_workspace() as workspace:
        old = workspace.container_id
        threading.Timer(0.5, docker_client.api.kill, [old]).start()
        result = workspace.run("sleep 3; echo never")
        assert result.signal == signal.SIGKILL and "never" not in result.stdout
        assert "container was lost" in result.stderr and not result.timed_out
        assert workspace.run("echo ok").stdout == "ok\n" and workspace.container_id != old


def test_limits_are_applied_per_run(sandbox: DockerSandbox) -> None:
    hog = ["python3", "-c", "block = bytearray(160 << 20); print('allocated')"]
    with sandbox.open_workspace() as workspace:
        small = workspace.run(hog, limits=LIMITS.with_overrides(memory_mb=96))
        large = workspace.run(hog, limits=LIMITS.with_overrides(memory_mb=400))
        again = workspace.run(hog, limits=LIMITS.with_overrides(memory_mb=96))
    assert small.memory_exceeded and not small.ok
    assert large.stdout == "allocated\n" and large.ok
    assert again.memory_exceeded


def test_async_runs_overlap(sandbox: DockerSandbox) -> None:
    async def both() -> list[str]:
        results = await asyncio.gather(sandbox.arun("sleep 1; echo a"), sandbox.arun("sleep 1; echo b"))
        return [result.stdout for result in results]

    start = time.monotonic()
    assert asyncio.run(both()) == ["a\n", "b\n"]
    assert time.monotonic() - start < 1.9


def test_runs_that_want_the_network_are_refused(sandbox: DockerSandbox) -> None:
    with pytest.raises(SandboxError, match="network"):
        sandbox.run("true", network=True)


def test_a_container_per_run_when_asked(docker_client: docker.DockerClient, sandbox_image: str) -> None:
    with DockerSandbox(LIMITS, image=sandbox_image, client=docker_client, reuse_container=False) as sandbox:
        seen = set()
        for _ in range(2):
            with sandbox.open_workspace() as workspace:
                assert workspace.run("echo fresh").stdout == "fresh\n"
                seen.add(workspace.container_id)
            assert sandbox.container_ids == []
    assert len(seen) == 2
    for container_id in seen:
        with pytest.raises(docker.errors.NotFound):
            docker_client.api.inspect_container(container_id)


def test_close_removes_every_container(docker_client: docker.DockerClient, sandbox_image: str) -> None:
    sandbox = DockerSandbox(LIMITS, image=sandbox_image, client=docker_client)
    open_workspace = sandbox.open_workspace()
    sandbox.run("true")
    held = sandbox.container_ids
    sandbox.close()
    assert len(held) == 2 and sandbox.container_ids == []
    for container_id in held:
        with pytest.raises(docker.errors.NotFound):
            docker_client.api.inspect_container(container_id)
    with pytest.raises(SandboxError, match="closed"):
        sandbox.run("true")
    open_workspace.close()


def test_make_sandbox_builds_the_docker_backend(
    docker_client: docker.DockerClient, sandbox_image: str
) -> None:
    with make_sandbox("docker", limits=LIMITS) as sandbox:
        assert isinstance(sandbox, DockerSandbox) and sandbox.image == sandbox_image
        assert sandbox.run("echo ok").stdout == "ok\n"


def test_a_missing_image_says_how_to_build_it(docker_client: docker.DockerClient) -> None:
    with pytest.raises(SandboxUnavailable, match=r"python -m rlvr\.sandboxes\.docker_image gcc"):
        DockerSandbox(packages=["gcc", "no-such-package-xyz"], client=docker_client)


def test_an_unreachable_daemon_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(SandboxUnavailable, match=r"cannot reach the Docker daemon.*backend='local'"):
        DockerSandbox()


def test_image_names_depend_on_what_goes_in() -> None:
    assert docker_image.image_name(["b", "a"]) == docker_image.image_name(["a", "b", "a"])
    assert docker_image.image_name(["a"]) != docker_image.image_name(["a"], run=["echo hi"])
    assert docker_image.default_image().startswith("rlvr-sandbox:bookworm-")
    with pytest.raises(ValueError, match="package name"):
        docker_image.build_image(["gcc; rm -rf /"])
