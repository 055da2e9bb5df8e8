"""What the batched runner costs on top of the work it drives, in one run.

The runner plays N episodes with a policy; a recording wrapper keeps every batch of prompts it asked
for and every action the envs received. The baseline then does the same work without the runner:
it calls the same policy directly on the same batches of prompts, in the same order, and replays the
same actions through the same envs in a plain loop. Overhead = runner time / baseline time - 1:
prompt building, turn records, asyncio, grouping and bookkeeping.

    .venv/bin/python benchmarks/runner_overhead.py                      # scripted policy, Kuhn + TTT
    .venv/bin/python benchmarks/runner_overhead.py --policy smollm2 --episodes 16

Runs alternate (runner, baseline, runner, ...) and the overhead is the median of the pairs, so a
burst of load from another process does not land on one side only. With a model, generation time
itself varies by ±15% between identical calls on a shared 2-core machine, more than the runner costs;
the "bookkeeping" column is therefore also reported: the share of the runner's wall time spent outside
policy calls and env steps, from its own clock (``Runner.stats``), which that noise does not touch.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import rlvr
from rlvr.agents import Completion, Policy, RandomLegalPolicy, SamplingParams
from rlvr.core.records import Message, Trajectory
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.rollout import Player, Runner

SEATS = ("player_0", "player_1")
BOOKKEEPING: list[float] = []
"""Per runner run: the share of its wall time spent outside policy calls and env steps (its stats)."""


@dataclass
class Recording(Policy):
    """Passes calls through and keeps each batch with the params it came with."""

    inner: Policy
    calls: list[tuple[list[list[Message]], SamplingParams | None]] = field(default_factory=list)

    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        self.calls.append(([list(m) for m in batch], params))
        return self.inner.generate(batch, params)


def run_with_runner(policy: Policy, specs: list[EpisodeSpec], sampling: SamplingParams, max_episodes: int):
    recording = Recording(policy)
    runner = Runner({"p": Player(recording, sampling=sampling)}, max_episodes=max_episodes)
    began = time.perf_counter()
    trajectories = runner.run(specs)
    seconds = time.perf_counter() - began
    runner.close()
    stats = runner.stats
    BOOKKEEPING.append((seconds - stats.policy_seconds - stats.env_seconds) / seconds)
    return seconds, recording.calls, trajectories


def replay_envs(trajectories: list[Trajectory]) -> float:
    """Step fresh envs through the recorded actions, one env per env id reused, as a bare loop would."""
    envs = {}
    began = time.perf_counter()
    for trajectory in trajectories:
        env = envs.get(trajectory.env_id)
        if env is None:
            env = envs[trajectory.env_id] = rlvr.make_aec(trajectory.env_id)
        actions = iter(turn.action for turn in trajectory.turns)
        env.reset(seed=trajectory.seed)
        for _agent in env.agent_iter():
            _observation, _reward, terminated, truncated, _info = env.last()
            env.step(None if terminated or truncated else next(actions))
    return time.perf_counter() - began


def call_directly(policy: Policy, calls) -> float:
    began = time.perf_counter()
    for batch, params in calls:
        policy.generate(batch, params)
    return time.perf_counter() - began


def measure(policy: Policy, specs, sampling, max_episodes: int, repeats: int) -> dict[str, float]:
    """A warm-up run records the batches and actions; then each repeat times the runner and the
    baseline back to back, alternating which goes first so neither always gets the warmer caches."""
    _, calls, trajectories = run_with_runner(policy, specs, sampling, max_episodes)
    BOOKKEEPING.clear()
    assert not any(t.error for t in trajectories), [t.error for t in trajectories if t.error]
    ratios, runner_times, baseline_times, policy_times = [], [], [], []
    for repeat in range(repeats):
        timings: dict[str, float] = {}
        for side in ("runner", "baseline") if repeat % 2 == 0 else ("baseline", "runner"):
            if side == "runner":
                timings["runner"], calls, trajectories = run_with_runner(
                    policy, specs, sampling, max_episodes
                )
            else:
                timings["policy"] = call_directly(policy, calls)
                timings["baseline"] = timings["policy"] + replay_envs(trajectories)
        ratios.append(timings["runner"] / timings["baseline"] - 1)
        runner_times.append(timings["runner"])
        baseline_times.append(timings["baseline"])
        policy_times.append(timings["policy"])
    turns = sum(len(t.turns) for t in trajectories)
    tokens = sum(int(turn.info.get("completion_tokens", 0)) for t in trajectories for turn in t.turns)
    return {
        "episodes": len(specs),
        "turns": turns,
        "tokens": tokens,
        "runner_s": statistics.median(runner_times),
        "baseline_s": statistics.median(baseline_times),
        "policy_share": statistics.median(p / b for p, b in zip(policy_times, baseline_times, strict=True)),
        "overhead": statistics.median(ratios),
        "bookkeeping": statistics.median(BOOKKEEPING),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policy", choices=("random", "smollm2"), default="random")
    parser.add_argument("--env", action="append", help="env ids (default Kuhn Poker and TicTacToe)")
    parser.add_argument("--episodes", type=int, default=400)
    parser.add_argument("--max-episodes", type=int, default=64, help="episodes live at once")
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    env_ids = args.env or ["rlvr/KuhnPoker-v0", "rlvr/TicTacToe-v0"]
    if args.policy == "smollm2":
        from rlvr.agents.transformers_backend import TransformersPolicy

        policy: Policy = TransformersPolicy("smollm2")
        sampling = SamplingParams(temperature=0.0, max_tokens=args.max_tokens)
    else:
        policy = RandomLegalPolicy(seed=0)
        sampling = SamplingParams()
    print(
        f"policy={args.policy} episodes/env={args.episodes} live={args.max_episodes} repeats={args.repeats}"
    )
    print(
        "| env | episodes | turns | tokens | runner s | baseline s | policy share | overhead | per turn "
        "| bookkeeping |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for env_id in env_ids:
        specs = [EpisodeSpec(env_id, seed, dict.fromkeys(SEATS, "p")) for seed in range(args.episodes)]
        result = measure(policy, specs, sampling, args.max_episodes, args.repeats)
        print(
            f"| {env_id} | {result['episodes']} | {result['turns']} | {result['tokens']} | "
            f"{result['runner_s']:.3f} | {result['baseline_s']:.3f} | {result['policy_share']:.0%} | "
            f"{result['overhead']:+.1%} | "
            f"{(result['runner_s'] - result['baseline_s']) / result['turns'] * 1e6:+.0f} µs | "
            f"{result['bookkeeping']:.2%} |"
        )


if __name__ == "__main__":
    main()
