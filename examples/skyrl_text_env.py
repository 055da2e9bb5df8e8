"""Our envs inside SkyRL: dataset rows for its trainer, and the loop its generator runs, played here.

SkyRL's trainer reads a dataset whose rows name an ``env_class`` and builds that env per row with
``skyrl_gym.make(env_class, env_config=..., extras=row)``; its generator then alternates model turns
and ``env.step``. This script writes such rows (``--rows rows.jsonl``) and plays them through
``skyrl_gym`` with any rlvr agent spec, which is what a SkyRL run does with its policy in the loop::

    pip install 'rlvr-gym[skyrl]'
    python examples/skyrl_text_env.py --env rlvr/KuhnPoker-v0 --seeds 4 --agent random-legal
    python examples/skyrl_text_env.py --agent smollm2 --rows kuhn_rows.jsonl

In a SkyRL run, import ``rlvr.runners.integrations.skyrl`` and call ``register_skyrl_env()`` before
the trainer builds envs (e.g. in the entry point), and point ``data.train_data`` at the rows.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from rlvr.agents.base import SamplingParams
from rlvr.agents.specs import build_policy, parse_agent_spec
from rlvr.runners.integrations.skyrl import register_skyrl_env, skyrl_rows


def play_rows(rows: Sequence[dict], agent: str = "random-legal", max_tokens: int = 64) -> list[dict]:
    """One episode per row through ``skyrl_gym``; the episode's return and metrics per row."""
    import skyrl_gym

    register_skyrl_env()
    policy = build_policy(parse_agent_spec(agent), seed=0)
    sampling = SamplingParams(temperature=0.0, max_tokens=max_tokens)
    results = []
    for row in rows:
        env = skyrl_gym.make(row["env_class"], env_config={}, extras=row)
        chat, _ = env.init(row["prompt"])
        done = False
        while not done:
            reply = policy.generate([chat], sampling)[0].text  # type: ignore[union-attr]
            output = env.step(reply)
            chat = [*chat, {"role": "assistant", "content": reply}, *output["observations"]]
            done = output["done"]
        results.append({"seed": row["seed"], **env.get_metrics()})
        env.close()
    return results


def main(argv: Sequence[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="rlvr/KuhnPoker-v0")
    parser.add_argument("--seeds", type=int, default=4, help="rows (seeds 0..N-1)")
    parser.add_argument("--agent", default="random-legal", help="any rlvr agent spec (smollm2, hf:MODEL...)")
    parser.add_argument("--rows", help="also write the rows here (JSONL) for SkyRL's data.train_data")
    args = parser.parse_args(argv)
    rows = skyrl_rows(args.env, range(args.seeds))
    if args.rows:
        with open(args.rows, "w") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
    results = play_rows(rows, args.agent)
    for result in results:
        print(json.dumps(result))
    return results


if __name__ == "__main__":
    main()
