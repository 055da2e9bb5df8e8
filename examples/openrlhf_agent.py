"""rlvr envs as OpenRLHF multi-turn agents: the file to pass to ``--train.agent_func_path``.

OpenRLHF (>= 0.9.1.post1; written against 0.11.2) loads this file in each vLLM rollout actor and uses
its ``AgentExecutor``: every sample resets the env named in its ``label`` with the label's seed, each
model reply is stepped into the env, and the env's next observation comes back as a user turn in the
model's chat template (``rlvr.runners.integrations.openrlhf``). The sample's reward is the episode
return.

Make the prompt dataset (one row per seed; ``input`` is the first chat, ``label`` the task JSON)::

    python examples/openrlhf_agent.py --env rlvr/KuhnPoker-v0 --seeds 2000 --out data/kuhn.jsonl

then train (a GPU machine with ``pip install 'openrlhf[vllm]'`` and ``rlvr-gym``; the engine, GPU
and DeepSpeed flags as in OpenRLHF's ``examples/scripts/train_reinforce_baseline_ray_agent_async.sh``)::

    python -m openrlhf.cli.train_ppo_ray \\
        --actor.model_name_or_path Qwen/Qwen2.5-1.5B-Instruct \\
        --data.prompt_dataset data/kuhn.jsonl --data.input_key input --data.label_key label \\
        --data.apply_chat_template --data.max_len 4096 \\
        --train.agent_func_path examples/openrlhf_agent.py \\
        --algo.advantage.estimator reinforce_baseline --rollout.n_samples_per_prompt 8 ...

(``--agent_func_path`` and flat flag names before OpenRLHF 0.10.2.) ``--data.max_len`` bounds the
whole episode (prompt, replies and observations): an episode that fills it is cut with the return so
far. Env keyword arguments (``--kwargs rounds=1``) go into every label. The sample's ``score`` is the
return too, so set ``--algo.dynamic_filtering_range`` to the env's return range if you filter.
"""

from __future__ import annotations

import argparse
import json

from rlvr.runners.integrations.openrlhf import openrlhf_agent_executor, openrlhf_rows, write_openrlhf_jsonl

if __name__ != "__main__":
    # Loaded by OpenRLHF (as "agent_module"), which looks up this name.
    AgentExecutor = openrlhf_agent_executor()


def main() -> None:
    parser = argparse.ArgumentParser(description="Write an OpenRLHF prompt dataset for an rlvr env.")
    parser.add_argument("--env", default="rlvr/KuhnPoker-v0", help="env id")
    parser.add_argument("--seeds", type=int, default=1000, help="rows, with seeds 0..N-1")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--max-turns", type=int, default=None, help="cut episodes after this many replies")
    parser.add_argument("--kwargs", nargs="*", default=[], help="env keyword arguments as key=JSON value")
    parser.add_argument("--out", default="data/rlvr_openrlhf.jsonl")
    args = parser.parse_args()
    env_kwargs = {}
    for pair in args.kwargs:
        key, _, value = pair.partition("=")
        try:
            env_kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            env_kwargs[key] = value
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    rows = openrlhf_rows(args.env, seeds, max_turns=args.max_turns, **env_kwargs)
    print(f"wrote {len(rows)} rows to {write_openrlhf_jsonl(rows, args.out)}")


if __name__ == "__main__":
    main()
