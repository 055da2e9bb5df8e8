"""The lease bookkeeping shared by the docker and e2b backends, on machines that are temp dirs."""

from __future__ import annotations

import functools
import gc
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from rlvr.sandboxes.base import SandboxError
from rlvr.sandboxes.leases import LeasePool


@dataclass
class DirMachine:
    """A machine that is a real directory: destroying it removes the directory."""

    id: str
    dead: bool = False


def _start(pool: LeasePool[DirMachine]) -> DirMachine:
    return pool.adopt(DirMachine(tempfile.mkdtemp(prefix="rlvr-lease-")))


def _destroy(machine: DirMachine) -> None:
    shutil.rmtree(machine.id, ignore_errors=True)


def test_machines_are_reused_until_found_dead_and_all_go_at_close() -> None:
    pool: LeasePool[DirMachine] = LeasePool("TestSandbox", _destroy)
    first = pool.lease(lambda: _start(pool))
    second = pool.lease(lambda: _start(pool))
    assert first.id != second.id and set(pool.ids) == {first.id, second.id}
    pool.give_back(first)
    assert pool.lease(lambda: _start(pool)) is first  # warm machine, no new start
    first.dead = True
    pool.give_back(first)  # a dead machine is destroyed, never lent again
    assert not Path(first.id).exists() and pool.ids == [second.id]
    pool.close()  # second is still leased: it goes too
    assert not Path(second.id).exists() and pool.ids == []
    with pytest.raises(SandboxError, match="this TestSandbox is closed"):
        pool.lease(lambda: _start(pool))
    pool.close()  # idempotent


def test_without_reuse_every_returned_machine_is_destroyed() -> None:
    pool: LeasePool[DirMachine] = LeasePool("TestSandbox", _destroy, reuse=False)
    machine = pool.lease(lambda: _start(pool))
    pool.give_back(machine)
    assert not Path(machine.id).exists() and pool.ids == []


def test_a_machine_that_finishes_starting_after_close_is_destroyed() -> None:
    pool: LeasePool[DirMachine] = LeasePool("TestSandbox", _destroy)
    started: list[DirMachine] = []

    def start_while_closing() -> DirMachine:
        machine = DirMachine(tempfile.mkdtemp(prefix="rlvr-lease-"))
        started.append(machine)
        pool.close()  # another thread closes the sandbox mid-start
        return pool.adopt(machine)

    with pytest.raises(SandboxError, match="closed"):
        pool.lease(start_while_closing)
    assert not Path(started[0].id).exists() and started[0].dead


def test_collecting_the_pool_destroys_its_machines() -> None:
    pool: LeasePool[DirMachine] = LeasePool("TestSandbox", _destroy)
    machine = pool.lease(functools.partial(_start, pool))
    del pool
    gc.collect()
    assert not Path(machine.id).exists()
