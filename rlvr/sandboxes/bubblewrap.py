"""Bubblewrap command lines: the system read-only, the workspace writable, and nothing else.

The program sees a fresh root holding ``/usr`` (and the ``/bin``, ``/lib*`` links or directories),
``/opt``, an ``/etc`` holding copies of what toolchains read (dynamic linker cache, alternatives,
JVM and interpreter configuration, certificates, time zone) and a generated ``passwd``/``group``,
a private ``/dev`` and ``/proc``, the workspace at ``/work``, and size-limited tmpfs ``/tmp`` and
``/dev/shm``. The host's home directories, ``/root``, ``/var``, ``/srv``, ``/run``, ``/sys``, the
host's ``/tmp`` and every other path do not exist in there. All namespaces are new (user, pid,
net, ipc, uts, cgroup, mount): no network, no view of or signal to host processes, and the pid
namespace dies, taking every process with it, when its first process exits.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from rlvr.sandboxes.base import SandboxUnavailable

SANDBOX_UID = 65534
"""The uid (and gid) the program has inside the sandbox, and on the host when we start as root."""
WORK_DIR = "/work"
TMP_DIR = "/tmp"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
_VAR_ALLOWED = ("/var/lib/ghc",)
"""Toolchain data outside ``/usr`` that ``/usr`` links to (GHC's package database)."""
_ETC_ALLOWED = (
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "fonts",
    "gprolog",
    "hosts",
    "java-*",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "locale.alias",
    "localtime",
    "maven",
    "mime.types",
    "mono",
    "nsswitch.conf",
    "ocaml*",
    "os-release",
    "perl",
    "php",
    "protocols",
    "python3*",
    "R",
    "racket",
    "resolv.conf",  # for network=True runs; a link into /run is copied by content
    "ruby*",
    "services",
    "ssl/certs",
    "ssl/openssl.cnf",
    "timezone",
)
"""``/etc`` entries worth showing: what compilers and interpreters read at start, no host secrets."""

INIT_SCRIPT = 'exec 3<&0 </dev/null; "$@" <&3 3<&- & wait $!'
"""pid 1: run the program with our stdin (a background job would get /dev/null), reap every orphan
while waiting, exit with the program's status (128 + n for signal n)."""

INSTALL_HINT = (
    "install it with `apt-get install bubblewrap` (or `dnf install bubblewrap`), "
    "or use backend='docker', or isolation='none' to run without isolation"
)
USERNS_HINT = (
    "unprivileged user namespaces look disabled: on Ubuntu >= 23.10 run "
    "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, on older Debian "
    "`sudo sysctl -w kernel.unprivileged_userns_clone=1`; inside a container start it with "
    "`--security-opt seccomp=unconfined --security-opt apparmor=unconfined`; or use backend='docker', "
    "or isolation='none' to run without isolation"
)


def find_bwrap() -> str:
    """Path of the ``bwrap`` binary, or ``SandboxUnavailable`` saying how to get it."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(f"bubblewrap not found: {INSTALL_HINT}")
    return path


def system_mounts(extra_ro_paths: Sequence[str] = ()) -> list[str]:
    """bwrap arguments for the read-only system outside ``/etc``; computed once per sandbox."""
    args: list[str] = []
    for directory in _SYSTEM_DIRS:
        if os.path.islink(directory):  # merged /usr: keep /bin -> usr/bin a link, not a second mount
            args += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            args += ["--ro-bind", directory, directory]
    for path in _VAR_ALLOWED:
        if os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in extra_ro_paths:
        if not _is_under_etc(path):
            args += ["--ro-bind", path, path]
    return args


def snapshot_etc(etc_dir: Path, extra_paths: Sequence[str] = ()) -> None:
    """Fill ``etc_dir`` (the sandbox's ``/etc``) with copies of the allow-listed entries.

    One bind of a copy costs a fraction of a millisecond per run where binding each of two dozen
    entries costs several; the copy is taken when the sandbox is created, so a package installed
    later shows up in a new sandbox. ``passwd`` and ``group`` are generated: only root and the
    sandbox user, so user lookups work and the host's accounts stay private.
    """
    os.chmod(etc_dir, 0o755)
    etc_paths = [path for path in extra_paths if _is_under_etc(path)]
    for path in [
        *(path for pattern in _ETC_ALLOWED for path in sorted(glob.glob(f"/etc/{pattern}"))),
        *etc_paths,
    ]:
        target = etc_dir / os.path.relpath(path, "/etc")
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError, shutil.Error):  # unreadable entries are left out
            if os.path.islink(path) and _shown_inside(os.path.realpath(path)):
                os.symlink(os.readlink(path), target)
            elif os.path.isdir(path):
                shutil.copytree(path, target, symlinks=True, ignore_dangling_symlinks=True)
            else:
                shutil.copy2(path, target)
    (etc_dir / "passwd").write_text(
        f"root:x:0:0:root:/root:/bin/sh\nsandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:{WORK_DIR}:/bin/sh\n"
    )
    (etc_dir / "group").write_text(f"root:x:0:\nsandbox:x:{SANDBOX_UID}:\n")


def _is_under_etc(path: str) -> bool:
    return os.path.normpath(path).startswith("/etc/")


def _shown_inside(path: str) -> bool:
    """Whether a link to ``path`` resolves in the sandbox (else its target's content is copied)."""
    return any(path.startswith(f"{directory}/") for directory in _SYSTEM_DIRS)


def bwrap_argv(
    bwrap: str,
    *,
    mounts: Sequence[str],
    work_dir: Path,
    etc_dir: Path,
    env: Mapping[str, str],
    network: bool,
    shm_bytes: int,
    tmp_bytes: int,
) -> list[str]:
    """Everything before the program's own argv.

    The namespace's pid 1 is a shell that starts the program and waits for it (``--as-pid-1`` with
    ``INIT_SCRIPT``) rather than bwrap's own init: bwrap reports the program's exit before its init
    has reaped the rest, so it would exit before the namespace is gone, and the program's CPU time
    would be charged to a process nobody waits for. With the shell, bwrap exits only after pid 1
    did, which the kernel lets happen only once every other process of the namespace is dead and
    reaped; its rusage then covers the whole tree. The program itself is pid 2 and keeps normal
    signal semantics (pid 1 ignores signals it has no handler for).
    """
    args = [
        bwrap,
        "--unshare-all",
        *(["--share-net"] if network else []),
        "--as-pid-1",
        "--die-with-parent",
        "--new-session",  # no TIOCSTI into the caller's terminal
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--hostname",
        "sandbox",
        *mounts,
        "--ro-bind",
        str(etc_dir),
        "/etc",
        "--dev",
        "/dev",
        # /dev is a tmpfs with no size limit: give shared memory a bounded one, then freeze the rest.
        "--perms",
        "1777",
        "--size",
        str(shm_bytes),
        "--tmpfs",
        "/dev/shm",
        "--remount-ro",
        "/dev",
        "--proc",
        "/proc",
        "--perms",
        "1777",
        "--size",
        str(tmp_bytes),
        "--tmpfs",
        TMP_DIR,
        "--bind",
        str(work_dir),
        WORK_DIR,
        "--remount-ro",
        "/",
        "--chdir",
        WORK_DIR,
        "--clearenv",
    ]
    for name, value in env.items():
        args += ["--setenv", name, value]
    return [*args, "--", "/bin/sh", "-c", INIT_SCRIPT, "sandbox-init"]
