"""The ``e2b`` backend: programs run in E2B cloud sandboxes (Firecracker microVMs), one per worker.

Needs the ``e2b-code-interpreter`` SDK (``pip install 'rlvr-gym[e2b]'``) and an API key in
``E2B_API_KEY``. A VM is created once, with outbound internet access turned off, and then serves
one workspace after another; while a workspace is open it has its VM to itself, so parallel workers
get a VM each. VMs live ``lifetime_s`` (E2B's own timeout); one found gone is replaced, transparently.

Each run uploads one tar (the files written since the last run, and stdin) and starts one command:
a ``/bin/sh`` wrapper, running as root in the VM, that deletes what earlier workspaces left in
``/work`` (and what uid 65534 left in ``/tmp``), unpacks the files as uid 65534, then runs the
command as uid 65534 with no way back up (``setpriv --no-new-privs``: the template's ``sudo`` does
not work for it) under ``prlimit`` (CPU seconds, file size, data segment ``memory_mb`` and address
space four times that, processes, no core dumps) and ``timeout -s KILL``. Afterwards it kills every
process of uid 65534 (``kill -9 -1`` as that uid) and reports in a trailer, as the docker backend
does (``rlvr.sandboxes.wrapper``). The program cannot signal the wrapper, which runs as root.

Differences from the local and docker backends, all from running in someone else's VM:

* memory is limited by rlimits, not a cgroup: ``memory_exceeded`` is read from a failed exit with an
  allocation-failure message (``MemoryError``, ``std::bad_alloc``...), and a runtime that reserves
  much address space up front (a JVM) may need ``-Xmx`` well below ``memory_mb``;
* output arrives as text from the SDK, so binary output comes back with replacement characters;
* ``max_disk_mb`` is not enforced beyond ``max_file_mb`` per file: the VM's disk is the limit;
* ``read_file`` goes through E2B's file API (after a check that the path is a regular file).

The VM's template (default: the code interpreter's) must have ``/bin/sh``, coreutils, ``tar`` and
util-linux (``setpriv``, ``prlimit``), as Debian-based templates do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io
import os
import secrets
import shlex
import tarfile
import threading
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from rlvr.sandboxes import wrapper
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

API_KEY_VARIABLE = "E2B_API_KEY"
RUN_UID = 65534
WORK_ROOT = "/work"
SPOOL_ROOT = "/root/rlvr-spool"
"""Where each run's upload lands: root's, so the program sees neither its stdin file nor the tar."""
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_HOST_GRACE_S = 10.0
"""How long past ``timeout_s`` the host waits for the wrapper before killing from outside (network)."""
_HELPER_TIMEOUT_S = 60.0
_NOBODY = f"setpriv --reuid={RUN_UID} --regid={RUN_UID} --clear-groups --no-new-privs"
_MEMORY_ERRORS = (
    "MemoryError",
    "std::bad_alloc",
    "OutOfMemoryError",
    "out of memory",
    "Cannot allocate memory",
    "memory allocation of",
    "failed to allocate",
)

_SETUP = f"""
set -e
for tool in setpriv prlimit timeout tar; do
    command -v "$tool" >/dev/null || {{ echo "the template lacks $tool"; exit 3; }}
done
mkdir -p {WORK_ROOT} {SPOOL_ROOT}
chown {RUN_UID}:{RUN_UID} {WORK_ROOT}
chmod 0755 {WORK_ROOT}
chmod 0700 {SPOOL_ROOT}
"""
"""Run once per VM, as root."""

_KILL_NOBODY = f"""{_NOBODY} /bin/sh -c '{wrapper.KILL_ALL}echo "$survivor"'"""
"""Every process of uid 65534 killed by a shell of that uid (root's ``kill -1`` would hit the VM's own)."""

_RUN = (
    """
dir=$1 spool=$2 wall=$3 cpu=$4 fsize=$5 data=$6 nproc=$7 marker=$8
shift 8
"""
    + wrapper.FAIL
    + f"""
