"""File access to a workspace the program has written into, without following what it planted there.

A program can leave symbolic links (``out.txt -> /root/.ssh/id_rsa``), FIFOs that block a reader,
or directories it made unreadable. Everything here walks one component at a time with
``O_NOFOLLOW`` from a directory descriptor, reads and writes regular files only, and replaces
rather than writes through an existing entry, so the caller (often root) never touches a path
outside the workspace on the program's behalf.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def checked_parts(path: str) -> list[str]:
    """Split a workspace-relative path, refusing anything that could point outside the workspace."""
    parts = path.replace("\\", "/").split("/")
    if not path or path.startswith("/") or "\0" in path or any(part in ("", ".", "..") for part in parts):
        raise ValueError(
            f"{path!r} is not a plain relative path inside the workspace (no '..', no leading '/')"
        )
    return parts


def write_file(root: Path, path: str, data: bytes, *, owner: int | None) -> None:
    """Create ``root/path`` (and its parents) holding ``data``, owned by ``owner`` when given."""
    *parents, name = checked_parts(path)
    directory = _open_directory(root, parents, create=True, owner=owner)
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=directory)  # a link or hard link left by the program is replaced
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with open(os.open(name, flags, 0o644, dir_fd=directory), "wb") as handle:
            handle.write(data)
            if owner is not None:
                os.fchown(handle.fileno(), owner, owner)
    finally:
        os.close(directory)


def read_file(root: Path, path: str) -> bytes:
    """Contents of the regular file ``root/path``; ``PermissionError`` for links, FIFOs and devices."""
    *parents, name = checked_parts(path)
    directory = _open_directory(root, parents, create=False, owner=None)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise PermissionError(f"{path!r} is a link or unreadable; only regular files are read") from error
    finally:
        os.close(directory)
    with open(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise PermissionError(f"{path!r} is not a regular file")
        return handle.read()


def disk_usage(root: Path) -> int:
    """Bytes allocated under ``root`` (hard links once, sparse files by their real blocks)."""
    total = 0
    seen: set[tuple[int, int]] = set()
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except PermissionError:  # the program made it unreadable; we own it, so open it back up
            with contextlib.suppress(OSError):
                os.chmod(directory, 0o700)
                stack.append(directory)
            continue
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                stack.append(entry.path)
            elif info.st_nlink > 1:
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
    return total


def remove_tree(path: Path) -> None:
    """Delete ``path`` even where the program took away its own permissions on a directory."""

    def reopen(_function: object, failed: str, _error: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(failed), 0o700)
        with contextlib.suppress(OSError):
            if os.path.isdir(failed) and not os.path.islink(failed):
                os.chmod(failed, 0o700)
                shutil.rmtree(failed, ignore_errors=True)
            else:
                os.unlink(failed)

    if path.exists():
        shutil.rmtree(path, onerror=reopen)


def _open_directory(root: Path, parts: Sequence[str], *, create: bool, owner: int | None) -> int:
    """Open ``root/parts`` one component at a time, never through a link the program may have planted."""
    fd = os.open(root, _DIRECTORY_FLAGS)
    try:
        for part in parts:
            if create:
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                    if owner is not None:
                        os.chown(part, owner, owner, dir_fd=fd, follow_symlinks=False)
                except FileExistsError:
                    pass
            try:
                child = os.open(part, _DIRECTORY_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                raise
            except OSError as error:
                raise PermissionError(f"{part!r} is not a directory inside the workspace") from error
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd
