"""The e2b backend: its refusals everywhere, and real E2B sandboxes where ``E2B_API_KEY`` is set."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator

import pytest

from rlvr.sandboxes import Limits, SandboxError, SandboxUnavailable, make_sandbox
from rlvr.sandboxes.e2b_backend import E2BSandbox

LIMITS = Limits(timeout_s=3.0, memory_mb=256, max_processes=32, max_file_mb=16, max_disk_mb=64)
needs_key = pytest.mark.skipif(not os.environ.get("E2B_API_KEY"), reason="E2B_API_KEY not set")


def test_without_an_api_key_it_refuses_and_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("E2B_API_KEY", raising=False)
    with pytest.raises(SandboxUnavailable, match=r"E2B_API_KEY|pip install 'rlvr-gym\[e2b\]'"):
        make_sandbox("e2b")


def test_without_the_sdk_it_refuses_and_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "e2b_code_interpreter", None)  # makes the import fail
    monkeypatch.setenv("E2B_API_KEY", "not-used")
    with pytest.raises(SandboxUnavailable, match=r"pip install 'rlvr-gym\[e2b\]'"):
        make_sandbox("e2b")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[E2BSandbox]:
    with E2BSandbox(LIMITS) as sandbox:
        yield sandbox


@needs_key
def test_output_exit_status_and_stdin(sandbox: E2BSandbox) -> None:
    assert isinstance(make_sandbox("e2b"), E2BSandbox)
    result = sandbox.run("echo out; echo err >&2; exit 3")
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 3)
    program = "print(sum(map(int, input().split())))"
    assert sandbox.run("python3 main.py", files={"main.py": program}, stdin="1 2\n").stdout == "3\n"
    assert sandbox.run("id -u").stdout == "65534\n"


@needs_key
def test_a_workspace_keeps_its_files_and_its_vm(sandbox: E2BSandbox) -> None:
    with sandbox.open_workspace({"data/in.txt": "42"}) as workspace:
        first = workspace.sandbox_id
        assert workspace.run("cat data/in.txt > out.txt").ok
        assert workspace.read_file("out.txt") == b"42"
        with pytest.raises(FileNotFoundError):
            workspace.read_file("missing.txt")
        assert workspace.sandbox_id == first
    sandbox.run("true")
    assert first in sandbox.sandbox_ids


@needs_key
def test_hostile_programs_are_contained(sandbox: E2BSandbox) -> None:
    sleeper = sandbox.run("sleep 30", timeout_s=1.0)
    assert sleeper.timed_out and sleeper.signal == signal.SIGKILL
    spinner = sandbox.run(["python3", "-c", "while True: pass"], cpu_time_s=1, timeout_s=5)
    assert spinner.timed_out
    hog = sandbox.run(["python3", "-c", "chunks = []\nwhile True: chunks.append(bytearray(8 << 20))"])
    assert hog.memory_exceeded and not hog.ok
    flood = sandbox.run("head -c 100000000 /dev/zero; echo never", max_output_bytes=1000)
    assert flood.output_truncated and len(flood.stdout) <= 1000
    escaped = sandbox.run("setsid sleep 1000 & (sleep 1000 &); echo left")
    assert escaped.stdout == "left\n"
    sleepers = (
        "import pathlib\n"
        "print(sum(p.stat().st_uid == 65534 and p.read_text().strip() == 'sleep'"
        " for p in pathlib.Path('/proc').glob('[0-9]*/comm')))"
    )
    assert sandbox.run(["python3", "-c", sleepers]).stdout == "0\n"
    offline = sandbox.run(["python3", "-c", "import socket; socket.create_connection(('1.1.1.1', 53), 3)"])
    assert offline.exit_code != 0
    no_root = sandbox.run("sudo -n true")
    assert no_root.exit_code != 0
    with pytest.raises(SandboxError, match="internet"):
        sandbox.run("true", network=True)
    assert sandbox.run("echo ok").stdout == "ok\n"
