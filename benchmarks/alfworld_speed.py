"""Steps per second of random admissible play: our native ALFWorld engine against the real TextWorld engine.

Every side plays episodes of uniformly random commands drawn from ``info["admissible_commands"]``
(fetching them is part of a step, as an agent needs them), from the same ``random.Random`` seed; step
time and reset time are measured separately.

* native: ``rlvr.envs.alfworld.env.ALFWorldEnv(split="train")`` (``rlvr/ALFWorld-v0``).
* tw-z8 raw: a ``tw-make tw-simple`` game on TextWorld's own stack (``textworld.start`` path: Jericho
  Z-machine + TextWorld's Inform7 wrapper for scores and admissible commands, then ``Filter``).
* tw-z8 adapter: the same game through ``TextWorldGameEnv`` (our 5-tuple contract on top).
* alfworld-pddl adapter: ALFWorld's own engine (TextWorld's PDDL backend, Fast Downward, ALFWorld's
  domain and grammar, AlfredTWEnv's wrappers) through ``ALFWorldTWEnv`` on the ALFWorld-format sample
  kitchens of ``write_sample_alfworld_data`` (~30 receptacles, ~25 objects, like ALFWorld's rooms);
  ``--alfworld-data`` plays ALFWorld's downloaded games instead.

The TextWorld sides need ``textworld`` (and ``alfworld`` for the last) in the same interpreter as rlvr,
so run it from a venv that has them, e.g. ``pip install -e '.[alfworld]'`` there; without them only the
native side is measured. Ratios are native / other, from each side's best round (rounds alternate).

    python benchmarks/alfworld_speed.py [--seconds 3] [--rounds 3] [--steps 50]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "alfworld_speed.json"


@dataclass
class Rate:
    """What one side did in one round."""

    steps: int = 0
    step_s: float = 0.0
    resets: int = 0
    reset_s: float = 0.0

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.step_s if self.step_s else 0.0

    @property
    def reset_ms(self) -> float:
        return 1000 * self.reset_s / self.resets if self.resets else 0.0


Reset = Callable[[int], list[str]]
"""Starts the episode with this seed; returns the admissible commands."""
Step = Callable[[str], tuple[list[str], bool]]
"""Plays one command; returns the admissible commands and whether the episode is over."""


def measure(reset: Reset, step: Step, seconds: float, max_steps: int, seed: int) -> Rate:
    """Whole episodes (reset, then random admissible commands up to ``max_steps``) for ``seconds``."""
    rng = random.Random(seed)
    rate = Rate()
    start = time.perf_counter()
    episode = 0
    while rate.resets == 0 or time.perf_counter() - start < seconds:
        began = time.perf_counter()
        commands = reset(seed + episode)
        rate.reset_s += time.perf_counter() - began
        rate.resets += 1
        episode += 1
        began = time.perf_counter()
        for _ in range(max_steps):
            commands, over = step(rng.choice(commands))
            rate.steps += 1
            if over:
                break
        rate.step_s += time.perf_counter() - began
    return rate


def gym_side(env: Any) -> tuple[Reset, Step]:
    """Any of our gymnasium envs: the seed picks the game."""

    def reset(seed: int) -> list[str]:
        return env.reset(seed=seed)[1]["admissible_commands"]

    def step(command: str) -> tuple[list[str], bool]:
        _, _, terminated, truncated, info = env.step(command)
        return info["admissible_commands"], terminated or truncated

    return reset, step


def textworld_raw_side(game: Path) -> tuple[Reset, Step]:
    """TextWorld's own stack on one game, as ``textworld.gym`` builds it (without its step limit)."""
    import textworld
    from textworld.envs.wrappers import Filter, GenericEnvironment

    request = textworld.EnvInfos(won=True, lost=True, score=True, max_score=True, admissible_commands=True)
    env = Filter(GenericEnvironment(request))
    env.load(str(game))

    def reset(seed: int) -> list[str]:
        return env.reset()[1]["admissible_commands"]

    def step(command: str) -> tuple[list[str], bool]:
        _, _, done, infos = env.step(command)
        return infos["admissible_commands"], done

    return reset, step


def tw_make(folder: Path, seed: int) -> Path:
    """``tw-make tw-simple`` (3 rooms, 9-step quest); the Inform7 compiler ships in TextWorld's wheel."""
    tool = shutil.which("tw-make", path=str(Path(sys.executable).parent)) or shutil.which("tw-make")
    if tool is None:
        raise RuntimeError("tw-make not found: pip install textworld")
    game = folder / "tw-simple.z8"
    command = [tool, "tw-simple", "--rewards", "dense", "--goal", "brief", "--seed", str(seed)]
    subprocess.run([*command, "--output", str(game), "--silent"], check=True, capture_output=True)
    return game


