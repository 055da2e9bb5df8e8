"""Load on ``rlvr serve``: many concurrent sessions, abrupt disconnects, and no leaked slots.

``rlvr serve`` runs in a subprocess on loopback. ``--clients`` asyncio clients (each its own
``httpx.AsyncClient``, so its own connection) each open a KuhnPoker or TicTacToe session (gym view,
alternating) and play random legal moves from ``info["legal_actions"]``, resetting after every
episode, for ``--seconds``. At the end half the clients DELETE their session and half just close
their connection, as a crashed rollout worker would; then the script waits past the idle timeout and
checks that ``GET /health`` reports no live session. Latency is client-side, per step request.

    .venv/bin/python benchmarks/serve_load.py [--clients 100] [--seconds 20] [--idle-timeout 3]

Writes ``benchmarks/results/serve_load.json``. Errors and leaked sessions must both be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ENVS = ("rlvr/KuhnPoker-v0", "rlvr/TicTacToe-v0")
RESULTS = Path(__file__).parent / "results" / "serve_load.json"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    episodes: int = 0
    errors: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, idle_timeout: float, max_sessions: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "rlvr.cli", "serve", "--port", str(port)]
    command += ["--idle-timeout", str(idle_timeout), "--max-sessions", str(max_sessions)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).raise_for_status()
            return server
        except httpx.HTTPError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"rlvr serve did not start: {server.stderr.read().decode()}") from None
            time.sleep(0.1)


async def checked(request: Awaitable[httpx.Response], tally: Tally) -> dict[str, Any] | None:
    """The JSON body, or ``None`` with the failure counted."""
    try:
        response = await request
    except httpx.HTTPError as error:
        tally.errors.append(repr(error))
        return None
    if not response.is_success:
        tally.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
        return None
    return response.json()


async def client_loop(
    index: int, http: httpx.AsyncClient, deadline: float, tally: Tally, abrupt: bool
) -> None:
    rng = random.Random(index)
    env_id = ENVS[index % len(ENVS)]
    created = await checked(http.post("/sessions", json={"env_id": env_id}), tally)
    if created is None:
        await http.aclose()
        return
    sid = created["session_id"]
    seed = index * 100_000
    while time.monotonic() < deadline:
        reset = await checked(http.post(f"/sessions/{sid}/reset", json={"seed": seed}), tally)
        if reset is None:
            break
        seed += 1
        info, done = reset["info"], False
        while not done:
            action = rng.choice(info["legal_actions"])
            started = time.perf_counter()
            result = await checked(http.post(f"/sessions/{sid}/step", json={"action": action}), tally)
            tally.latencies.append(time.perf_counter() - started)
            if result is None:
                break
            info, done = result["info"], result["terminated"] or result["truncated"]
        tally.episodes += 1
    if not abrupt:
        await checked(http.delete(f"/sessions/{sid}"), tally)
    await http.aclose()  # the abrupt half leaves without DELETE


def cpu_seconds(pid: int | None = None) -> float | None:
    """CPU time (user + system) of this process, or of ``pid`` from /proc (Linux only)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run_load(url: str, clients: int, seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    # verify=False: plain HTTP on loopback, and building the default TLS context costs ~50 ms of CPU per
    # client, which on a small machine would be measured as server latency.
    https = [httpx.AsyncClient(base_url=url, timeout=30, verify=False) for _ in range(clients)]
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(client_loop(i, http, deadline, tally, abrupt=i % 2 == 1) for i, http in enumerate(https))
    )
    return tally, time.monotonic() - started


def _per_step(end: float | None, start: float | None, steps: int) -> float | None:
    if end is None or start is None or not steps:
        return None
    return round(1000 * (end - start) / steps, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--idle-timeout", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, args.idle_timeout, max_sessions=max(256, args.clients))
    try:
        for env_id in ENVS:  # warm up: the server imports each game on its first session
            sid = httpx.post(f"{url}/sessions", json={"env_id": env_id}, timeout=60).json()["session_id"]
            httpx.delete(f"{url}/sessions/{sid}")
        server_cpu_start, client_cpu_start = cpu_seconds(server.pid), cpu_seconds()
        tally, elapsed = asyncio.run(run_load(url, args.clients, args.seconds))
        server_cpu, client_cpu = cpu_seconds(server.pid), cpu_seconds()
        live_after_run = httpx.get(f"{url}/health").json()["sessions"]
        time.sleep(args.idle_timeout + max(0.05, min(5.0, args.idle_timeout / 4)) + 1.0)
        health = httpx.get(f"{url}/health").json()
    finally:
        server.terminate()
        server.wait(timeout=10)

    steps = len(tally.latencies)
    report = {
        "clients": args.clients,
        "seconds": round(elapsed, 2),
        "envs": list(ENVS),
        "steps": steps,
        "episodes": tally.episodes,
        "steps_per_s": round(steps / elapsed, 1),
        "step_latency_ms": {
            "p50": round(1000 * percentile(tally.latencies, 0.50), 2),
            "p90": round(1000 * percentile(tally.latencies, 0.90), 2),
            "p99": round(1000 * percentile(tally.latencies, 0.99), 2),
            "max": round(1000 * max(tally.latencies, default=float("nan")), 2),
        },
        # CPU per step request (resets and creates included in the numerator): what load costs
        # regardless of how busy the machine is.
        "server_cpu_ms_per_step": _per_step(server_cpu, server_cpu_start, steps),
        "client_cpu_ms_per_step": _per_step(client_cpu, client_cpu_start, steps),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "errors": len(tally.errors),
        "error_samples": tally.errors[:5],
        "abrupt_disconnects": args.clients // 2,
        "live_sessions_right_after_run": live_after_run,
        "idle_timeout_s": args.idle_timeout,
        "leaked_sessions": health["sessions"],
        "reaped": health["reaped"],
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if report["errors"] == 0 and report["leaked_sessions"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
