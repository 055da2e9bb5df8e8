"""Judged programs per second: a trivial Python program through each way of running untrusted code.

Judging one program means: a fresh directory holding ``main.py``, ``python3 main.py`` with ``1 2``
on stdin under a timeout, its output compared with ``3``, the directory deleted. Every way runs
the same ``/usr/bin/python3``.

* bare subprocess: ``tempfile`` + ``subprocess.run`` + ``shutil.rmtree``, no isolation or limits at
  all: the floor every sandbox is measured against.
* local sandbox: rlvr's default backend (bubblewrap namespaces and rlimits); with ``+ cgroups`` its
  memory limit is a per-run cgroup instead (root on a cgroup-v1 host only).
* docker (container reuse): the ``docker`` backend as it runs by default, one long-lived container
  per worker serving run after run (one ``docker exec`` each).
* docker (container per run): the same backend with ``reuse_container=False``, a container started
  and removed for every program, as container-per-episode designs do.

Each way is measured one program at a time (latency) and with as many programs in flight as the
machine has cores (throughput). Ratios to the bare subprocess are medians of back-to-back pairs,
so a burst of load from another process does not land on one side only.

    .venv/bin/python benchmarks/sandbox_speed.py [--seconds 2] [--repeats 5] [--ways bare,local]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rlvr.sandboxes import SandboxUnavailable, make_sandbox
from rlvr.sandboxes.bubblewrap import SYSTEM_PATH
from rlvr.sandboxes.pool import machine_parallelism

PROGRAM = "print(sum(map(int, input().split())))\n"
STDIN = "1 2\n"
EXPECTED = "3"
TIMEOUT_S = 10.0

JudgeFn = Callable[[], bool]
"""Judges the trivial program once; True when it printed the expected answer."""


def bare_subprocess() -> JudgeFn:
    python = shutil.which("python3", path=SYSTEM_PATH) or "python3"

    def judge() -> bool:
        directory = Path(tempfile.mkdtemp(prefix="bench-"))
        try:
            (directory / "main.py").write_text(PROGRAM)
            completed = subprocess.run(
                [python, "main.py"],
                cwd=directory,
                input=STDIN,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
            )
            return completed.stdout.strip() == EXPECTED
        finally:
            shutil.rmtree(directory)

    return judge


def local_sandbox(**options: object) -> JudgeFn:
    from rlvr.sandboxes.local import LocalSandbox

    sandbox = LocalSandbox(**options)  # type: ignore[arg-type]

    def judge() -> bool:
        result = sandbox.run("python3 main.py", files={"main.py": PROGRAM}, stdin=STDIN, timeout_s=TIMEOUT_S)
        return result.stdout.strip() == EXPECTED

    return judge


def docker_sandbox(reuse_container: bool) -> JudgeFn:
    sandbox = make_sandbox("docker", reuse_container=reuse_container)

    def judge() -> bool:
        result = sandbox.run("python3 main.py", files={"main.py": PROGRAM}, stdin=STDIN, timeout_s=TIMEOUT_S)
        return result.stdout.strip() == EXPECTED

    if reuse_container:  # start one container per worker before measuring
        with ThreadPoolExecutor(machine_parallelism()) as pool:
            list(pool.map(lambda _: judge(), range(machine_parallelism())))
    return judge


WAYS: dict[str, Callable[[], JudgeFn]] = {
    "bare subprocess": bare_subprocess,
    "local sandbox": local_sandbox,
    "local sandbox + cgroups": lambda: local_sandbox(cgroups=True),
    "docker (container reuse)": lambda: docker_sandbox(reuse_container=True),
    "docker (container per run)": lambda: docker_sandbox(reuse_container=False),
}
"""Name -> factory; a factory raises ``SandboxUnavailable`` where its way cannot run here."""
BASELINE = "bare subprocess"


def programs_per_second(judge: JudgeFn, seconds: float, workers: int) -> float:
    """Programs judged per second with ``workers`` in flight, over about ``seconds``."""
    deadline = time.perf_counter() + seconds

    def worker() -> int:
        judged = 0
        while time.perf_counter() < deadline:
            if not judge():
                raise RuntimeError("the trivial program was judged wrong: the benchmark is broken")
            judged += 1
        return judged

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        total = sum(pool.map(lambda _: worker(), range(workers)))
    return total / (time.perf_counter() - start)


def paired(
    judge: JudgeFn, baseline: JudgeFn, seconds: float, repeats: int, workers: int
) -> tuple[float, float]:
    """Best rate of ``judge`` and the median ratio to ``baseline`` over back-to-back pairs."""
    rates, ratios = [], []
    for _ in range(repeats):
        base = programs_per_second(baseline, seconds, workers)
        rate = programs_per_second(judge, seconds, workers)
        rates.append(rate)
        ratios.append(rate / base)
    return max(rates), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="wall time per measurement")
    parser.add_argument("--repeats", type=int, default=5, help="paired measurements per ratio (median kept)")
    parser.add_argument(
        "--ways", default=",".join(WAYS), help="comma-separated subset of: " + ", ".join(WAYS)
    )
    args = parser.parse_args()
    cores = machine_parallelism()
    baseline = WAYS[BASELINE]()
    print(f"{'way':<28}{'1 at a time/s':>15}{'ratio':>8}{f'{cores} at a time/s':>17}{'ratio':>8}")
    for name in args.ways.split(","):
        try:
            judge = WAYS[name]()
        except SandboxUnavailable as error:
            print(f"{name:<28}unavailable: {error}")
            continue
        judge()  # warm-up: probes, image or container start-up, page cache
        serial, serial_ratio = paired(judge, baseline, args.seconds, args.repeats, 1)
        parallel, parallel_ratio = paired(judge, baseline, args.seconds, args.repeats, cores)
        print(f"{name:<28}{serial:>15,.1f}{serial_ratio:>8.2f}{parallel:>17,.1f}{parallel_ratio:>8.2f}")
    print(f"programs/s: best measurement; ratios: median of back-to-back pairs against the {BASELINE}")


if __name__ == "__main__":
    main()
