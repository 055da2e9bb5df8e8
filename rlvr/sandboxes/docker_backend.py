"""The ``docker`` backend: programs run in long-lived, locked-down containers, one per worker.

A container is started once and then serves one workspace after another (starting a container
per run is five times slower; see ``benchmarks/sandbox_speed.py``). While a workspace is open it has
its container to itself, so parallel workers get a container each and a run can never see or
signal another. Every container gets:

* ``network_mode="none"`` (only a loopback of its own), a read-only root file system, all
  capabilities dropped and ``no-new-privileges`` (no setuid way back up);
* a memory limit (swap included) and a process limit from the run's ``Limits``, changed with
  ``docker update`` only when a run asks for other values than the one before (a compile step
  with more memory, then the tests);
* tmpfs mounts, sized from the sandbox's default ``max_disk_mb`` when the container starts:
  ``/work`` (the workspaces) of ``max_disk_mb``, ``/tmp`` and ``/dev/shm`` of a quarter of that
  each. They are executable, so compiled programs run, and what they hold counts against the
  memory limit, as files in any tmpfs do;
* an init that is a shell loop, running as uid 65533: it reaps orphans, and a program, running as
  uid 65534 (nobody), may not signal it, so ``kill -9 -1`` cannot stop the container.

Each run is one ``docker exec`` of a ``/bin/sh`` wrapper (as nobody) that deletes what earlier
workspaces left in ``/work``, unpacks the files written since the last run (a tar read from the
head of stdin), sets the rlimits (CPU seconds, file size, no core dumps) and makes the run the
OOM killer's first choice (``oom_score_adj`` 1000, so a memory bomb never takes the init along),
runs the command under ``timeout -s KILL``, then kills every process of uid 65534 but itself
(``kill -9 -1``: the kernel signals them all at once, so a fork bomb cannot outrun it), waits until
``/proc`` shows none, empties ``/tmp`` and ``/dev/shm``, and reports the exit status, the cgroup's
OOM-kill count and the times in a trailer on stderr (``rlvr.sandboxes.wrapper``). The host reads
stdout and stderr with a cap each and a deadline; past either it kills the run from a second exec.
A container found dead (killed from outside, or its init OOM-killed) is replaced by a fresh one,
transparently.

Verdicts follow the local backend: ``memory_exceeded`` when the container's OOM-kill count rose
during the run; ``timed_out`` for a kill at the wall-clock limit or the CPU limit (SIGXCPU); exit
statuses 129-159 are reported as the signal they encode. ``max_disk_mb`` of a single run cannot
exceed the tmpfs size the container started with.

Images cannot be pulled everywhere, so the default image is built locally from Debian by
``rlvr.sandboxes.docker_image`` (pass ``build=True`` or run ``python -m rlvr.sandboxes.docker_image``).
Any image with ``/bin/sh``, coreutils and ``tar`` works.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import secrets
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors

from rlvr.sandboxes import docker_image, wrapper
from rlvr.sandboxes.base import (
    Command,
    ExecResult,
    Files,
    Limits,
    Sandbox,
    SandboxError,
    SandboxUnavailable,
    Workspace,
)
from rlvr.sandboxes.leases import LeasePool
from rlvr.sandboxes.workspace_fs import checked_parts

RUN_UID = 65534
"""Every command runs as nobody."""
INIT_UID = 65533
"""The container's init runs as another uid, so nothing a command does can signal it."""
WORK_ROOT = "/work"
PATH = "/usr/local/bin:/usr/bin:/bin"
OWNER_LABEL = "org.rlvr-gym.sandbox.owner"
"""``<hostname> <pid>`` of the process that started a container; lets a later one remove orphans."""

_PIDS_OVERHEAD = 4
"""Processes besides the program's own: init, its sleep, the wrapper and ``timeout``. (A kill exec
from the host finds no slot while a fork bomb holds them all; the container is then replaced.)"""
_HOST_GRACE_S = 3.0
"""How long past ``timeout_s`` the host waits for the wrapper's own kill before killing from outside
(the wrapper's clock starts once the exec has started, which takes longer on a loaded daemon)."""
_DRAIN_GRACE_S = 2.0
"""After a kill from outside, how long the stream may stay open before the container is replaced."""
_HELPER_TIMEOUT_S = 30.0
_KILL_POLL_S = 0.02
_READ_CHUNK = 1 << 16
_WRITE_CHUNK = 1 << 16

