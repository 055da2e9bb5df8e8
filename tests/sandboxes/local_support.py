"""Helpers shared by the local-backend tests: building a sandbox, and finding what a run left behind."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest

from rlvr.sandboxes import Limits, SandboxUnavailable
from rlvr.sandboxes.local import LocalSandbox

REQUIRE_SANDBOX = os.environ.get("RLVR_REQUIRE_SANDBOX") == "1" or bool(os.environ.get("CI"))
"""In CI (``$CI`` set) a missing bubblewrap fails the suite instead of skipping it."""

FAST_LIMITS = Limits(timeout_s=2.0, memory_mb=128, max_processes=32, max_file_mb=16, max_disk_mb=48)


def local_sandbox(**options: Any) -> LocalSandbox:
    """A ``LocalSandbox``, or a skip (a failure under ``RLVR_REQUIRE_SANDBOX=1``) where it cannot run."""
    try:
        return LocalSandbox(**options)
    except SandboxUnavailable as error:
        if REQUIRE_SANDBOX and options.get("cgroups") is not True:
            raise
        pytest.skip(str(error))


def tagged_sandbox(**options: Any) -> tuple[LocalSandbox, str]:
    """A sandbox whose every process carries a fresh token in its environment, to find survivors by."""
    token = secrets.token_hex(8)
    return local_sandbox(env={"HOSTILE_TOKEN": token}, **options), token


def processes_carrying(token: str) -> list[int]:
    """Host pids of live (non-zombie) processes with ``HOSTILE_TOKEN=<token>`` in their environment."""
    needle = f"HOSTILE_TOKEN={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found