def best(rounds: list[Rate]) -> dict[str, float]:
    top = max(rounds, key=lambda rate: rate.steps_per_s)
    fastest_reset = min(rate.reset_ms for rate in rounds)
    return {
        "steps_per_s": round(top.steps_per_s, 2),
        "reset_ms": round(fastest_reset, 3),
        "steps": sum(rate.steps for rate in rounds),
        "resets": sum(rate.resets for rate in rounds),
        "rounds": [{**asdict(rate), "steps_per_s": rate.steps_per_s} for rate in rounds],
    }


def version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="wall time per side per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; each side's best is kept")
    parser.add_argument("--steps", type=int, default=50, help="random commands per episode at most")
    parser.add_argument("--pddl-seconds", type=float, default=20.0, help="wall time per round, PDDL side")
    parser.add_argument("--alfworld-data", help="ALFWorld's downloaded data (default: the sample games)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    from rlvr.envs.alfworld.env import ALFWorldEnv
    from rlvr.envs.alfworld.textworld_adapter import (
        ALFWorldTWEnv,
        TextWorldGameEnv,
        write_sample_alfworld_data,
    )

    workdir = Path(tempfile.mkdtemp(prefix="alfworld_speed_"))
    sides: dict[str, tuple[tuple[Reset, Step], float]] = {
        "native": (gym_side(ALFWorldEnv(split="train", max_steps=args.steps)), args.seconds)
    }
    notes: dict[str, str] = {}
    if importlib.util.find_spec("textworld") is None:
        notes["textworld"] = "not installed here (pip install textworld): only the native side was measured"
    else:
        game = tw_make(workdir, seed=1)
        sides["tw-z8 raw"] = (textworld_raw_side(game), args.seconds)
        sides["tw-z8 adapter"] = (gym_side(TextWorldGameEnv(game, max_steps=args.steps)), args.seconds)
    if importlib.util.find_spec("alfworld") is not None and importlib.util.find_spec("textworld") is not None:
        data = args.alfworld_data or write_sample_alfworld_data(workdir / "alfworld")
        notes["alfworld-pddl adapter"] = (
            f"ALFWorld's games in {data}" if args.alfworld_data else "write_sample_alfworld_data's kitchens"
        )
        env = ALFWorldTWEnv("train", data_dir=data, max_steps=args.steps)
        sides["alfworld-pddl adapter"] = (gym_side(env), args.pddl_seconds)
    elif "textworld" not in notes:
        notes["alfworld"] = "not installed here (pip install alfworld): the PDDL side was not measured"

    rounds: dict[str, list[Rate]] = {name: [] for name in sides}
    for number in range(args.rounds):
        for name, ((reset, step), seconds) in sides.items():
            rate = measure(reset, step, seconds, args.steps, seed=1000 * number)
            rounds[name].append(rate)
            print(
                f"round {number + 1}  {name:<22} {rate.steps_per_s:>12,.1f} steps/s"
                f"  reset {rate.reset_ms:>10,.2f} ms  ({rate.steps} steps, {rate.resets} resets)",
                flush=True,
            )
    results = {name: best(rates) for name, rates in rounds.items()}
    native = results["native"]
    ratios = {
        f"native/{name}": {
            "steps": round(native["steps_per_s"] / result["steps_per_s"], 1),
            "reset": round(result["reset_ms"] / native["reset_ms"], 1),
        }
        for name, result in results.items()
        if name != "native" and result["steps_per_s"] and native["reset_ms"]
    }
    print(f"\n{'side':<24}{'steps/s':>14}{'reset ms':>12}")
    for name, result in results.items():
        print(f"{name:<24}{result['steps_per_s']:>14,.1f}{result['reset_ms']:>12,.2f}")
    for name, ratio in ratios.items():
        print(f"{name}: {ratio['steps']:,}x the steps/s, resets {ratio['reset']:,}x faster")
    report = {
        "benchmark": "alfworld_speed",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
        "versions": {name: version(name) for name in ("textworld", "alfworld", "jericho", "gymnasium")},
        "settings": vars(args) | {"output": str(args.output)},
        "results": results,
        "ratios": ratios,
        "notes": notes,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"wrote {args.output}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