_INIT = 'trap "exit 0" TERM INT; while :; do sleep 86400 & wait $!; done'
"""PID 1: ``wait`` reaps every child, including the orphans the kernel hands to PID 1."""

_RUN = (
    """
dir=$1 files=$2 wall=$3 cpu=$4 fsize=$5 marker=$6
shift 6
"""
    + wrapper.FAIL
    + """
sweep() {
    keep=$1
    shift
    for entry; do
        [ "$entry" = "$keep" ] && continue
        [ -e "$entry" ] || [ -L "$entry" ] || continue
        rm -rf -- "$entry" 2>/dev/null || { chmod -R u+rwx -- "$entry" 2>/dev/null; rm -rf -- "$entry"; }
    done
}
oom_kills() {
    kills=0
    for events in /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events; do
        [ -r "$events" ] || continue
        while read -r key value; do [ "$key" = oom_kill ] && kills=$value; done < "$events"
        return 0
    done
}
sweep_temporary() { sweep "" /tmp/* /tmp/.[!.]* /tmp/..?* /dev/shm/* /dev/shm/.[!.]* /dev/shm/..?*; }
sweep "$dir" /work/* /work/.[!.]* /work/..?*
sweep_temporary
mkdir -p -- "$dir" && cd -- "$dir" || fail "cannot create the workspace $dir"
if [ "$files" -gt 0 ]; then
    head -c "$files" | tar -x -m --no-same-owner -f - || fail "cannot unpack the files (disk full?)"
fi
oom_kills
oom_before=$kills
read -r started _ < /proc/uptime
(
    ulimit -c 0 && ulimit -f "$fsize" && ulimit -S -t "$cpu" && ulimit -H -t $((cpu + 1)) || exit 125
    echo 1000 > /proc/self/oom_score_adj
    exec timeout -s KILL "$wall" "$@"
)
status=$?
read -r ended _ < /proc/uptime
"""
    + wrapper.KILL_ALL
    + """
sweep_temporary
oom_kills
oom_after=$kills
"""
    + wrapper.REPORT
)
"""The wrapper of one run: ``sh -c _RUN rlvr-run DIR TAR_BYTES TIMEOUT CPU_S FSIZE_BLOCKS MARKER ARGV...``."""

_READ = """
cd -- "$1" 2>/dev/null || exit 2
[ -L "$2" ] && exit 4
[ -e "$2" ] || exit 2
[ -f "$2" ] || exit 4
exec cat -- "$2"
"""


