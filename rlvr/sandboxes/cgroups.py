"""Per-run cgroups (v1 ``memory`` + ``pids``): a memory limit that Java and Go tolerate, and a clean kill.

An address-space rlimit counts reserved-but-unused virtual memory, so a JVM or a Go binary can fail
to start under a limit it would never touch; a memory cgroup counts what is really used and lets
the kernel's OOM killer report the overrun (``memory.oom_control``'s ``oom_kill``). The ``pids``
controller caps the process count of the run alone (RLIMIT_NPROC counts per user) and lists every
process of the run, so nothing it started can hide from the final kill.

Used only where both v1 hierarchies are writable below our own cgroup (usually: running as root on
a cgroup-v1 or hybrid host). Elsewhere, cgroup v2 included, ``find_cgroup_parents`` returns ``None``
and the local backend falls back to rlimits. Each run gets ``rlvr-<pid>-<n>`` directories inside our
own cgroups, so the machine's accounting of this process still covers its sandboxes.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

_CONTROLLERS = ("memory", "pids")
_RUN_DIR = re.compile(r"rlvr-(\d+)-\d+")
_counter = itertools.count()


@dataclass(frozen=True)
class CgroupParents:
    """Our own cgroup directory in the ``memory`` and ``pids`` v1 hierarchies."""

    memory: Path
    pids: Path


def find_cgroup_parents() -> CgroupParents | None:
    """Where per-run cgroups can be created, or ``None`` if the v1 controllers are absent or read-only."""
    own = _own_v1_paths()
    mounts = _v1_mounts()
    parents: dict[str, Path] = {}
    for controller in _CONTROLLERS:
        if controller not in own or controller not in mounts:
            return None
        mount_root, mount_point = mounts[controller]
        relative = os.path.relpath(own[controller], mount_root)
        if relative.startswith(".."):
            return None
        parent = (mount_point / relative).resolve()
        if not os.access(parent, os.W_OK):
            return None
        parents[controller] = parent
    found = CgroupParents(memory=parents["memory"], pids=parents["pids"])
    _remove_stale(found)
    try:
        RunCgroup.create(found, memory_bytes=64 << 20, max_pids=8, owner_uid=None).remove()
    except OSError:
        return None
    return found


class RunCgroup:
    """The memory and pids cgroups of one run; ``remove`` kills what is left and deletes them."""

    def __init__(self, memory: Path, pids: Path) -> None:
        self.memory = memory
        self.pids = pids

    @classmethod
    def create(
        cls, parents: CgroupParents, *, memory_bytes: int, max_pids: int, owner_uid: int | None
    ) -> RunCgroup:
        """Make both cgroups with their limits. ``owner_uid`` may then add its own processes to them."""
        name = f"rlvr-{os.getpid()}-{next(_counter)}"
        run = cls(parents.memory / name, parents.pids / name)
        try:
            run.memory.mkdir()
            run.pids.mkdir()
            _write(run.memory / "memory.limit_in_bytes", memory_bytes)
            swap_limit = run.memory / "memory.memsw.limit_in_bytes"
            if swap_limit.exists():  # memory + swap: without it a host with swap lets the run spill there
                _write(swap_limit, memory_bytes)
            _write(run.pids / "pids.max", max_pids)
            if owner_uid is not None:
                for procs in run.procs_files:
                    os.chown(procs, owner_uid, -1)
        except OSError:
            run.remove()
            raise
        return run

    @property
    def procs_files(self) -> tuple[Path, Path]:
        """Writing a pid here moves that process (and its future children) into the run's cgroups."""
        return self.memory / "cgroup.procs", self.pids / "cgroup.procs"

    def oom_killed(self) -> bool:
        """Whether the memory limit was hit hard enough that the kernel killed a process."""
        try:
            control = (self.memory / "memory.oom_control").read_text()
        except OSError:
            return False
        match = re.search(r"^oom_kill (\d+)$", control, re.MULTILINE)
        if match:
            return int(match.group(1)) > 0
        # Kernels before 4.13 lack the counter; a failed charge is the closest sign.
        return _read_int(self.memory / "memory.failcnt") > 0

    def kill_all(self, patience_s: float = 2.0) -> None:
        """SIGKILL every process of the run until none is left (a fork racing a kill dies next round)."""
        deadline = time.monotonic() + patience_s
        while time.monotonic() < deadline:
            pids = _read_pids(self.pids / "cgroup.procs") | _read_pids(self.memory / "cgroup.procs")
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.001)

    def remove(self) -> None:
        """Kill what is left, then delete both directories (retrying while the kernel finishes exits)."""
        self.kill_all()
        for directory in (self.memory, self.pids):
            for _ in range(1000):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY: a killed process has not finished exiting yet
                    time.sleep(0.001)


def _own_v1_paths() -> dict[str, str]:
    """Controller -> our cgroup path, from ``/proc/self/cgroup`` (``id:controllers:path`` lines)."""
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _id, controllers, path = line.split(":", 2)
            for controller in controllers.split(","):
                if controller in _CONTROLLERS:
                    paths[controller] = path
    return paths


def _v1_mounts() -> dict[str, tuple[str, Path]]:
    """Controller -> (root of the hierarchy this mount shows, mount point), from ``/proc/self/mountinfo``."""
    mounts: dict[str, tuple[str, Path]] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split()
            separator = fields.index("-")
            fs_type, super_options = fields[separator + 1], fields[separator + 3]
            if fs_type != "cgroup":
                continue
            for controller in set(super_options.split(",")) & set(_CONTROLLERS):
                mounts.setdefault(controller, (fields[3], Path(fields[4])))
    return mounts


def _remove_stale(parents: CgroupParents) -> None:
    """Delete run cgroups left by processes that died mid-run (their pid is in the name)."""
    for parent in (parents.memory, parents.pids):
        for entry in parent.iterdir():
            match = _RUN_DIR.fullmatch(entry.name)
            if match and not Path(f"/proc/{match.group(1)}").exists():
                stale = RunCgroup(entry, entry)
                stale.kill_all(patience_s=0.5)
                with contextlib.suppress(OSError):
                    entry.rmdir()


def _write(path: Path, value: int) -> None:
    path.write_text(f"{value}\n")


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def _read_pids(path: Path) -> set[int]:
    try:
        return {int(line) for line in path.read_text().split()}
    except OSError:
        return set()
