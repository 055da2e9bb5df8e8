"""The default backend: every run in a private temp dir, inside bubblewrap, under rlimits.

What a run gets (``isolation="bwrap"``, the default):

* new user, pid, network, ipc, uts, cgroup and mount namespaces (see ``rlvr.sandboxes.bubblewrap``):
  no network, the system read-only, only the workspace (``/work``, also ``$HOME``) and a fresh
  ``/tmp`` writable, no host home directory or other process in sight;
* uid 65534 inside; when the caller is root it is also uid 65534 on the host, because the kernel
  exempts root from RLIMIT_NPROC and root could read what the sandbox hides;
* rlimits set by ``prlimit`` as the last step before the program: CPU seconds (``cpu_time_s``,
  default ``timeout_s``), file size (``max_file_mb``), processes (``max_processes``, counted inside
  the run's own user namespace, so parallel runs do not share the count), no core dumps, and
  memory: RLIMIT_DATA = ``memory_mb`` (heap and private mappings, which is what programs allocate)
  with RLIMIT_AS at four times that as a backstop for shared mappings. A JVM needs its heap, class
  space and code cache sized to fit (``-Xmx``...), as ``languages/java.yaml`` does;
* optionally (``cgroups=True``, where the cgroup-v1 ``memory`` and ``pids`` hierarchies are writable,
  usually as root; see ``rlvr.sandboxes.cgroups``) a per-run memory cgroup instead of the memory
  rlimits: it counts memory really used, so runtimes that reserve large address ranges start
  unchanged, and the kernel reports an overrun exactly. It is not the default because moving the
  run into fresh cgroups waits for an RCU grace period: about 10 ms per run on cgroup v1, which
  would make a trivial judged program a third slower;
* the wall clock: past ``timeout_s`` the whole tree is SIGKILLed (the pid namespace, and the cgroup
  where there is one) and ``timed_out`` is set, as it is for a CPU-limit kill;
* output: each of stdout and stderr is capped at ``max_output_bytes``; past it the tree is killed and
  ``output_truncated`` set;
* disk: the workspace may grow by ``max_disk_mb`` per run (checked up to twenty times a second;
  past it the tree is killed and stderr says why), ``/tmp`` is a tmpfs of that size, ``/dev/shm`` a smaller
  one, and no file may exceed ``max_file_mb``;
* afterwards nothing of the run is left: ``run`` returns only once the pid namespace is gone (and
  the cgroup emptied and removed).

``isolation="none"`` keeps the rlimits and the kill of the process group, uses per-run cgroups where
writable (there they are the one sure way to find every process the run started) and otherwise
kills every process still carrying the run's marker in its environment; see ``LocalSandbox``.

Verdicts: ``memory_exceeded`` comes from the cgroup's OOM-kill counter or, under rlimits, from a
failed exit with an allocation-failure message (``MemoryError``, ``std::bad_alloc``,
``OutOfMemoryError``, ``out of memory``...) or a peak RSS near the limit. Exit statuses 129-159 are
reported as the signal they encode (bwrap and shells report a signal death that way): ``exit_code``
is ``None`` and ``signal`` is set.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import resource
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from rlvr.sandboxes import bubblewrap, workspace_fs
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
from rlvr.sandboxes.cgroups import CgroupParents, RunCgroup, find_cgroup_parents
from rlvr.sandboxes.supervise import Outcome, Watchdog, supervise

Isolation = Literal["bwrap", "none"]

RUN_MARKER = "RLVR_SANDBOX_RUN"
"""Environment variable naming the run in each of its processes, so leftovers can be found."""

_MEMORY_ERRORS = (
    b"MemoryError",
    b"std::bad_alloc",
    b"OutOfMemoryError",
    b"out of memory",
    b"Cannot allocate memory",
    b"memory allocation of",
    b"failed to allocate",
)
_SIGNAL_STATUSES = range(129, 160)
"""Exit statuses that mean "killed by signal status - 128" (bwrap, sh and docker report them so)."""
_DISK_CHECK_S = 0.05
_JOIN_CGROUPS = (
    'while [ "$1" != -- ]; do echo $$ > "$1" || { echo "$0: cannot join $1" >&2; exit 125; }; shift; done;'
    ' shift; exec "$@"'
)
"""The run's first process moves itself into its cgroups before exec, so no child is born outside."""

