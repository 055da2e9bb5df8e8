"""A real local sandbox for the judge and env tests, or a skip where it cannot run here."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from rlvr.sandboxes import Limits, Sandbox, SandboxUnavailable, make_sandbox

FAST_LIMITS = Limits(timeout_s=2.0, memory_mb=256, max_output_bytes=1 << 16)
"""Small limits keep the failure verdicts quick: a 2 s timeout, 64 KiB of output."""


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    try:
        backend = make_sandbox("local", limits=FAST_LIMITS)
    except SandboxUnavailable as error:
        if os.environ.get("RLVR_REQUIRE_SANDBOX") == "1":
            raise
        pytest.skip(f"the local sandbox cannot run here: {error}")
    yield backend
    backend.close()


needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
