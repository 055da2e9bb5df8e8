"""Evidence that the learner learns: SmolLM2-135M-Instruct on the CPU, trained with RL against the
random bot on one-hand Kuhn Poker, evaluated before and after on held-out seeds.

Stages (all on the CPU, the embedded model, no network):

1. **base**: the untouched model. It answers in prose, so every move is invalid.
2. **warm start** (documented, allowed by the issue): behaviour cloning on *uniformly random legal
   moves* (``rlvr.runners.learner.warm_start``). It teaches the move format and nothing about which
   move is good: the warm-started policy plays about as well as a coin.
3. **RL**: ``Trainer`` (GRPO groups of episodes with the same seed, token-level PPO-clip) against
   ``bot:random``, the learner alternating seats.

Evaluation plays ``--eval-episodes`` held-out seeds (never trained on) against ``bot:random``, the
model alternating seats, sampling at temperature 1 (the policy RL optimises) and greedily. It reports
the win rate with a Wilson 95% interval, the invalid-move rate and the mean return (chips won), and a
two-proportion z-test of RL against the warm start. Writes ``learn_kuhn_poker.json`` and
``learn_kuhn_poker.png`` (the curve) to ``--out``.

    python benchmarks/learn_kuhn_poker.py --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from rlvr.agents.base import SamplingParams
from rlvr.agents.specs import build_policy, parse_agent_spec
from rlvr.agents.transformers_backend import TransformersPolicy
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.learner.trainer import TrainConfig, Trainer
from rlvr.runners.learner.warm_start import cloning_samples, demonstrations, warm_start
from rlvr.runners.rollout import Player, Runner

ENV = "rlvr/KuhnPoker-v0"
ENV_KWARGS = {"rounds": 1}
ROLES = ("player_0", "player_1")
EVAL_SEED = 10**6  # training seeds come from a generator seeded by (seed, iteration); these are apart
DEMO_SEED = 2 * 10**6


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def two_proportion_z(wins_a: float, n_a: int, wins_b: float, n_b: int) -> tuple[float, float]:
    """z and two-sided p-value of H0: p_a == p_b."""
    pooled = (wins_a + wins_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = (wins_b / n_b - wins_a / n_a) / se if se else 0.0
    return z, math.erfc(abs(z) / math.sqrt(2))


def evaluate(
    policy: TransformersPolicy, episodes: int, temperature: float, env_instructions: bool
) -> dict[str, Any]:
    opponent = build_policy(parse_agent_spec("bot:random"))
    specs = [
        EpisodeSpec(ENV, EVAL_SEED + k, {ROLES[k % 2]: "model", ROLES[1 - k % 2]: "bot"}, dict(ENV_KWARGS))
        for k in range(episodes)
    ]
    sampling = SamplingParams(temperature=temperature, max_tokens=8, seed=1234)
    player = Player(policy, sampling=sampling, env_instructions=env_instructions)
    runner = Runner({"model": player, "bot": opponent})
    try:
        trajectories = runner.run(specs)
    finally:
        runner.close()
    wins, invalid, returns, failed = 0.0, 0.0, [], 0
    for trajectory in trajectories:
        if trajectory.error is not None:
            failed += 1
            continue
        role = next(r for r, name in trajectory.metadata["players"].items() if name == "model")
        metrics = trajectory.metrics[role]
        wins += metrics["win"]
        invalid += metrics["invalid_move"]
        returns.append(trajectory.returns[role])
    n = len(returns)
    low, high = wilson(wins, n)
    return {
        "episodes": n,
        "failed": failed,
        "wins": wins,
        "win_rate": wins / n,
        "win_rate_ci95": [low, high],
        "invalid_rate": invalid / n,
        "mean_return": statistics.fmean(returns),
        "return_se": statistics.stdev(returns) / math.sqrt(n),
    }


def evaluate_all(
    policy: TransformersPolicy, episodes: int, label: str, env_instructions: bool = False
) -> dict[str, Any]:
    began = time.perf_counter()
    result = {
        "sampled": evaluate(policy, episodes, 1.0, env_instructions),
        "greedy": evaluate(policy, episodes, 0.0, env_instructions),
    }
    for mode, numbers in result.items():
        low, high = numbers["win_rate_ci95"]
        print(
            f"[{label} {mode}] win {numbers['win_rate']:.3f} [{low:.3f}, {high:.3f}]  "
            f"invalid {numbers['invalid_rate']:.3f}  return {numbers['mean_return']:+.3f}",
            flush=True,
        )
    print(f"[{label}] evaluated in {time.perf_counter() - began:.0f} s", flush=True)
    return result


def plot(history: list[dict[str, Any]], stages: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    iterations = [m["iteration"] for m in history]

    def curve(name: str) -> list[float]:
        keys = [f"KuhnPoker-v0/{role}/{name}" for role in ROLES]
        return [statistics.fmean(m[key] for key in keys if key in m) for m in history]

    def smooth(values: list[float], width: int = 5) -> list[float]:
        return [statistics.fmean(values[max(0, k - width + 1) : k + 1]) for k in range(len(values))]

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(iterations, curve("win"), alpha=0.3, color="tab:blue")
    left.plot(iterations, smooth(curve("win")), color="tab:blue", label="training win rate (T=1, 5-it. mean)")
    for label, x, colour in (("warm start", 0, "tab:orange"), ("after RL", iterations[-1], "tab:green")):
        numbers = stages[label]["sampled"]
        low, high = numbers["win_rate_ci95"]
        rate = numbers["win_rate"]
        left.errorbar([x], [rate], yerr=[[rate - low], [high - rate]], fmt="o", color=colour, capsize=4,
                      label=f"held-out eval, {label} (95% CI)")  # fmt: skip
    left.set_xlabel("RL iteration")
    left.set_ylabel("win rate vs bot:random")
    left.legend(fontsize=8)
    left.set_title("Kuhn Poker (1 hand), SmolLM2-135M, CPU")
    right.plot(iterations, curve("return"), alpha=0.3, color="tab:purple")
    right.plot(iterations, smooth(curve("return")), color="tab:purple", label="mean return (chips)")
    right.plot(iterations, curve("invalid_move"), color="tab:red", label="invalid-move rate")
    right.set_xlabel("RL iteration")
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="benchmarks/results", help="where the JSON, PNG and run go")
    parser.add_argument("--run-dir", help="trainer output (default: OUT/learn_kuhn_poker_run)")
    parser.add_argument("--eval-episodes", type=int, default=400)
    parser.add_argument("--base-episodes", type=int, default=64, help="the untouched model's eval")
    parser.add_argument("--demo-episodes", type=int, default=160, help="random-legal games to clone")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--tasks", type=int, default=8, help="seeds per RL iteration")
    parser.add_argument("--group-size", type=int, default=8, help="episodes per seed (GRPO group)")
    parser.add_argument("--lr", type=float, default=2e-6)
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps per iteration")
    parser.add_argument("--algo", default="grpo")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    run_dir = Path(args.run_dir) if args.run_dir else out / "learn_kuhn_poker_run"
    if run_dir.exists():
        raise SystemExit(f"{run_dir} exists; remove it (the trainer would resume from its checkpoint)")
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    began = time.perf_counter()
    policy = TransformersPolicy("smollm2", device="cpu", max_batch_size=64, default_max_tokens=8)
    # The untouched model gets the env's rules as its system prompt (its best chance); after the warm
    # start the model knows the format, and every prompt is the observation alone (a CPU budget: the
    # rules are ~5x the observation's tokens).
    stages: dict[str, Any] = {"base": evaluate_all(policy, args.base_episodes, "base", env_instructions=True)}

    t0 = time.perf_counter()
    turns = demonstrations(
        [ENV], episodes=args.demo_episodes, seed=DEMO_SEED, env_kwargs=ENV_KWARGS, env_instructions=False
    )
    samples = cloning_samples(policy, turns)
    losses = warm_start(policy, samples, epochs=2, batch_size=16, minibatch_size=16, learning_rate=5e-5)
    warm_seconds = time.perf_counter() - t0
    print(f"[warm start] {len(samples)} turns, {len(losses)} steps, loss {losses[0]['loss']:.3f} -> "
          f"{losses[-1]['loss']:.3f}, {warm_seconds:.0f} s", flush=True)  # fmt: skip
    stages["warm start"] = evaluate_all(policy, args.eval_episodes, "warm start")

    config = TrainConfig(
        env_ids=[ENV], env_kwargs=dict(ENV_KWARGS), algo=args.algo, opponent="bot:random",
        iterations=args.iterations, tasks_per_iteration=args.tasks, group_size=args.group_size,
        learning_rate=args.lr, max_tokens=8, temperature=1.0, minibatch_size=32,
        steps_per_iteration=args.steps, env_instructions=False,
        checkpoint_every=10**9,  # no 1.6 GB checkpoints in a benchmark
    )  # fmt: skip
    trainer = Trainer(config, policy, run_dir)
    t0 = time.perf_counter()
    history = []
    while trainer.iteration < config.iterations:
        metrics = trainer.step()
        history.append(metrics)
        wins = [metrics.get(f"KuhnPoker-v0/{r}/win") for r in ROLES]
        print(f"[rl {metrics['iteration']:3d}] win {statistics.fmean(w for w in wins if w is not None):.3f} "
              f"loss {metrics.get('loss', 0):+.4f} entropy {metrics.get('entropy', 0):.3f} "
              f"{metrics['seconds']:.0f} s", flush=True)  # fmt: skip
    rl_seconds = time.perf_counter() - t0
    stages["after RL"] = evaluate_all(policy, args.eval_episodes, "after RL")

    tests = {}
    for mode in ("sampled", "greedy"):
        a, b = stages["warm start"][mode], stages["after RL"][mode]
        z, p = two_proportion_z(a["wins"], a["episodes"], b["wins"], b["episodes"])
        tests[mode] = {"win_rate_gain": b["win_rate"] - a["win_rate"], "z": z, "p_value": p}
        print(f"[{mode}] win rate {a['win_rate']:.3f} -> {b['win_rate']:.3f}: z = {z:.2f}, p = {p:.2g}")
    result = {
        "env": ENV, "env_kwargs": ENV_KWARGS, "model": "SmolLM2-135M-Instruct (embedded GGUF, float32, CPU)",
        "torch_threads": torch.get_num_threads(), "args": vars(args), "stages": stages, "tests": tests,
        "warm_start": {"turns": len(samples), "steps": len(losses), "first_loss": losses[0]["loss"],
                       "last_loss": losses[-1]["loss"], "seconds": warm_seconds},
        "rl_seconds": rl_seconds, "total_seconds": time.perf_counter() - began, "history": history,
    }  # fmt: skip
    (out / "learn_kuhn_poker.json").write_text(json.dumps(result, indent=1))
    plot(history, stages, out / "learn_kuhn_poker.png")
    print(f"wrote {out / 'learn_kuhn_poker.json'} and {out / 'learn_kuhn_poker.png'}")


if __name__ == "__main__":
    main()