_cache_lock = threading.Lock()
_probed: dict[tuple[str, int | None, str | None], str | None] = {}
_etc_snapshots: dict[tuple[str | None, tuple[str, ...]], Path] = {}


class LocalSandbox(Sandbox):
    """Runs programs on this machine, each in a fresh temp dir inside bubblewrap. The default backend.

    Args:
        limits: default ``Limits`` for every run.
        isolation: ``"bwrap"`` (default) for the namespaces described in the module docstring.
            ``"none"`` runs the program as a plain child process with the same rlimits, cgroups and
            process-group kill, but it CAN READ EVERYTHING THE RUNNING USER CAN, USE THE NETWORK,
            SIGNAL THE USER'S OTHER PROCESSES (``kill -9 -1`` takes your session down) and escape the
            final kill by leaving its session and scrubbing its environment. Use it only for
            trusted code on machines without user namespaces.
        cgroups: ``True`` limits memory with a per-run cgroup instead of rlimits (see the module
            docstring; ``SandboxUnavailable`` where cgroups are not writable), ``False`` never uses
            them, ``None`` (default) uses them only unisolated, and only where writable.
        run_as: host uid (and gid) to run as; default 65534 when started as root, else unchanged.
        extra_ro_paths: more host paths to show read-only at the same place (a toolchain in ``/nix``).
        env: extra environment variables for every program (``PATH``, ``HOME``, ``TMPDIR``, ``LANG``
            are set already).
        temp_dir: where workspaces are created (default: ``tempfile.gettempdir()``); must be
            reachable by ``run_as``.

    Raises:
        SandboxUnavailable: bubblewrap or user namespaces are missing (the message says how to fix
            it), or ``prlimit`` is.
    """

    name = "local"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        isolation: Isolation = "bwrap",
        cgroups: bool | None = None,
        run_as: int | None = None,
        extra_ro_paths: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        temp_dir: str | None = None,
    ) -> None:
        super().__init__(limits)
        if isolation not in ("bwrap", "none"):
            raise ValueError(f"isolation must be 'bwrap' or 'none', not {isolation!r}")
        self.isolation: Isolation = isolation
        if run_as is None and os.geteuid() == 0:
            run_as = bubblewrap.SANDBOX_UID
        self.run_as = None if run_as == os.geteuid() else run_as
        self.temp_dir = temp_dir
        self.extra_env = dict(env or {})
        prlimit = shutil.which("prlimit", path=bubblewrap.SYSTEM_PATH)
        if prlimit is None:
            raise SandboxUnavailable("prlimit not found: apt-get install util-linux")
        self._prlimit = prlimit
        self._cgroups = _choose_cgroups(cgroups, isolation)
        self._bwrap = ""
        self._mounts: list[str] = []
        self._etc_dir = Path()
        if isolation == "bwrap":
            self._bwrap = bubblewrap.find_bwrap()
            self._mounts = bubblewrap.system_mounts(extra_ro_paths)
            self._etc_dir = _etc_snapshot(temp_dir, tuple(extra_ro_paths))
            self._probe()

    @property
    def uses_cgroups(self) -> bool:
        """Whether runs get a cgroup (memory counted as used) rather than address-space rlimits."""
        return self._cgroups is not None

    def _new_workspace(self) -> LocalWorkspace:
        return LocalWorkspace(self)

    def _probe(self) -> None:
        """Start one empty sandbox (once per process and configuration) so failures surface here."""
        key = (self._bwrap, self.run_as, self.temp_dir)
        with _cache_lock:
            if key not in _probed:
                _probed[key] = self._probe_error()
            error = _probed[key]
        if error is not None:
            raise SandboxUnavailable(error)

    def _probe_error(self) -> str | None:
        with LocalWorkspace(self) as workspace:
            argv = [*self._bwrap_argv(workspace, Limits(), run_id="probe"), "/bin/true"]
            try:
                probe = subprocess.run(
                    argv,
                    capture_output=True,
                    timeout=30,
                    env={"PATH": bubblewrap.SYSTEM_PATH},
                    user=self.run_as,
                    group=self.run_as,
                    extra_groups=[] if self.run_as is not None else None,
                )
            except subprocess.TimeoutExpired:
                return "bubblewrap did not start a sandbox within 30 s; use backend='docker'"
            except OSError as error:
                return f"bubblewrap could not be started ({error}): {bubblewrap.INSTALL_HINT}"
        if probe.returncode == 0:
            return None
        detail = probe.stderr.decode(errors="replace").strip() or f"exit status {probe.returncode}"
        if "namespace" in detail or "uid map" in detail or "Operation not permitted" in detail:
            return f"bubblewrap cannot create a sandbox ({detail}): {bubblewrap.USERNS_HINT}"
        if "Permission denied" in detail:
            return (
                f"bubblewrap cannot reach the workspace ({detail}): pass temp_dir= a directory that "
                f"uid {self.run_as} can enter, or use backend='docker'"
            )
        return f"bubblewrap failed ({detail}); use backend='docker', or isolation='none' without isolation"

    def _bwrap_argv(self, workspace: LocalWorkspace, limits: Limits, run_id: str) -> list[str]:
        return bubblewrap.bwrap_argv(
            self._bwrap,
            mounts=self._mounts,
            work_dir=workspace.path,
            etc_dir=self._etc_dir,
            env=self._program_env(bubblewrap.WORK_DIR, bubblewrap.TMP_DIR, run_id),
            network=limits.network,
            shm_bytes=min(limits.memory_mb, limits.max_disk_mb) << 20,
            tmp_bytes=limits.max_disk_mb << 20,
        )

    def _program_env(self, home: str, tmp: str, run_id: str) -> dict[str, str]:
        return {
            "PATH": bubblewrap.SYSTEM_PATH,
            "HOME": home,
            "TMPDIR": tmp,
            "LANG": "C.UTF-8",
            **self.extra_env,
            RUN_MARKER: run_id,
        }

    def _rlimits(self, limits: Limits, cgroup: RunCgroup | None) -> list[str]:
        """``prlimit`` prefix; it runs inside the namespaces, so RLIMIT_NPROC counts that user only."""
        cpu_s = _cpu_limit_s(limits)
        args = [
            self._prlimit,
            f"--cpu={cpu_s}:{cpu_s + 1}",  # SIGXCPU at the limit, SIGKILL a second later
            f"--fsize={limits.max_file_mb << 20}",
            "--core=0",
        ]
        if self.isolation == "bwrap":  # the namespace's own count, plus bwrap's init
            args.append(f"--nproc={limits.max_processes + 1}")
        elif cgroup is None:  # counted per uid on the host: leave room for what that uid already runs
            args.append(f"--nproc={limits.max_processes + _count_processes_of(self.run_as or os.getuid())}")
        # (unisolated with a cgroup, pids.max caps this run alone, where RLIMIT_NPROC would count all runs)
        if cgroup is None:
            memory = limits.memory_mb << 20
            args += [f"--data={memory}", f"--as={4 * memory}"]
        return [*args, "--"]


