"""The local backend's contract: what a program sees, what comes back, and the pool around it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path

import pytest

from rlvr.sandboxes import Job, SandboxError, SandboxPool, SandboxUnavailable, make_sandbox
from rlvr.sandboxes.local import LocalSandbox
from tests.sandboxes.local_support import FAST_LIMITS, local_sandbox, processes_carrying, tagged_sandbox


@pytest.fixture(scope="module")
def sandbox() -> LocalSandbox:
    return local_sandbox(limits=FAST_LIMITS)


def test_stdout_stderr_and_exit_code_come_back(sandbox: LocalSandbox) -> None:
    result = sandbox.run("echo out; echo err >&2; exit 3")
    assert (result.stdout, result.stderr, result.exit_code, result.signal) == ("out\n", "err\n", 3, None)
    assert not result.ok
    assert sandbox.run("true").ok


def test_stdin_reaches_the_program(sandbox: LocalSandbox) -> None:
    program = ["python3", "-c", "import sys; print(sys.stdin.read()[::-1])"]
    assert sandbox.run(program, stdin="abc").stdout == "cba\n"
    big = b"x" * 1_000_000  # more than a pipe holds: written while the output is read
    assert sandbox.run("wc -c", stdin=big).stdout.strip() == "1000000"


def test_a_program_that_ignores_its_input_is_not_blocked_on(sandbox: LocalSandbox) -> None:
    assert sandbox.run("echo done", stdin=b"y" * 5_000_000).stdout == "done\n"


def test_argv_commands_run_without_a_shell(sandbox: LocalSandbox) -> None:
    assert sandbox.run(["echo", "$HOME", "a b"]).stdout == "$HOME a b\n"


def test_files_go_in_and_results_come_out() -> None:
    sandbox = local_sandbox(limits=FAST_LIMITS)
    with sandbox.open_workspace(
        {"src/main.py": "print(open('data.txt').read().upper())", "data.txt": b"hi"}
    ) as ws:
        result = ws.run("python3 src/main.py > out.txt")
        assert result.ok, result.stderr
        assert ws.read_file("out.txt") == b"HI\n"
        with pytest.raises(FileNotFoundError):
            ws.read_file("missing.txt")


def test_a_workspace_persists_across_runs_and_is_deleted_on_close(sandbox: LocalSandbox) -> None:
    workspace = sandbox.open_workspace({"main.c": "int main(void) { return 7; }"})
    assert workspace.run("cp main.c copy.c && echo built > state").ok
    assert workspace.run("cat state copy.c").stdout.startswith("built\nint main")
    path = workspace.path
    assert path.is_dir()
    workspace.close()
    workspace.close()  # idempotent
    assert not path.exists()
    with pytest.raises(SandboxError, match="closed"):
        workspace.run("true")


def test_one_shot_runs_leave_no_directory_behind() -> None:
    temp_dir = Path(tempfile.mkdtemp(prefix="rlvr-test-"))
    try:
        temp_dir.chmod(0o755)  # the sandbox user must reach its workspaces
        sandbox = local_sandbox(limits=FAST_LIMITS, temp_dir=str(temp_dir))
        sandbox.run("touch a b c", files={"x": "y"})
        sandbox.run("sleep 10", timeout_s=0.2)
        assert [path.name for path in temp_dir.iterdir()] == [sandbox._etc_dir.name]
    finally:
        shutil.rmtree(temp_dir)


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "a/../../escape", "", "a//b", "./a"])
def test_write_files_refuses_paths_outside_the_workspace(sandbox: LocalSandbox, path: str) -> None:
    with sandbox.open_workspace() as workspace, pytest.raises(ValueError, match="relative path"):
        workspace.write_files({path: "x"})


def test_links_planted_by_the_program_are_never_followed(sandbox: LocalSandbox, tmp_path: Path) -> None:
    host_file = tmp_path / "host.txt"
    host_file.write_text("host")
    with sandbox.open_workspace() as workspace:
        workspace.run(f"ln -s {host_file} out.txt; ln -s /etc dir; mkfifo fifo")
        with pytest.raises(PermissionError):
            workspace.read_file("out.txt")
        with pytest.raises(PermissionError):
            workspace.read_file("dir/passwd")
        with pytest.raises(PermissionError):
            workspace.read_file("fifo")  # a FIFO would block the reader forever
        workspace.write_files({"out.txt": "replaced"})
        assert workspace.read_file("out.txt") == b"replaced"
    assert host_file.read_text() == "host"


def test_the_wall_clock_limit_kills_and_says_so(sandbox: LocalSandbox) -> None:
    result = sandbox.run("echo started; sleep 10", timeout_s=0.5)
    assert result.timed_out and not result.ok
    assert result.stdout == "started\n"  # output before the kill is kept
    assert 0.5 <= result.wall_time_s < 1.5


def test_a_signal_death_is_reported_as_the_signal(sandbox: LocalSandbox) -> None:
    result = sandbox.run("kill -SEGV $$")
    assert (result.exit_code, result.signal) == (None, signal.SIGSEGV)
    assert not (result.timed_out or result.memory_exceeded)


def test_cpu_time_is_measured(sandbox: LocalSandbox) -> None:
    result = sandbox.run(
        [
            "python3",
            "-c",
            "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass",
        ]
    )
    assert result.ok
    assert 0.25 <= result.cpu_time_s <= result.wall_time_s + 0.1


def test_undecodable_output_is_replaced_not_raised(sandbox: LocalSandbox) -> None:
    assert sandbox.run("printf 'a\\377b'").stdout == "a\ufffdb"


def test_the_program_sees_a_minimal_environment(
    sandbox: LocalSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RLVR_HOST_SECRET", "leaked")
    result = sandbox.run("env; id -u; pwd")
    assert "leaked" not in result.stdout
    assert "HOME=/work\n" in result.stdout and "\n65534\n/work\n" in result.stdout


def test_network_is_there_only_when_asked_for(sandbox: LocalSandbox) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        connect = (
            f"import socket; socket.create_connection(('127.0.0.1', {server.getsockname()[1]}), timeout=2)"
        )
        assert sandbox.run(["python3", "-c", connect], network=True).ok
        assert not sandbox.run(["python3", "-c", connect]).ok


def test_async_entry_points(sandbox: LocalSandbox) -> None:
    async def main() -> list[str]:
        with sandbox.open_workspace({"a.txt": "A"}) as workspace:
            results = await asyncio.gather(sandbox.arun("echo one"), workspace.arun("cat a.txt"))
        return [result.stdout for result in results]

    assert asyncio.run(main()) == ["one\n", "A"]


def test_the_pool_keeps_input_order_and_runs_in_parallel(sandbox: LocalSandbox) -> None:
    jobs = [Job(f"sleep {0.6 - 0.1 * index}; echo {index}") for index in range(4)]
    with SandboxPool(sandbox, max_workers=4) as pool:
        start = time.monotonic()
        results = pool.run_many(jobs)
        elapsed = time.monotonic() - start
    assert [result.stdout for result in results] == ["0\n", "1\n", "2\n", "3\n"]
    assert elapsed < 1.5  # one after another would take 1.8 s plus start-up


def test_the_pool_runs_async_and_passes_files_and_stdin(sandbox: LocalSandbox) -> None:
    jobs = [Job("cat in.txt -", files={"in.txt": f"{index}:"}, stdin=str(index)) for index in range(5)]

    async def main() -> list[str]:
        with SandboxPool(sandbox) as pool:
            return [result.stdout for result in await pool.arun_many(jobs)]

    assert asyncio.run(main()) == [f"{index}:{index}" for index in range(5)]


def test_one_failing_job_never_stops_the_others(sandbox: LocalSandbox) -> None:
    finished: list[int] = []

    def job(index: int) -> int:
        if index == 1:
            raise SandboxError("broken")
        sandbox.run("true")
        finished.append(index)
        return index

    with SandboxPool(sandbox, max_workers=2) as pool:
        outcomes = pool.map(job, range(4), return_exceptions=True)
        assert outcomes[0] == 0 and outcomes[2:] == [2, 3]
        assert isinstance(outcomes[1], SandboxError)
        with pytest.raises(SandboxError, match="broken"):
            pool.map(job, range(4))
    assert sorted(finished) == [0, 0, 2, 2, 3, 3]


def test_the_pool_is_sized_to_the_machine(sandbox: LocalSandbox) -> None:
    with SandboxPool(sandbox) as pool:
        assert pool.max_workers == len(os.sched_getaffinity(0))


def test_make_sandbox_picks_backends_by_name(sandbox: LocalSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("E2B_API_KEY", raising=False)  # without a key, e2b must refuse clearly
    assert isinstance(local_sandbox_via_registry(), LocalSandbox)
    with pytest.raises(ValueError, match="unknown sandbox backend"):
        make_sandbox("nope")
    with pytest.raises(SandboxUnavailable, match="e2b"):
        make_sandbox("e2b")


def local_sandbox_via_registry() -> LocalSandbox:
    try:
        sandbox = make_sandbox("local", limits=FAST_LIMITS)
    except SandboxUnavailable as error:
        pytest.skip(str(error))
    assert isinstance(sandbox, LocalSandbox)
    return sandbox


def test_without_bubblewrap_it_refuses_and_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxUnavailable) as refusal:
        LocalSandbox()
    message = str(refusal.value)
    assert "apt-get install bubblewrap" in message and "isolation='none'" in message


def test_a_bubblewrap_that_cannot_create_namespaces_is_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with pytest.raises(SandboxUnavailable, match="user namespaces") as refusal:
        LocalSandbox(run_as=os.geteuid())
    assert "isolation='none'" in str(refusal.value)


def test_unisolated_runs_keep_limits_and_leave_nothing_behind() -> None:
    sandbox, token = tagged_sandbox(isolation="none", limits=FAST_LIMITS)
    result = sandbox.run("(setsid sleep 1000 &); nohup sleep 1001 >/dev/null 2>&1 & echo started")
    assert result.ok and result.stdout == "started\n"
    assert processes_carrying(token) == []
    assert sandbox.run("sleep 10", timeout_s=0.5).timed_out
    assert sandbox.run(["python3", "-c", "b = bytearray(1 << 30)"]).memory_exceeded
    assert processes_carrying(token) == []
