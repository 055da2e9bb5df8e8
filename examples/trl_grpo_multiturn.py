"""A few multi-turn TRL GRPO steps on the CPU: the embedded SmolLM2 plays every move of Kuhn Poker.

Unlike ``examples/trl_grpo.py`` (the env as a reward function, only the first move trained), this
uses TRL's ``rollout_func`` hook (``rlvr.runners.integrations.trl_rollouts``): each sampled episode
is played out by the model being trained, turn by turn, the env's observations coming back as user
turns; those tokens are masked out of the loss (``env_mask``) and the episode's return is the reward.
The settings are tiny so that it runs in minutes on a laptop; scale ``max_steps``,
``num_generations``, ``max_completion_length`` and ``max_turn_tokens`` up for a real run (and
``use_vllm=True`` on a GPU: the same rollout then generates through vLLM).

    python examples/trl_grpo_multiturn.py [--steps 2] [--out runs/trl_grpo_multiturn]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from trl_grpo import cpu_grpo_settings, load_smollm2

from rlvr.runners.integrations.trl_rollouts import (
    episode_return_reward,
    multiturn_rollout_func,
    rollout_dataset,
)

ENV_ID = "rlvr/KuhnPoker-v0"
ENV_KWARGS = {"rounds": 2}
"""Two hands per episode: at least two model turns, each with the previous hand's outcome in view."""

FEW_SHOT = [
    {"role": "user", "content": "Your card: Q.\nYour move. Legal moves: [check], [bet]."},
    {"role": "assistant", "content": "[check]"},
    {"role": "user", "content": "player_1 bets (pot: 3).\nYour move. Legal moves: [call], [fold]."},
    {"role": "assistant", "content": "[call]"},
]
"""Two example moves before the deal: SmolLM2-135M rarely writes a bracketed move from the rules
alone, and an episode of forfeits gives GRPO nothing to compare."""


def build_trainer(
    model: Any,
    tokenizer: Any,
    out: str,
    *,
    steps: int = 2,
    seeds: range = range(8),
    env_kwargs: Mapping[str, Any] = ENV_KWARGS,
    rollout_func: Callable[[list[Any], Any], dict[str, Any]] | None = None,
    max_turn_tokens: int = 16,
    **config: Any,
) -> Any:
    """A ``GRPOTrainer`` whose rollouts are whole episodes; ``config`` overrides any ``GRPOConfig`` field.

    ``max_completion_length`` bounds a whole episode (replies and observations together).
    """
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl import GRPOConfig, GRPOTrainer

    # A cooler policy than TRL's default 1.0: the 135M model's samples stay closer to the format.
    settings = {**cpu_grpo_settings(out, steps, max_completion_length=256), "temperature": 0.6, **config}
    return GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        reward_funcs=episode_return_reward,
        args=GRPOConfig(**settings),
        train_dataset=rollout_dataset(ENV_ID, seeds, few_shot=FEW_SHOT, **env_kwargs),
        rollout_func=rollout_func or multiturn_rollout_func(max_turn_tokens=max_turn_tokens),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--out", default="runs/trl_grpo_multiturn")
    args = parser.parse_args()
    model, tokenizer = load_smollm2()
    trainer = build_trainer(model, tokenizer, args.out, steps=args.steps)
    started = time.perf_counter()
    trainer.train()
    print(f"{args.steps} multi-turn GRPO steps in {time.perf_counter() - started:.1f} s")
    keys = ("step", "reward", "reward_std", "loss", "completions/mean_length")
    for entry in trainer.state.log_history:
        print({key: entry[key] for key in keys if key in entry})


if __name__ == "__main__":
    main()