class LocalWorkspace(Workspace):
    """A temp dir: the program's working directory and ``$HOME`` (``/work`` under bwrap).

    One directory and nothing else, because creating and deleting directories is much of a trivial
    run's cost on a disk mounted with ``discard``. Under bwrap ``/tmp`` is a fresh tmpfs per run;
    unisolated, ``$TMPDIR`` is the workspace itself.
    """

    def __init__(self, sandbox: LocalSandbox) -> None:
        self._sandbox = sandbox
        self.path = Path(tempfile.mkdtemp(prefix="rlvr-", dir=sandbox.temp_dir))
        self._remove = weakref.finalize(self, workspace_fs.remove_tree, self.path)
        if sandbox.run_as is not None:
            os.chown(self.path, sandbox.run_as, sandbox.run_as)

    def write_files(self, files: Files) -> None:
        for path, content in files.items():
            data = content.encode() if isinstance(content, str) else bytes(content)
            workspace_fs.write_file(self.path, path, data, owner=self._sandbox.run_as)

    def read_file(self, path: str) -> bytes:
        return workspace_fs.read_file(self.path, path)

    def run(self, command: Command, *, stdin: str | bytes = b"", limits: Limits | None = None) -> ExecResult:
        if not self._remove.alive:
            raise SandboxError("this workspace is closed; open another with sandbox.open_workspace()")
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        data = stdin.encode() if isinstance(stdin, str) else bytes(stdin)
        return _Run(self._sandbox, self, limits or self._sandbox.default_limits).execute(argv, data)

    def close(self) -> None:
        self._remove()


