"""A Docker daemon and the sandbox image for the docker-backend tests, made when missing.

The tests run against a real daemon. When none answers and we are root with ``dockerd`` installed,
the first test process that needs one starts it (default socket and data root, so built images
outlive the session) and the last one out stops it again. Every step holds a file lock, because
``pytest -n auto`` runs several workers. Where Docker cannot run at all the tests skip, except under
``CI`` (or ``RLVR_REQUIRE_SANDBOX=1``), where they fail.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NoReturn

import docker
import docker.errors
import pytest

from rlvr.sandboxes import SandboxUnavailable, docker_image

REQUIRE_DOCKER = bool(os.environ.get("CI")) or os.environ.get("RLVR_REQUIRE_SANDBOX") == "1"
"""In CI a missing Docker fails the suite instead of skipping it."""

_STATE = Path(tempfile.gettempdir()) / "rlvr-test-dockerd"
_START_LOCK = _STATE.with_suffix(".lock")
_USERS_LOCK = _STATE.with_suffix(".users")
_PID_FILE = _STATE.with_suffix(".pid")
"""Holds the pid of a daemon the tests started; absent when the daemon was running before."""
_LOG_FILE = _STATE.with_suffix(".log")
_START_TIMEOUT_S = 60.0
_started: list[subprocess.Popen[bytes]] = []


def unavailable(reason: str) -> NoReturn:
    if REQUIRE_DOCKER:
        pytest.fail(f"Docker is required here (CI is set) but {reason}", pytrace=False)
    pytest.skip(reason)


def _ping() -> docker.DockerClient | None:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException:
        return None
    return client


@contextlib.contextmanager
def _locked(path: Path, mode: int = fcntl.LOCK_EX) -> Iterator[IO[str]]:
    with open(path, "a+") as handle:
        fcntl.flock(handle, mode)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def daemon() -> Iterator[docker.DockerClient]:
    """A client of a running daemon for the whole session (a generator for a session fixture)."""
    with open(_USERS_LOCK, "a+") as users:
        fcntl.flock(users, fcntl.LOCK_SH)  # held while this process uses the daemon
        try:
            with _locked(_START_LOCK):
                client = _ping() or _start_daemon()
            yield client
        finally:
            fcntl.flock(users, fcntl.LOCK_UN)
            with _locked(_START_LOCK):
                try:
                    fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody else is using it
                except BlockingIOError:
                    pass
                else:
                    _stop_daemon_we_started()


def _start_daemon() -> docker.DockerClient:
    if os.environ.get("DOCKER_HOST"):
        unavailable(f"no Docker daemon answers at DOCKER_HOST={os.environ['DOCKER_HOST']}")
    dockerd = shutil.which("dockerd") or shutil.which("dockerd", path="/usr/sbin:/usr/bin:/sbin")
    if dockerd is None:
        unavailable("no Docker daemon is running and dockerd is not installed (apt-get install docker.io)")
    if os.geteuid() != 0:
        unavailable("no Docker daemon is running, and starting dockerd needs root")
    with open(_LOG_FILE, "w") as log:
        process = subprocess.Popen(
            [dockerd], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    _started.append(process)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        client = _ping()
        if client is not None:
            _PID_FILE.write_text(str(process.pid))
            return client
        if process.poll() is not None:
            break
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    tail = "\n".join(_LOG_FILE.read_text(errors="replace").splitlines()[-15:])
    unavailable(f"dockerd did not start (log {_LOG_FILE}):\n{tail}")


def _stop_daemon_we_started() -> None:
    try:
        pid = int(_PID_FILE.read_text())
    except (OSError, ValueError):
        return  # it was running before the tests
    _PID_FILE.unlink()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _running(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it if this process started it
            time.sleep(0.1)
        if _running(pid):
            os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    """Alive and not a zombie (a daemon started by another test worker is that worker's child)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def sandbox_image(client: docker.DockerClient) -> str:
    """The default sandbox image, built the first time (a minute or two: debootstrap, apt-get)."""
    try:
        return docker_image.build_image(docker_image.DEFAULT_PACKAGES, client=client)
    except SandboxUnavailable as error:
        unavailable(f"the sandbox image cannot be built: {error}")


def run_processes(client: docker.DockerClient, container_id: str) -> list[str]:
    """Processes in the container other than its init and the init's sleep (uid 65533)."""
    listing = client.api.top(container_id, ps_args="-o pid,uid,args")
    return [" ".join(row) for row in listing["Processes"] if row[1] != "65533"]