for entry in {WORK_ROOT}/* {WORK_ROOT}/.[!.]* {WORK_ROOT}/..?*; do
    [ "$entry" = "$dir" ] && continue
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    rm -rf -- "$entry"
done
find /tmp /var/tmp /dev/shm -mindepth 1 -maxdepth 1 -uid {RUN_UID} -exec rm -rf -- {{}} + 2>/dev/null
mkdir -p -- "$dir" && chown {RUN_UID}:{RUN_UID} -- "$dir" && cd -- "$dir" || fail "cannot create $dir"
tar -x -C "$spool" -f "$spool/bundle.tar" || fail "cannot unpack the upload"
if [ -s "$spool/files.tar" ]; then
    {_NOBODY} tar -x -m --no-same-owner -f - < "$spool/files.tar" || fail "cannot unpack the files"
fi
read -r started _ < /proc/uptime
timeout -s KILL "$wall" prlimit --core=0 --fsize="$fsize" --cpu="$cpu:$((cpu + 1))" --data="$data" \\
    --as="$((data * 4))" --nproc="$nproc" -- {_NOBODY} -- "$@" < "$spool/stdin"
status=$?
read -r ended _ < /proc/uptime
times > "$spool/times"
survivor=$({_KILL_NOBODY})
oom_before=0 oom_after=0
"""
    + wrapper.REPORT_LINE
    + """cat "$spool/times" >&2
rm -rf -- "$spool"
"""
)
"""``sh -c _RUN rlvr-run DIR SPOOL TIMEOUT CPU_S FSIZE_BYTES DATA_BYTES NPROC MARKER ARGV...``, as root."""

_CHECK_READABLE = """
cd -- "$1" 2>/dev/null || exit 2
[ -L "$2" ] && exit 4
[ -e "$2" ] || exit 2
[ -f "$2" ] || exit 4
case $(realpath -e -- "$2") in "$1"/*) exit 0 ;; esac
exit 4
"""
"""Exit 0 for a regular file inside the workspace, 2 when missing, 4 for links and anything else."""


def _import_sdk() -> ModuleType:
    try:
        return importlib.import_module("e2b_code_interpreter")
    except ImportError as error:
        raise SandboxUnavailable(
            f"the e2b backend needs the e2b-code-interpreter package ({error}): "
            "pip install 'rlvr-gym[e2b]', or use backend='local' or 'docker'"
        ) from error


class E2BSandbox(Sandbox):
    """Runs programs in E2B cloud VMs, one per concurrent workspace, reused.

    Args:
        limits: default ``Limits`` for every run.
        api_key: the E2B API key; default ``$E2B_API_KEY``.
        template: the E2B template to start VMs from; default the code interpreter's.
        lifetime_s: how long E2B keeps a VM alive (at most what the account allows).
        reuse_sandbox: ``False`` creates a VM for every workspace and kills it afterwards.
        env: extra environment variables for every program.

    Raises:
        SandboxUnavailable: the SDK is not installed or no API key is set.
    """

    name = "e2b"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        api_key: str | None = None,
        template: str | None = None,
        lifetime_s: int = 3600,
        reuse_sandbox: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(limits)
        self._sdk = _import_sdk()
        api_key = api_key or os.environ.get(API_KEY_VARIABLE)
        if not api_key:
            raise SandboxUnavailable(
                f"the e2b backend needs an API key: set {API_KEY_VARIABLE} (from https://e2b.dev/dashboard) "
                "or pass api_key=..., or use backend='local' or 'docker'"
            )
        self._api_key = api_key
        self.template = template
        self.lifetime_s = lifetime_s
        self.reuse_sandbox = reuse_sandbox
        self.extra_env = dict(env or {})
        self._vms: LeasePool[_VM] = LeasePool("E2BSandbox", _kill_vm, reuse=reuse_sandbox)

    @property
    def sandbox_ids(self) -> list[str]:
        """Ids of the E2B sandboxes (VMs) this backend holds now."""
        return self._vms.ids

    def _new_workspace(self) -> E2BWorkspace:
        return E2BWorkspace(self)

    def close(self) -> None:
        """Kill every VM (also those of workspaces still open). Idempotent."""
        self._vms.close()

    def _lease(self) -> _VM:
        return self._vms.lease(self._start_vm)

    def _give_back(self, vm: _VM) -> None:
        self._vms.give_back(vm)

    def _discard(self, vm: _VM) -> None:
        self._vms.discard(vm)

    def _start_vm(self) -> _VM:
        sdk_sandbox = self._sdk.Sandbox
        options: dict[str, Any] = {
            "timeout": self.lifetime_s,
            "api_key": self._api_key,
            "allow_internet_access": False,
        }
        if self.template is not None:
            options["template"] = self.template
        create = getattr(sdk_sandbox, "create", None)
        if create is None or "allow_internet_access" not in inspect.signature(create).parameters:
            raise SandboxUnavailable(
                "this e2b-code-interpreter cannot start a sandbox without internet access: "
                "pip install -U 'e2b-code-interpreter>=2'"
            )
        try:
            handle = create(**options)
        except self._sdk_exception("AuthenticationException") as error:
            raise SandboxUnavailable(
                f"E2B rejected the API key ({error}): check {API_KEY_VARIABLE}"
            ) from error
        except Exception as error:
            raise SandboxError(f"E2B could not start a sandbox: {error}") from error
        vm = _VM(handle.sandbox_id, handle)
        try:
            _command(vm, _SETUP, timeout_s=_HELPER_TIMEOUT_S)
        except _CommandFailed as failure:
            _kill_vm(vm)
            raise SandboxUnavailable(
                f"the E2B template cannot run the sandbox wrapper ({failure}); use a Debian-based template"
            ) from None
        return self._vms.adopt(vm)

    def _sdk_exception(self, name: str) -> type[BaseException]:
        """An exception class of the SDK, or one that never matches where this version lacks it."""
        for module_name in ("e2b", "e2b.exceptions"):
            with contextlib.suppress(ImportError):
                found = getattr(importlib.import_module(module_name), name, None)
                if isinstance(found, type) and issubclass(found, BaseException):
                    return found
        return _NeverRaised

    def _gone(self, vm: _VM, error: BaseException) -> bool:
        """Whether ``error`` means the VM itself is gone (expired, killed), not just this command."""
        if isinstance(error, self._sdk_exception("NotFoundException")):
            return True
        try:
            return not vm.handle.is_running()
        except Exception:
            return True

    def _kill_runs(self, vm: _VM) -> None:
        """Kill every process of the run from a second command; replace the VM if that fails."""
        try:
            survivor = _command(vm, _KILL_NOBODY, timeout_s=_HELPER_TIMEOUT_S).strip()
            if survivor != "0":
                raise SandboxError(f"a process would not die: {survivor}")
        except Exception:
            self._discard(vm)

    def _program_env(self, workdir: str) -> dict[str, str]:
        return {"PATH": PATH, "HOME": workdir, "TMPDIR": "/tmp", "LANG": "C.UTF-8", **self.extra_env}


@dataclasses.dataclass
class _VM:
    id: str
    handle: Any
    """The SDK's ``Sandbox``."""
    dead: bool = False


class _NeverRaised(Exception):
    pass


class _VMGone(SandboxError):
    """The VM expired or was killed."""


class _CommandFailed(SandboxError):
    def __init__(self, exit_code: int, output: str) -> None:
        super().__init__(f"exit status {exit_code}: {output[-500:]}")
        self.exit_code = exit_code


class E2BWorkspace(Workspace):
    """A directory ``/work/<random>`` in the VM this workspace holds until it is closed.

    Files written with ``write_files`` are uploaded with the next command. If the VM is gone (it
    expired or was killed), the next command gets a fresh one, holding the files written so far
    with ``write_files`` (not what earlier commands made).
    """

    def __init__(self, sandbox: E2BSandbox) -> None:
        self._sandbox = sandbox
        self.path = f"{WORK_ROOT}/{secrets.token_hex(8)}"
        self._vm: _VM | None = sandbox._lease()
        self._written: dict[str, bytes] = {}
        self._pending: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @property
    def sandbox_id(self) -> str:
        """The id of the E2B sandbox (VM) this workspace runs in now."""
        return self._leased().id

    def write_files(self, files: Files) -> None:
        with self._lock:
            self._leased()
            for path, content in files.items():
                checked_parts(path)
                data = content.encode() if isinstance(content, str) else bytes(content)
                self._pending[path] = self._written[path] = data

    def read_file(self, path: str) -> bytes:
        parts = checked_parts(path)
        with self._lock:
            if self._pending:
                result = self._run_locked(["true"], b"", self._sandbox.default_limits)
                if not result.ok:
                    raise SandboxError(f"could not write the workspace files: {result.stderr.strip()}")
            vm = self._leased()
            check = shlex.join(["/bin/sh", "-c", _CHECK_READABLE, "rlvr-check", self.path, path])
            try:
                _command(vm, check, timeout_s=_HELPER_TIMEOUT_S)
            except _CommandFailed as failure:
                if failure.exit_code == 2:
                    raise FileNotFoundError(path) from None
                raise PermissionError(
                    f"{path!r} is a link or not a regular file; only those are read"
                ) from None
            return bytes(vm.handle.files.read("/".join([self.path, *parts]), format="bytes"))

    def run(self, command: Command, *, stdin: str | bytes = b"", limits: Limits | None = None) -> ExecResult:
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        data = stdin.encode() if isinstance(stdin, str) else bytes(stdin)
        limits = limits or self._sandbox.default_limits
        if limits.network:
            raise SandboxError(
                "the e2b backend runs every program without internet access; "
                "use backend='local' for runs that need a network"
            )
        with self._lock:
            return self._run_locked(argv, data, limits)

    def close(self) -> None:
        """Hand the VM back; the directory is deleted by the next run there. Idempotent."""
        with self._lock:
            vm, self._vm = self._vm, None
        if vm is not None:
            self._sandbox._give_back(vm)

    def _leased(self) -> _VM:
        if self._vm is None:
            raise SandboxError("this workspace is closed; open another with sandbox.open_workspace()")
        return self._vm

    def _replace_vm(self) -> None:
        self._sandbox._discard(self._leased())
        self._vm = self._sandbox._lease()
        self._pending = dict(self._written)

    def _run_locked(self, argv: list[str], stdin: bytes, limits: Limits) -> ExecResult:
        for attempt in range(2):
            try:
                return self._run_once(argv, stdin, limits)
            except _VMGone:
                self._replace_vm()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _run_once(self, argv: list[str], stdin: bytes, limits: Limits) -> ExecResult:
        sandbox, vm = self._sandbox, self._leased()
        spool = f"{SPOOL_ROOT}/{secrets.token_hex(8)}"
        upload = {"stdin": stdin}
        if self._pending:
            upload["files.tar"] = wrapper.tar_files(self._pending, RUN_UID)
        try:
            vm.handle.files.write(f"{spool}/bundle.tar", _tar_plain(upload), user="root")
        except Exception as error:
            if sandbox._gone(vm, error):
                raise _VMGone(str(error)) from error
            raise SandboxError(f"could not upload the run's files to E2B: {error}") from error
        self._pending = {}
        marker = wrapper.new_marker()
        memory = limits.memory_mb << 20
        command = shlex.join(
            [
                "/bin/sh",
                "-c",
                _RUN,
                "rlvr-run",
                self.path,
                spool,
                f"{limits.timeout_s:.3f}",
                str(wrapper.cpu_limit_s(limits)),
                str(limits.max_file_mb << 20),
                str(memory),
                str(limits.max_processes),
                marker.decode(),
                *argv,
            ]
        )
        started = time.monotonic()
        streamed = _stream_command(
            vm,
            command,
            env=sandbox._program_env(self.path),
            timeout_s=limits.timeout_s + _HOST_GRACE_S,
            stdout_cap=limits.max_output_bytes,
            stderr_cap=limits.max_output_bytes + wrapper.TRAILER_ROOM,
            timeout_error=sandbox._sdk_exception("TimeoutException"),
            exit_error=sandbox._sdk_exception("CommandExitException"),
        )
        host_wall_s = time.monotonic() - started
        if streamed.error is not None and streamed.killed_for is None and sandbox._gone(vm, streamed.error):
            raise _VMGone(str(streamed.error))
        stderr, trailer = wrapper.split_trailer(streamed.stderr, marker)
        if trailer is not None and trailer.kind == "setup":
            raise SandboxError(
                f"could not prepare the workspace: {trailer.detail} {stderr.decode(errors='replace')}"
            )
        if trailer is None or trailer.survivor:
            sandbox._kill_runs(vm)
            if vm.dead:
                stderr += b"\n[sandbox] the E2B sandbox failed during this run; a fresh one replaces it\n"
                self._vm = sandbox._lease()
                self._pending = dict(self._written)
        result = wrapper.verdict(
            stdout=streamed.stdout,
            stderr=stderr,
            trailer=trailer,
            limits=limits,
            killed_for=streamed.killed_for,
            overflow=streamed.overflow,
            host_wall_s=host_wall_s,
        )
        if result.exit_code != 0 and any(marker in result.stderr for marker in _MEMORY_ERRORS):
            result = dataclasses.replace(result, memory_exceeded=True, timed_out=False)
        return result


@dataclasses.dataclass
class _Streamed:
    stdout: bytes
    stderr: bytes
    overflow: bool
    killed_for: str | None
    error: BaseException | None


def _stream_command(
    vm: _VM,
    command: str,
    *,
    env: Mapping[str, str],
    timeout_s: float,
    stdout_cap: int,
    stderr_cap: int,
    timeout_error: type[BaseException],
    exit_error: type[BaseException],
) -> _Streamed:
    """Run ``command`` as root, keeping at most the caps of output; past a cap it is killed."""
    buffers = (bytearray(), bytearray())
    caps = (stdout_cap, stderr_cap)
    state: dict[str, Any] = {"killed_for": None, "overflow": False, "error": None}
    handle: Any = None

    def collector(index: int) -> Callable[[str], None]:
        def collect(chunk: str) -> None:
            data = chunk.encode(errors="replace")
            buffer, room = buffers[index], caps[index] - len(buffers[index])
            buffer += data[: max(room, 0)]
            if len(data) > room and not state["overflow"]:
                state["overflow"] = True
                state["killed_for"] = "output"
                with contextlib.suppress(Exception):
                    handle.kill()

        return collect

    options: dict[str, Any] = {"background": True, "user": "root", "envs": dict(env), "timeout": timeout_s}
    if "retain_output" in inspect.signature(vm.handle.commands.run).parameters:
        options["retain_output"] = False  # the callbacks keep what fits; a flood is never held
    try:
        handle = vm.handle.commands.run(command, **options)
        handle.wait(on_stdout=collector(0), on_stderr=collector(1))
    except exit_error:
        pass  # a non-zero exit of the wrapper: the output and the trailer say what happened
    except timeout_error as error:
        if state["killed_for"] is None:
            state["killed_for"] = "timeout"
        state["error"] = error
        if handle is not None:
            with contextlib.suppress(Exception):
                handle.kill()
    except Exception as error:
        state["error"] = error
    return _Streamed(
        bytes(buffers[0]), bytes(buffers[1]), state["overflow"], state["killed_for"], state["error"]
    )


def _command(vm: _VM, command: str, *, timeout_s: float) -> str:
    """Stdout of a helper command run as root; ``_CommandFailed`` on a non-zero exit."""
    try:
        result = vm.handle.commands.run(command, user="root", timeout=timeout_s)
    except Exception as error:
        exit_code = getattr(error, "exit_code", None)
        if isinstance(exit_code, int):
            raise _CommandFailed(
                exit_code, f"{getattr(error, 'stdout', '')}{getattr(error, 'stderr', '')}"
            ) from None
        raise
    return str(result.stdout)


def _tar_plain(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _kill_vm(vm: _VM) -> None:
    vm.dead = True
    with contextlib.suppress(Exception):
        vm.handle.kill()