class _Run:
    """One command: its id, its cgroup, and how to kill everything it started."""

    def __init__(self, sandbox: LocalSandbox, workspace: LocalWorkspace, limits: Limits) -> None:
        self.sandbox = sandbox
        self.workspace = workspace
        self.limits = limits
        self.id = secrets.token_hex(8)
        self.bwrap = sandbox.isolation == "bwrap"
        self.cgroup: RunCgroup | None = None

    def execute(self, argv: list[str], stdin: bytes) -> ExecResult:
        limits, sandbox = self.limits, self.sandbox
        if sandbox._cgroups is not None:
            try:
                self.cgroup = RunCgroup.create(
                    sandbox._cgroups,
                    memory_bytes=limits.memory_mb << 20,
                    max_pids=limits.max_processes + 3,  # + bwrap, its init, and slack for the setup
                    owner_uid=sandbox.run_as,
                )
            except OSError as error:
                raise SandboxError(f"cannot create the run's cgroup ({error}); pass cgroups=False") from error
        oom_killed = False
        try:
            outcome = supervise(
                self.command(argv),
                stdin=stdin,
                env=self.launch_env(),
                cwd=str(self.workspace.path),
                timeout_s=limits.timeout_s,
                max_output_bytes=limits.max_output_bytes,
                kill=self.kill_tree,
                on_exit=None if self.bwrap else self.kill_leftovers,
                watchdog=_disk_watchdog(self.workspace.path, limits.max_disk_mb << 20),
                user=sandbox.run_as,
            )
        finally:
            if self.cgroup is not None:
                oom_killed = self.cgroup.oom_killed()
                self.cgroup.remove()
            if not self.bwrap and self.cgroup is None:
                _kill_marked(self.id)
        join_failure = f"rlvr-join-{self.id}: cannot join".encode()
        if (
            os.WIFEXITED(outcome.status)
            and os.WEXITSTATUS(outcome.status) == 125
            and join_failure in outcome.stderr
        ):
            raise SandboxError(
                f"the run could not enter its cgroup: {outcome.stderr.decode(errors='replace')}"
            )
        return _verdict(outcome, limits, oom_killed=oom_killed, memory_by_rlimit=self.cgroup is None)

    def command(self, argv: list[str]) -> list[str]:
        command = [*self.sandbox._rlimits(self.limits, self.cgroup), *argv]
        if self.bwrap:
            command = [*self.sandbox._bwrap_argv(self.workspace, self.limits, self.id), *command]
        if self.cgroup is not None:
            procs = [str(path) for path in self.cgroup.procs_files]
            command = ["/bin/sh", "-c", _JOIN_CGROUPS, f"rlvr-join-{self.id}", *procs, "--", *command]
        return command

    def launch_env(self) -> dict[str, str]:
        if self.bwrap:
            return {"PATH": bubblewrap.SYSTEM_PATH}  # bwrap --clearenv then sets the program's own
        workspace = str(self.workspace.path)
        return self.sandbox._program_env(workspace, workspace, self.id)

    def kill_tree(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL everything of the run; under bwrap, killing its init tears the pid namespace down."""
        if self.bwrap:
            for child in _children(process.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(child, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if not self.bwrap:
            self.kill_leftovers()

    def kill_leftovers(self) -> None:
        """Without a pid namespace: the cgroup if any, else every process still carrying the run's marker."""
        if self.cgroup is not None:
            self.cgroup.kill_all()
        else:
            _kill_marked(self.id)


def _etc_snapshot(temp_dir: str | None, extra_paths: tuple[str, ...]) -> Path:
    """The sandbox ``/etc`` copy, made once per process (copying a thousand small files is slow)."""
    key = (temp_dir, extra_paths)
    with _cache_lock:
        if key not in _etc_snapshots or not _etc_snapshots[key].is_dir():
            etc_dir = Path(tempfile.mkdtemp(prefix="rlvr-etc-", dir=temp_dir))
            atexit.register(workspace_fs.remove_tree, etc_dir)
            bubblewrap.snapshot_etc(etc_dir, extra_paths)
            _etc_snapshots[key] = etc_dir
        return _etc_snapshots[key]


def _choose_cgroups(wanted: bool | None, isolation: Isolation) -> CgroupParents | None:
    if wanted is False or (wanted is None and isolation == "bwrap"):
        return None
    parents = find_cgroup_parents()
    if parents is None and wanted:
        raise SandboxUnavailable(
            "cgroups=True but no writable cgroup-v1 memory and pids hierarchy was found below this "
            "process's cgroups: run as root on a cgroup-v1/hybrid host, or leave cgroups unset for rlimits"
        )
    return parents


def _cpu_limit_s(limits: Limits) -> int:
    return math.ceil(limits.cpu_time_s if limits.cpu_time_s is not None else limits.timeout_s)


def _verdict(outcome: Outcome, limits: Limits, *, oom_killed: bool, memory_by_rlimit: bool) -> ExecResult:
    code = os.waitstatus_to_exitcode(outcome.status)
    exit_code: int | None = code
    signal_number: int | None = None
    if code < 0:
        exit_code, signal_number = None, -code
    elif code in _SIGNAL_STATUSES:
        exit_code, signal_number = None, code - 128
    if memory_by_rlimit:
        # Linux carries the forking process's own peak RSS into the child's ru_maxrss (it survives
        # exec), so a peak no higher than ours says nothing about the program: only a larger one does.
        own_peak_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        peak_is_the_programs = outcome.max_rss_bytes > own_peak_bytes
        memory_exceeded = exit_code != 0 and (
            any(marker in outcome.stderr for marker in _MEMORY_ERRORS)
            or (peak_is_the_programs and outcome.max_rss_bytes >= 0.9 * (limits.memory_mb << 20))
        )
    else:
        memory_exceeded = oom_killed
    timed_out = not memory_exceeded and (
        outcome.killed_for == "timeout"
        or signal_number == signal.SIGXCPU
        or (signal_number == signal.SIGKILL and outcome.cpu_time_s >= _cpu_limit_s(limits))
    )
    stderr = outcome.stderr
    if outcome.killed_for == "disk":
        stderr += (
            f"\n[sandbox] killed: the workspace grew by more than max_disk_mb={limits.max_disk_mb}\n".encode()
        )
    return ExecResult(
        stdout=outcome.stdout.decode(errors="replace"),
        stderr=stderr.decode(errors="replace"),
        exit_code=exit_code,
        signal=signal_number,
        timed_out=timed_out,
        memory_exceeded=memory_exceeded,
        output_truncated=outcome.stdout_truncated or outcome.stderr_truncated,
        wall_time_s=outcome.wall_time_s,
        cpu_time_s=outcome.cpu_time_s,
    )


def _disk_watchdog(root: Path, allowed_growth: int) -> Watchdog:
    """Kill the run once the workspace holds ``allowed_growth`` bytes more than at the first check.

    The first check, 50 ms in, takes the baseline, so short runs never pay for a scan (what is
    written before it is bounded by RLIMIT_FSIZE per file and by the disk's speed). A scan that
    grows expensive (a workspace with a big build cache) is spaced out to cost under 5% of a core.
    """
    baseline: list[int] = []
    next_scan = 0.0

    def grew_too_much() -> bool:
        nonlocal next_scan
        start = time.monotonic()
        if start < next_scan:
            return False
        used = workspace_fs.disk_usage(root)
        next_scan = start + 20 * (time.monotonic() - start)
        if not baseline:
            baseline.append(used)
        return used - baseline[0] > allowed_growth

    return Watchdog(check=grew_too_much, interval_s=_DISK_CHECK_S, reason="disk")


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _kill_marked(run_id: str) -> None:
    """SIGKILL every process whose environment names this run, until none is left."""
    marker = f"{RUN_MARKER}={run_id}".encode()
    for _ in range(100):
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                environ = Path(entry.path, "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                found = True
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(entry.name), signal.SIGKILL)
        if not found:
            return


def _count_processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                count += entry.stat().st_uid == uid
    return count
