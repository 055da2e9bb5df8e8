"""Local images for the ``docker`` backend, built from Debian without pulling anything from a registry.

Two layers:

* the base, ``rlvr-sandbox-base:<suite>``: a minimal Debian root file system made with
  ``debootstrap --variant=minbase`` and loaded with ``docker import``. The tarball is cached
  (``~/.cache/rlvr/docker/``, or ``$RLVR_CACHE_DIR/docker/``), so a second machine or a pruned image
  store only pays for the import;
* the sandbox image, ``rlvr-sandbox:<suite>-<hash>``: the base plus Debian packages (the
  ``debian_packages`` of a language) and shell lines (a language's ``docker.install``), baked in
  with a Dockerfile built on the host network. The tag hashes what went in, so each set of
  packages gets its own image and asking again reuses it.

Building needs root and ``debootstrap`` (for the base) and the Debian mirror; nothing else is
downloaded. Every step is idempotent and guarded by a file lock, so parallel test workers or
processes asking for the same image build it once.

    python -m rlvr.sandboxes.docker_image                    # the default image (python3)
    python -m rlvr.sandboxes.docker_image gcc libc6-dev      # base + these packages; prints the name
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import io
import json
import os
import platform
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors

from rlvr.core.paths import cache_root
from rlvr.sandboxes.base import SandboxUnavailable

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
BASE_REPOSITORY = "rlvr-sandbox-base"
REPOSITORY = "rlvr-sandbox"
DEFAULT_PACKAGES = ("python3",)
"""What the default image holds besides the minimal base: enough for Python programs and the tests."""
LABEL = "org.rlvr-gym.sandbox"
_RECIPE_VERSION = 1
"""Part of every tag: bump it when the way images are built changes, so old ones are not reused."""
_DEBOOTSTRAP_TIMEOUT_S = 1800
_LOG_TAIL_LINES = 30


def cache_dir() -> Path:
    """Where the rootfs tarball and the build lock live (``$RLVR_CACHE_DIR``, else ``~/.cache/rlvr``)."""
    return cache_root() / "docker"


def image_name(
    packages: Iterable[str] = DEFAULT_PACKAGES, run: Sequence[str] = (), suite: str = SUITE
) -> str:
    """The tag ``build_image`` gives the image holding ``packages`` and ``run``: same inputs, same name."""
    recipe = json.dumps(
        {"version": _RECIPE_VERSION, "suite": suite, "packages": sorted(set(packages)), "run": list(run)},
        sort_keys=True,
    )
    return f"{REPOSITORY}:{suite}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"


def default_image() -> str:
    """The image ``DockerSandbox`` uses unless told otherwise."""
    return image_name(DEFAULT_PACKAGES)


def image_exists(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def build_image(
    packages: Iterable[str] = DEFAULT_PACKAGES,
    *,
    run: Sequence[str] = (),
    client: docker.DockerClient | None = None,
    suite: str = SUITE,
    mirror: str = MIRROR,
    rebuild: bool = False,
) -> str:
    """Make sure the sandbox image for ``packages`` and ``run`` exists; return its name.

    Args:
        packages: Debian packages to install on top of the minimal base.
        run: shell lines run (as root, in order, after the packages) while building, one
            ``RUN`` each: a language's ``docker.install``.
        client: a Docker client; default ``docker.from_env()``.
        suite: the Debian release of the base.
        mirror: the Debian mirror ``debootstrap`` and ``apt-get`` download from.
        rebuild: build again even when the image exists (the cached rootfs is still reused).

    Raises:
        SandboxUnavailable: the daemon is unreachable, ``debootstrap`` is missing or not running
            as root, or a build step failed; the message holds the tail of its log.
    """
    packages = sorted(set(packages))
    for package in packages:
        if not package or package.startswith("-") or any(char.isspace() for char in package):
            raise ValueError(f"not a Debian package name: {package!r}")
    client = client or connect()
    name = image_name(packages, run, suite)
    if not rebuild and image_exists(client, name):
        return name
    with _build_lock():
        if not rebuild and image_exists(client, name):  # another process built it while we waited
            return name
        base = _ensure_base_image(client, suite, mirror)
        if not packages and not run:
            client.images.get(base).tag(*name.split(":"))
            return name
        _docker_build(client, name, _dockerfile(base, packages, run, mirror, suite))
    return name


def connect() -> docker.DockerClient:
    """A client for the local Docker daemon, or ``SandboxUnavailable`` saying how to start one."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        raise SandboxUnavailable(
            f"cannot reach the Docker daemon ({error}): start it (`systemctl start docker`, or "
            "`dockerd &` as root), set DOCKER_HOST, or use backend='local'"
        ) from error
    return client


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ensure_base_image(client: docker.DockerClient, suite: str, mirror: str) -> str:
    name = f"{BASE_REPOSITORY}:{suite}"
    if image_exists(client, name):
        return name
    tarball = rootfs_tarball(suite, mirror)
    try:
        client.api.import_image_from_file(
            str(tarball), repository=BASE_REPOSITORY, tag=suite, changes=[f"LABEL {LABEL}=base"]
        )
    except docker.errors.APIError as error:
        raise SandboxUnavailable(f"docker import of {tarball} failed: {error}") from error
    if not image_exists(client, name):
        raise SandboxUnavailable(f"docker import of {tarball} did not produce {name}")
    return name


