"""Execution sandboxes for model-written code (local, docker, e2b), chosen by name.

    sandbox = make_sandbox()                       # local: bubblewrap namespaces + rlimits/cgroups
    sandbox = make_sandbox("docker")               # containers (needs a Docker daemon)
    result = sandbox.run("python3 main.py", files={"main.py": code}, stdin="1 2\\n", timeout_s=2)

Backends other than ``local`` are imported only when asked for, so their optional dependencies
(the ``docker`` SDK, ``e2b``) are needed only by those who use them.
"""

from __future__ import annotations

import importlib
from typing import Any

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
from rlvr.sandboxes.pool import Job, SandboxPool

BACKENDS: dict[str, tuple[str, str, str]] = {
    "local": ("rlvr.sandboxes.local", "LocalSandbox", "reinstall rlvr-gym"),
    "docker": ("rlvr.sandboxes.docker_backend", "DockerSandbox", "pip install 'rlvr-gym[docker]'"),
    "e2b": ("rlvr.sandboxes.e2b_backend", "E2BSandbox", "pip install 'rlvr-gym[e2b]'"),
}
"""Backend name -> (module, class, what to install when the module cannot be imported)."""


def make_sandbox(backend: str = "local", **options: Any) -> Sandbox:
    """The sandbox backend called ``backend``, built with ``options`` (``limits=Limits(...)`` and its own).

    Raises:
        ValueError: no backend has that name.
        SandboxUnavailable: the backend's module or its optional dependency is missing, or it
            cannot run on this machine; the message says what to install or which backend to use.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown sandbox backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    module_name, class_name, install = BACKENDS[backend]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SandboxUnavailable(
            f"the {backend!r} sandbox backend cannot be imported ({error}): {install}, or use another backend"
        ) from error
    sandbox_class: type[Sandbox] = getattr(module, class_name)
    return sandbox_class(**options)


__all__ = [
    "BACKENDS",
    "Command",
    "ExecResult",
    "Files",
    "Job",
    "Limits",
    "Sandbox",
    "SandboxError",
    "SandboxPool",
    "SandboxUnavailable",
    "Workspace",
    "make_sandbox",
]
