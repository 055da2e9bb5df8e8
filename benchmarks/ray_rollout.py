"""What Ray costs a rollout on one machine, and what a weight push costs `rlvr train --ray`, in one run.

Three ways to play the same plan of episodes, timed alternately so load from another process does
not land on one side only:

* ``local``: the runner in this process (what ``rlvr eval`` does without ``--ray``);
* ``ray xN``: a ``RolloutPool`` of N actors kept warm across batches (what ``rlvr train --ray`` does;
  actor start-up, paid once per run, is reported separately).

The plan is Kuhn Poker and TicTacToe with ``random-legal`` against ``bot:random`` (no model, so
the numbers are the rollout machinery's). Every run must store identical trajectories; the script
checks it. Then ``load_weights`` pushes the state dict of a model shaped like SmolLM2-135M (random
weights, float32) into every actor's copy of it, as ``Trainer.sync_weights`` does after each update:
one put into the object store, then each actor checks names and shapes and copies.

    .venv/bin/python benchmarks/ray_rollout.py [--episodes 400] [--workers 2]

Writes ``benchmarks/results/ray_rollout.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rlvr.agents.base import SamplingParams
from rlvr.agents.specs import build_policy, parse_agent_spec
from rlvr.runners.distributed import RayOptions, RolloutPool, WorkerConfig
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.rollout import Player, Runner

ENVS = ("rlvr/KuhnPoker-v0", "rlvr/TicTacToe-v0")


def plan(episodes: int) -> list[EpisodeSpec]:
    specs = []
    for n in range(episodes):
        env_id = ENVS[n % len(ENVS)]
        seats = {"player_0": "me", "player_1": "bot"} if n % 4 < 2 else {"player_0": "bot", "player_1": "me"}
        specs.append(EpisodeSpec(env_id, n, seats))
    return specs


def config() -> WorkerConfig:
    agents = (parse_agent_spec("me=random-legal"), parse_agent_spec("bot=bot:random"))
    return WorkerConfig(
        agents=agents, sampling=SamplingParams(), backend_options=(("seed", 0),), max_episodes=64
    )


def play_local(specs: list[EpisodeSpec]) -> tuple[float, list[dict[str, Any]]]:
    players = {
        "me": Player(build_policy(parse_agent_spec("random-legal"), seed=0)),
        "bot": build_policy(parse_agent_spec("bot:random")),
    }
    runner = Runner(players, max_episodes=64)
    began = time.perf_counter()
    try:
        trajectories = runner.run(specs)
    finally:
        runner.close()
    return time.perf_counter() - began, [_comparable(t.to_dict()) for t in trajectories]


def play_pool(pool: RolloutPool, specs: list[EpisodeSpec]) -> tuple[float, list[dict[str, Any]]]:
    began = time.perf_counter()
    played: list[dict[str, Any] | None] = [None] * len(specs)
    for index, trajectory in pool.stream(specs):
        played[index] = _comparable(trajectory.to_dict())
    return time.perf_counter() - began, [t for t in played if t is not None]


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(data))
    data.get("metadata", {}).pop("duration_s", None)
    data.pop("episode_id", None)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    specs = plan(args.episodes)

    import ray

    # Logical CPUs for the 1-actor and the N-actor pool side by side (they take turns on the cores).
    ray.init(num_cpus=1 + args.workers, include_dashboard=False, log_to_driver=False)
    times: dict[str, list[float]] = {"local": []}
    reference = None
    try:
        pools: dict[str, RolloutPool] = {}
        startup: dict[str, float] = {}
        for workers in sorted({1, args.workers}):
            began = time.perf_counter()
            pool = RolloutPool(config(), RayOptions(num_workers=workers))
            for _ in pool.stream(specs[: 2 * workers]):  # the actors are up and have played once
                pass
            startup[f"ray x{workers}"] = time.perf_counter() - began
            pools[f"ray x{workers}"] = pool
            times[f"ray x{workers}"] = []
        for _ in range(args.repeats):
            seconds, stored = play_local(specs)
            times["local"].append(seconds)
            reference = reference or stored
            assert stored == reference, "local runs differ"
            for name, pool in pools.items():
                seconds, stored = play_pool(pool, specs)
                times[name].append(seconds)
                assert stored == reference, f"{name} stored other episodes than the local run"
        for pool in pools.values():
            pool.close()

        # A weight push as Trainer.sync_weights does it: one put, every actor checks and copies.
        with tempfile.TemporaryDirectory() as directory:
            spec = _smollm2_shaped(Path(directory))
            learner = build_policy(parse_agent_spec(spec), device="cpu")
            weights = {name: tensor.detach().cpu() for name, tensor in learner.model.state_dict().items()}
            push_mb = sum(t.numel() * t.element_size() for t in weights.values()) / 2**20
            worker = WorkerConfig(agents=(parse_agent_spec(spec),), sampling=SamplingParams())
            push_pool = RolloutPool(worker, RayOptions(num_workers=args.workers))
            push_seconds = []
            for _ in range(args.repeats):
                began = time.perf_counter()
                push_pool.load_weights("learner", weights)
                push_seconds.append(time.perf_counter() - began)
            push_pool.close()
    finally:
        ray.shutdown()

    median = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "episodes": args.episodes,
        "identical_to_local": True,
        "seconds_median": median,
        "episodes_per_s": {name: args.episodes / seconds for name, seconds in median.items()},
        "vs_local": {name: median["local"] / seconds for name, seconds in median.items()},
        "pool_startup_s": startup,
        "weight_push": {
            "model": "SmolLM2-135M-shaped Llama, float32",
            "mb": round(push_mb, 1),
            "workers": args.workers,
            "seconds_median": statistics.median(push_seconds),
        },
        "cpus": os.cpu_count(),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ray_rollout.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _smollm2_shaped(directory: Path) -> str:
    """A random model of SmolLM2-135M's shape with its tokenizer, saved for actors to load (``hf:DIR``)."""
    import torch
    import transformers

    from rlvr.agents.embedded import embedded_gguf

    gguf_dir, gguf = embedded_gguf()
    tokenizer = transformers.AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf, local_files_only=True)
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
        num_attention_heads=9, num_key_value_heads=3, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    transformers.LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return f"learner=hf:{directory}"


if __name__ == "__main__":
    main()