def rootfs_tarball(suite: str = SUITE, mirror: str = MIRROR) -> Path:
    """The cached ``debootstrap --variant=minbase`` root file system of ``suite``, made if missing."""
    arch = _debian_arch()
    tarball = cache_dir() / f"debian-{suite}-minbase-{arch}.tar.gz"
    if tarball.exists():
        return tarball
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if debootstrap is None:
        raise SandboxUnavailable(
            "building the docker sandbox image needs debootstrap: apt-get install debootstrap "
            f"(or `docker load` an image named {BASE_REPOSITORY}:{suite} made elsewhere)"
        )
    if os.geteuid() != 0:
        raise SandboxUnavailable(
            "building the docker sandbox base image runs debootstrap, which needs root: run "
            f"`sudo {shlex.join(['python3', '-m', 'rlvr.sandboxes.docker_image'])}` once"
        )
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rlvr-rootfs-", dir=tarball.parent) as work:
        rootfs = Path(work) / "rootfs"
        _run_logged(
            [debootstrap, "--variant=minbase", f"--arch={arch}", suite, str(rootfs), mirror],
            what=f"debootstrap of Debian {suite}",
        )
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (rootfs / cache).glob("*"):
                if entry.is_file():
                    entry.unlink()
        partial = Path(work) / "rootfs.tar.gz"
        _run_logged(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-czf", str(partial), "."], what="tar of the rootfs"
        )
        partial.replace(tarball)
    return tarball


def _debian_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i686": "i386"}.get(machine, machine)


def _run_logged(argv: list[str], *, what: str) -> None:
    try:
        completed = subprocess.run(
            argv, capture_output=True, text=True, timeout=_DEBOOTSTRAP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise SandboxUnavailable(f"{what} took more than {_DEBOOTSTRAP_TIMEOUT_S} s") from error
    if completed.returncode != 0:
        log = (completed.stdout + completed.stderr).splitlines()[-_LOG_TAIL_LINES:]
        raise SandboxUnavailable(f"{what} failed with exit status {completed.returncode}:\n" + "\n".join(log))


def _dockerfile(base: str, packages: Sequence[str], run: Sequence[str], mirror: str, suite: str) -> str:
    lines = [
        f"FROM {base}",
        "ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8",
        f"LABEL {LABEL}={json.dumps(' '.join(packages))}",
    ]
    if packages:
        sources = f"deb {mirror} {suite} main"
        lines.append(
            f"RUN echo {shlex.quote(sources)} > /etc/apt/sources.list && apt-get update"
            f" && apt-get install -y --no-install-recommends {shlex.join(packages)}"
            " && apt-get clean && rm -rf /var/lib/apt/lists/*"
        )
    lines += [f"RUN {line}" for line in run]
    return "\n".join(lines) + "\n"


def _docker_build(client: docker.DockerClient, name: str, dockerfile: str) -> None:
    log: list[str] = []
    try:
        events: Iterator[dict[str, Any]] = client.api.build(
            fileobj=io.BytesIO(dockerfile.encode()),
            tag=name,
            network_mode="host",  # apt-get reaches the mirror the way the host does
            rm=True,
            forcerm=True,
            decode=True,
        )
        for event in events:
            if "stream" in event:
                log.extend(event["stream"].splitlines())
            if "error" in event:
                tail = "\n".join(log[-_LOG_TAIL_LINES:])
                raise SandboxUnavailable(f"building {name} failed: {event['error'].strip()}\n{tail}")
    except docker.errors.APIError as error:
        raise SandboxUnavailable(f"building {name} failed: {error}") from error
    if not image_exists(client, name):
        raise SandboxUnavailable(f"building {name} finished without the image:\n" + "\n".join(log[-10:]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build a local image for the docker sandbox backend.")
    parser.add_argument(
        "packages", nargs="*", help=f"Debian packages (default: {' '.join(DEFAULT_PACKAGES)})"
    )
    parser.add_argument("--run", action="append", default=[], help="a shell line run while building")
    parser.add_argument("--suite", default=SUITE)
    parser.add_argument("--mirror", default=MIRROR)
    parser.add_argument("--rebuild", action="store_true", help="build even when the image exists")
    args = parser.parse_args(argv)
    packages = args.packages or ([] if args.run else list(DEFAULT_PACKAGES))
    print(build_image(packages, run=args.run, suite=args.suite, mirror=args.mirror, rebuild=args.rebuild))


if __name__ == "__main__":
    main()