class DockerSandbox(Sandbox):
    """Runs programs in long-lived Docker containers, one per concurrent workspace, reused.

    Args:
        limits: default ``Limits`` for every run; ``max_disk_mb`` sizes the containers' tmpfs.
        image: the image to run; default: the locally built image holding ``packages``.
        packages: Debian packages of the default image (``docker_image.DEFAULT_PACKAGES``).
        build: build the default image when it is missing (about a minute the first time; needs
            root and ``debootstrap``) instead of raising ``SandboxUnavailable``.
        reuse_container: ``False`` starts a container for every workspace (every ``run``) and
            removes it afterwards: slow, for comparison.
        env: extra environment variables for every program.
        client: a ``docker.DockerClient``; default ``docker.from_env()``.

    Raises:
        SandboxUnavailable: the daemon is unreachable or the image is missing; the message says
            how to fix it.
    """

    name = "docker"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        image: str | None = None,
        packages: Sequence[str] | None = None,
        build: bool = False,
        reuse_container: bool = True,
        env: Mapping[str, str] | None = None,
        client: docker.DockerClient | None = None,
    ) -> None:
        super().__init__(limits)
        if image is not None and packages is not None:
            raise ValueError("pass either image= or packages=, not both")
        self.client = client or docker_image.connect()
        if image is None:
            wanted = tuple(docker_image.DEFAULT_PACKAGES if packages is None else packages)
            image = docker_image.image_name(wanted)
            if build:
                docker_image.build_image(wanted, client=self.client)
            elif not docker_image.image_exists(self.client, image):
                raise SandboxUnavailable(
                    f"docker image {image} not found: build it once with `python -m "
                    f"rlvr.sandboxes.docker_image {' '.join(wanted)}` (as root, needs debootstrap; "
                    "about a minute) or pass build=True"
                )
        elif not docker_image.image_exists(self.client, image):
            raise SandboxUnavailable(f"docker image {image} not found: `docker pull` or `docker load` it")
        self.image = image
        self.reuse_container = reuse_container
        self.extra_env = dict(env or {})
        self._containers: LeasePool[_Container] = LeasePool(
            "DockerSandbox", functools.partial(_remove_leased, self.client), reuse=reuse_container
        )
        _remove_orphans(self.client)

    @staticmethod
    def build_image(packages: Sequence[str] = docker_image.DEFAULT_PACKAGES, **options: Any) -> str:
        """Build (or find) the image holding ``packages``; see ``docker_image.build_image``."""
        return docker_image.build_image(packages, **options)

    @property
    def container_ids(self) -> list[str]:
        """Ids of the containers this sandbox holds now (leased and idle)."""
        return self._containers.ids

    def _new_workspace(self) -> DockerWorkspace:
        return DockerWorkspace(self)

    def close(self) -> None:
        """Remove every container (also those of workspaces still open). Idempotent."""
        self._containers.close()

    # Containers: leased to one workspace at a time.

    def _lease(self) -> _Container:
        return self._containers.lease(self._start_container)

    def _give_back(self, container: _Container) -> None:
        self._containers.give_back(container)

    def _discard(self, container: _Container) -> None:
        self._containers.discard(container)

    def _start_container(self) -> _Container:
        limits = self.default_limits
        memory, pids = _memory_bytes(limits), limits.max_processes + _PIDS_OVERHEAD
        api = self.client.api
        disk_kib = limits.max_disk_mb << 10
        temporary_kib = max(disk_kib // 4, 1024)
        host_config = api.create_host_config(
            network_mode="none",
            read_only=True,
            mem_limit=memory,
            memswap_limit=memory,
            pids_limit=pids,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            tmpfs={
                WORK_ROOT: f"size={disk_kib}k,exec,mode=0755,uid={RUN_UID},gid={RUN_UID}",
                "/tmp": f"size={temporary_kib}k,exec,mode=1777",
            },
            shm_size=temporary_kib << 10,
            auto_remove=True,
        )
        try:
            created = api.create_container(
                self.image,
                command=["/bin/sh", "-c", _INIT],
                user=f"{INIT_UID}:{INIT_UID}",
                working_dir=WORK_ROOT,
                hostname="sandbox",
                labels={OWNER_LABEL: _owner()},
                host_config=host_config,
            )
            api.start(created["Id"])
        except docker.errors.DockerException as error:
            raise SandboxError(f"cannot start a container from {self.image}: {error}") from error
        return self._containers.adopt(_Container(created["Id"], memory=memory, pids=pids))

    def _set_resources(self, container: _Container, limits: Limits) -> None:
        """``docker update`` the memory and process limits when they differ from the last run's."""
        memory, pids = _memory_bytes(limits), limits.max_processes + _PIDS_OVERHEAD
        if (memory, pids) == (container.memory, container.pids):
            return
        api = self.client.api
        # The SDK's update_container() cannot set PidsLimit, which the Engine API accepts here.
        update = {"Memory": memory, "MemorySwap": memory, "PidsLimit": pids}
        try:
            api._raise_for_status(
                api._post_json(api._url("/containers/{0}/update", container.id), data=update)
            )
        except docker.errors.NotFound as error:
            raise _ContainerGone from error
        except docker.errors.APIError as error:
            if _is_gone(error):
                raise _ContainerGone from error
            raise SandboxError(
                f"cannot set memory_mb={limits.memory_mb}, max_processes={limits.max_processes} on "
                f"the container ({error}); the workspace may hold more files than that much memory"
            ) from error
        container.memory, container.pids = memory, pids

    def _kill_runs(self, container: _Container) -> None:
        """Kill every process of the run from a second exec; replace the container if that fails."""
        try:
            output = _exec_simple(
                self.client, container.id, ["/bin/sh", "-c", wrapper.KILL_ALL + 'echo "$survivor"']
            )
            if output.strip() != b"0":
                raise SandboxError(f"a process would not die: {output!r}")
        except (_ContainerGone, SandboxError, docker.errors.DockerException):
            self._discard(container)

    def _program_env(self, workdir: str) -> dict[str, str]:
        return {"PATH": PATH, "HOME": workdir, "TMPDIR": "/tmp", "LANG": "C.UTF-8", **self.extra_env}


@dataclass
class _Container:
    id: str
    memory: int
    pids: int
    dead: bool = False


class _ContainerGone(SandboxError):
    """The container stopped or was removed."""


class DockerWorkspace(Workspace):
    """A directory ``/work/<random>`` in the container this workspace holds until it is closed.

    Files written with ``write_files`` are sent with the next command (or ``read_file``), in the same
    ``docker exec``, so ``sandbox.run(command, files=...)`` costs one exec. If the container dies,
    the next command gets a fresh one, holding the files written so far with ``write_files``
    (not what earlier commands made).
    """

    def __init__(self, sandbox: DockerSandbox) -> None:
        self._sandbox = sandbox
        self.path = f"{WORK_ROOT}/{secrets.token_hex(8)}"
        self._container: _Container | None = sandbox._lease()
        self._written: dict[str, bytes] = {}
        self._pending: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @property
    def container_id(self) -> str:
        """The id of the container this workspace runs in now."""
        return self._leased().id

    def write_files(self, files: Files) -> None:
        with self._lock:
            self._leased()
            for path, content in files.items():
                checked_parts(path)
                data = content.encode() if isinstance(content, str) else bytes(content)
                self._pending[path] = self._written[path] = data

    def read_file(self, path: str) -> bytes:
        checked_parts(path)
        with self._lock:
            if self._pending:
                result = self._run_locked(["true"], b"", self._sandbox.default_limits)
                if not result.ok:
                    raise SandboxError(f"could not write the workspace files: {result.stderr.strip()}")
            container = self._leased()
            try:
                return _exec_simple(
                    self._sandbox.client, container.id, ["/bin/sh", "-c", _READ, "rlvr-read", self.path, path]
                )
            except _ExecFailed as failure:
                if failure.exit_code == 2:
                    raise FileNotFoundError(path) from None
                raise PermissionError(
                    f"{path!r} is a link or not a regular file; only those are read"
                ) from None
            except _ContainerGone:
                self._replace_container()
                raise FileNotFoundError(f"{path} (the container died and was replaced)") from None

    def run(self, command: Command, *, stdin: str | bytes = b"", limits: Limits | None = None) -> ExecResult:
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        data = stdin.encode() if isinstance(stdin, str) else bytes(stdin)
        limits = limits or self._sandbox.default_limits
        if limits.network:
            raise SandboxError(
                "the docker backend runs every program without a network (network_mode='none'); "
                "use backend='local' for runs that need one"
            )
        with self._lock:
            return self._run_locked(argv, data, limits)

    def close(self) -> None:
        """Hand the container back; the directory is deleted by the next run there. Idempotent."""
        with self._lock:
            container, self._container = self._container, None
        if container is not None:
            self._sandbox._give_back(container)

    def _leased(self) -> _Container:
        if self._container is None:
            raise SandboxError("this workspace is closed; open another with sandbox.open_workspace()")
        return self._container

    def _replace_container(self) -> None:
        """The container died: get a fresh one and send it every file written so far."""
        old = self._leased()
        self._sandbox._discard(old)
        self._container = self._sandbox._lease()
        self._pending = dict(self._written)

    def _run_locked(self, argv: list[str], stdin: bytes, limits: Limits) -> ExecResult:
        for attempt in range(2):
            try:
                return self._run_once(argv, stdin, limits)
            except _ContainerGone:
                self._replace_container()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _run_once(self, argv: list[str], stdin: bytes, limits: Limits) -> ExecResult:
        sandbox, container = self._sandbox, self._leased()
        sandbox._set_resources(container, limits)
        archive = wrapper.tar_files(self._pending, RUN_UID) if self._pending else b""
        marker = wrapper.new_marker()
        cpu_s = wrapper.cpu_limit_s(limits)
        wrapped = [
            "/bin/sh",
            "-c",
            _RUN,
            "rlvr-run",
            self.path,
            str(len(archive)),
            f"{limits.timeout_s:.3f}",
            str(cpu_s),
            str(limits.max_file_mb * 2048),  # ulimit -f counts 512-byte blocks
            marker.decode(),
            *argv,
        ]
        started = time.monotonic()
        streamed = _stream_exec(
            sandbox.client,
            container.id,
            wrapped,
            stdin=archive + stdin,
            env=sandbox._program_env(self.path),
            deadline=started + limits.timeout_s + _HOST_GRACE_S,
            stdout_cap=limits.max_output_bytes,
            stderr_cap=limits.max_output_bytes + wrapper.TRAILER_ROOM,
            kill=lambda: sandbox._kill_runs(container),
        )
        host_wall_s = time.monotonic() - started
        self._pending = {}
        stderr, trailer = wrapper.split_trailer(streamed.stderr, marker)
        if trailer is not None and trailer.kind == "setup":
            raise SandboxError(
                f"could not prepare the workspace: {trailer.detail} {stderr.decode(errors='replace')}"
            )
        if trailer is None or trailer.survivor:
            if streamed.killed_for is None:
                sandbox._kill_runs(container)
            if container.dead:
                stderr += b"\n[sandbox] the container was lost during this run; a fresh one replaces it\n"
                self._container = sandbox._lease()
                self._pending = dict(self._written)
        return wrapper.verdict(
            stdout=streamed.stdout,
            stderr=stderr,
            trailer=trailer,
            limits=limits,
            killed_for=streamed.killed_for,
            overflow=streamed.stdout_overflow or streamed.stderr_overflow,
            host_wall_s=host_wall_s,
        )


# The exec stream: stdin in, multiplexed stdout/stderr out, with caps and a deadline.


@dataclass(frozen=True)
class _Streamed:
    exec_id: str
    stdout: bytes
    stderr: bytes
    stdout_overflow: bool
    stderr_overflow: bool
    killed_for: str | None


class _Demultiplexer:
    """Splits Docker's exec stream into capped buffers (8-byte frame headers: stream, 0, 0, 0, length)."""

    def __init__(self, caps: tuple[int, int]) -> None:
        self.buffers = (bytearray(), bytearray())
        self.caps = caps
        self.overflow = [False, False]
        self._pending = bytearray()
        self._stream = 0
        self._left = 0

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._left == 0:
                need = 8 - len(self._pending)
                self._pending += view[:need]
                view = view[need:]
                if len(self._pending) < 8:
                    return
                stream, self._left = struct.unpack(">BxxxL", self._pending)
                self._stream = stream if stream in (1, 2) else 0
                self._pending.clear()
                continue
            chunk, view = view[: self._left], view[self._left :]
            self._left -= len(chunk)
            if self._stream:
                index = self._stream - 1
                buffer, room = self.buffers[index], self.caps[index] - len(self.buffers[index])
                buffer += chunk[: max(room, 0)]
                if len(chunk) > room:
                    self.overflow[index] = True


def _stream_exec(
    client: docker.DockerClient,
    container_id: str,
    argv: list[str],
    *,
    stdin: bytes,
    env: Mapping[str, str],
    deadline: float,
    stdout_cap: int,
    stderr_cap: int,
    kill: Callable[[], None],
) -> _Streamed:
    """Run ``argv`` by ``docker exec``, feeding ``stdin`` and reading both streams until the exec ends.

    Past ``deadline``, or once a stream passes its cap, ``kill`` is called (once) and the stream
    read until it closes, at most ``_DRAIN_GRACE_S`` more.
    """
    api = client.api
    exec_id = _exec_create(client, container_id, argv, env=env, stdin=True)
    response = api._post_json(  # exec_start(socket=True) without losing bytes already buffered
        api._url("/exec/{0}/start", exec_id),
        headers={"Connection": "Upgrade", "Upgrade": "tcp"},
        data={"Tty": False, "Detach": False},
        stream=True,
    )
    try:
        socket_io = api._get_raw_response_socket(response)
    except docker.errors.APIError as error:
        response.close()
        raise _ContainerGone(str(error)) if _is_gone(error) else SandboxError(str(error)) from error
    raw: socket.socket = getattr(socket_io, "_sock", socket_io)
    demux = _Demultiplexer((stdout_cap, stderr_cap))
    killed_for: str | None = None
    killer: threading.Thread | None = None
    stop_at = math.inf
    selector = selectors.DefaultSelector()
    try:
        raw.setblocking(False)
        demux.feed(_read_ahead(response))
        sent = 0
        if stdin:
            selector.register(raw, selectors.EVENT_READ | selectors.EVENT_WRITE)
        else:
            raw.shutdown(socket.SHUT_WR)
            selector.register(raw, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if killed_for is None:
                killed_for = "output" if any(demux.overflow) else "timeout" if now >= deadline else None
                if killed_for is not None:
                    # Keep draining while the kill runs: the daemon does not start another exec in
                    # this container while the output of this one is backed up.
                    killer = threading.Thread(target=kill, name="sandbox-kill", daemon=True)
                    killer.start()
            elif killer is not None and not killer.is_alive() and stop_at == math.inf:
                stop_at = now + _DRAIN_GRACE_S
            if now >= stop_at:
                break
            wake = deadline if killed_for is None else min(stop_at, now + _KILL_POLL_S)
            events = selector.select(max(wake - time.monotonic(), 0))
            closed = False
            for _key, mask in events:
                if mask & selectors.EVENT_READ:
                    try:
                        chunk = raw.recv(_READ_CHUNK)
                    except (BlockingIOError, InterruptedError):
                        chunk = None
                    except OSError:
                        chunk = b""
                    if chunk == b"":
                        closed = True
                    elif chunk:
                        demux.feed(chunk)
                if mask & selectors.EVENT_WRITE and sent < len(stdin):
                    try:
                        sent += raw.send(stdin[sent : sent + _WRITE_CHUNK])
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        sent = len(stdin)  # the program is gone: nobody reads the rest
                    if sent >= len(stdin):
                        with contextlib.suppress(OSError):
                            raw.shutdown(socket.SHUT_WR)
                        selector.modify(raw, selectors.EVENT_READ)
            if closed:
                break
    finally:
        selector.close()
        response.close()
        with contextlib.suppress(OSError):
            raw.close()
        if killer is not None:
            killer.join()
    return _Streamed(
        exec_id=exec_id,
        stdout=bytes(demux.buffers[0]),
        stderr=bytes(demux.buffers[1]),
        stdout_overflow=demux.overflow[0],
        stderr_overflow=demux.overflow[1],
        killed_for=killed_for,
    )


def _read_ahead(response: Any) -> bytes:
    """Bytes of the stream that ``http.client`` buffered while it read the response headers."""
    reader = getattr(getattr(getattr(response, "raw", None), "_fp", None), "fp", None)
    if reader is None or not hasattr(reader, "peek"):
        return b""
    buffered = reader.peek()  # the socket is non-blocking: this never waits
    return reader.read(len(buffered)) if buffered else b""


class _ExecFailed(SandboxError):
    def __init__(self, exit_code: int, output: bytes) -> None:
        super().__init__(f"exit status {exit_code}: {output[-500:]!r}")
        self.exit_code = exit_code


def _exec_simple(client: docker.DockerClient, container_id: str, argv: list[str]) -> bytes:
    """Stdout of a short helper command as nobody; ``_ExecFailed`` when it exits non-zero."""
    streamed = _stream_exec(
        client,
        container_id,
        argv,
        stdin=b"",
        env={"PATH": PATH},
        deadline=time.monotonic() + _HELPER_TIMEOUT_S,
        stdout_cap=1 << 62,
        stderr_cap=1 << 16,
        kill=lambda: None,
    )
    if streamed.killed_for is not None:
        raise SandboxError(f"{argv[:3]} did not finish within {_HELPER_TIMEOUT_S} s")
    try:
        exit_code = client.api.exec_inspect(streamed.exec_id)["ExitCode"]
    except docker.errors.NotFound as error:
        raise _ContainerGone(str(error)) from error
    if exit_code != 0:
        raise _ExecFailed(exit_code, streamed.stdout + streamed.stderr)
    return streamed.stdout


def _exec_create(
    client: docker.DockerClient, container_id: str, argv: list[str], *, env: Mapping[str, str], stdin: bool
) -> str:
    try:
        created = client.api.exec_create(
            container_id, argv, stdin=stdin, user=f"{RUN_UID}:{RUN_UID}", environment=dict(env), workdir="/"
        )
    except docker.errors.NotFound as error:
        raise _ContainerGone(str(error)) from error
    except docker.errors.APIError as error:
        raise _ContainerGone(str(error)) if _is_gone(error) else SandboxError(str(error)) from error
    return created["Id"]


def _is_gone(error: docker.errors.APIError) -> bool:
    return error.status_code in (404, 409) or "is not running" in str(error)


def _memory_bytes(limits: Limits) -> int:
    return limits.memory_mb << 20


def _owner() -> str:
    return f"{socket.gethostname()} {os.getpid()}"


def _remove_container(client: docker.DockerClient, container_id: str) -> None:
    with contextlib.suppress(docker.errors.DockerException):  # auto-removal may have won the race
        client.api.remove_container(container_id, force=True)


def _remove_leased(client: docker.DockerClient, container: _Container) -> None:
    _remove_container(client, container.id)


def _remove_orphans(client: docker.DockerClient) -> None:
    """Remove containers that a process of this host started and did not live to remove."""
    hostname = socket.gethostname()
    try:
        found = client.api.containers(all=True, filters={"label": OWNER_LABEL})
    except docker.errors.DockerException:
        return
    for container in found:
        owner_host, _, owner_pid = container["Labels"].get(OWNER_LABEL, "").rpartition(" ")
        if owner_host != hostname or not owner_pid.isdigit() or _alive(int(owner_pid)):
            continue
        _remove_container(client, container["Id"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
