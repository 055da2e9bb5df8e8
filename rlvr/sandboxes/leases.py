"""Machines (containers, VMs) lent to one workspace at a time, kept warm for the next one.

The docker and e2b backends both start a costly machine per worker and reuse it across workspaces;
what must be right in both is the bookkeeping around it, which lives here once: a machine is either
idle, leased or gone; one that died is never lent again; ``close`` (or the owner being collected)
destroys every machine, also those of workspaces still open; and a machine that finishes starting
after ``close`` is destroyed rather than leaked.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from rlvr.sandboxes.base import SandboxError


class Machine(Protocol):
    """What the pool needs of a machine: an id, and a flag its user sets when it finds it dead."""

    id: str
    dead: bool


M = TypeVar("M", bound=Machine)


class LeasePool(Generic[M]):
    """The idle and live machines of one backend.

    Arguments:
        owner: named in errors (``"this DockerSandbox is closed"``).
        destroy: removes one machine for good. It must not hold the backend (it runs from a
            finalizer once the backend is collected), so pass a function of the machine alone or a
            ``functools.partial`` over a client.
        reuse: give returned machines to the next workspace instead of destroying them.
    """

    def __init__(self, owner: str, destroy: Callable[[M], None], *, reuse: bool = True) -> None:
        self.owner = owner
        self.reuse = reuse
        self._destroy = destroy
        self._lock = threading.Lock()
        self._idle: list[M] = []
        self._live: dict[str, M] = {}
        self._closed = False
        self._finalizer = weakref.finalize(self, _destroy_all, destroy, self._live)

    @property
    def ids(self) -> list[str]:
        """The machines held now, leased and idle."""
        with self._lock:
            return list(self._live)

    def lease(self, start: Callable[[], M]) -> M:
        """An idle machine, or a new one from ``start`` (which must ``adopt`` it)."""
        with self._lock:
            if self._closed:
                raise SandboxError(f"this {self.owner} is closed")
            if self._idle:
                return self._idle.pop()
        return start()

    def adopt(self, machine: M) -> M:
        """Count a freshly started machine as live; destroy it if ``close`` ran while it started."""
        with self._lock:
            self._live[machine.id] = machine
            closed = self._closed
        if closed:
            self.discard(machine)
            raise SandboxError(f"this {self.owner} is closed")
        return machine

    def give_back(self, machine: M) -> None:
        """The workspace is done with it: keep it for the next one, or destroy it."""
        with self._lock:
            keep = self.reuse and not self._closed and not machine.dead
            if keep:
                self._idle.append(machine)
        if not keep:
            self.discard(machine)

    def discard(self, machine: M) -> None:
        """Destroy a machine now (dead, or no longer trusted); it is never lent again."""
        machine.dead = True
        with self._lock:
            self._live.pop(machine.id, None)
        self._destroy(machine)

    def close(self) -> None:
        """Destroy every machine, leased ones too. Idempotent."""
        with self._lock:
            self._closed = True
            self._idle.clear()
        self._finalizer()


def _destroy_all(destroy: Callable[[Machine], None], live: dict[str, Machine]) -> None:
    for machine_id in list(live):
        machine = live.pop(machine_id, None)
        if machine is not None:
            destroy(machine)
