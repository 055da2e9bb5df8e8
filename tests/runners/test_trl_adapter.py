"""The TRL adapter: env prompts and reward functions checked against direct env play, and the example's
``GRPOTrainer`` run for one step.

The trainer runs on a tiny randomly initialised Llama with SmolLM2's tokenizer (chat template
included): with SmolLM2 itself two GRPO steps took ~4.5 minutes on a busy 2-core CPU, too slow for
the suite; ``examples/trl_grpo.py`` keeps the real model.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from rlvr.agents.conversation import Conversation
from rlvr.core.registry import make
from tests.runners.tiny_models import smollm2_tokenizer, tiny_llama

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("trl") is None or importlib.util.find_spec("datasets") is None,
    reason="trl and datasets are not installed (pip install 'rlvr-gym[trl]')",
)

ENV_ID = "rlvr/KuhnPoker-v0"
KWARGS = {"rounds": 1}


def _direct(seed: int, first: str, finish: str) -> float:
    """Play the env by hand: ``first`` as the first move, then random legal moves from the same stream."""
    env = make(ENV_ID, **KWARGS)
    env.reset(seed=seed)
    _, reward, terminated, truncated, info = env.step(first)
    total = reward
    rng = np.random.default_rng([seed, 2])
    while finish == "continue" and not (terminated or truncated):
        legal = info["legal_actions"]
        _, reward, terminated, truncated, info = env.step(legal[int(rng.integers(len(legal)))])
        total += reward
    return total


def test_dataset_prompts_are_the_runners_first_prompt() -> None:
    from rlvr.runners.integrations.trl import env_dataset

    dataset = env_dataset(ENV_ID, [0, 1, 2], **KWARGS)
    assert dataset.column_names == ["prompt", "env_id", "seed"]
    for row in dataset:
        env = make(ENV_ID, **KWARGS)
        observation, info = env.reset(seed=row["seed"])
        assert row["prompt"] == Conversation.from_reset(observation, info).to_messages()
        assert row["prompt"][0]["role"] == "system"


@pytest.mark.parametrize("finish", ["continue", "first_step"])
def test_reward_function_matches_direct_play(finish: str) -> None:
    from rlvr.runners.integrations.trl import env_dataset, env_reward_func

    seeds = list(range(6))
    dataset = env_dataset(ENV_ID, seeds, **KWARGS)
    reward = env_reward_func(ENV_ID, finish=finish, **KWARGS)
    for move in ("[bet]", "[check]", "I think I will fold."):
        # TRL's conversational completions: one assistant message per sample.
        completions = [[{"role": "assistant", "content": f"Let me see. {move}"}] for _ in seeds]
        got = reward(dataset["prompt"], completions, seed=dataset["seed"], env_id=dataset["env_id"])
        assert got == [_direct(seed, f"Let me see. {move}", finish) for seed in seeds]
    # An unparseable reply forfeits: the env's invalid-move return, whatever the continuation.
    assert set(reward(dataset["prompt"], ["blah"] * 6, seed=seeds)) == {-1.5}


@pytest.mark.xdist_group("smollm2")
def test_example_trainer_runs_one_step(tmp_path) -> None:
    tokenizer = smollm2_tokenizer(left_padded=True)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    try:
        import trl_grpo
    finally:
        sys.path.pop(0)
    model = tiny_llama(tokenizer)
    trainer = trl_grpo.build_trainer(model, tokenizer, str(tmp_path), steps=1, seeds=range(4))
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert trainer.state.global_step == 1 and len(logged) == 1
    # Random tokens are never a legal move: every sample forfeits.
    assert logged[0]["reward"] == pytest.approx(-1.5)
