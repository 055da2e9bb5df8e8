"""Warm start by behaviour cloning: teach a model the *format* of an env before RL teaches it to play.

A small instruct model (SmolLM2-135M) answers a game prompt with prose, so every move is invalid, every
episode is a forfeit with the same return, and group baselines see zero advantage: RL has no signal to
start from. The warm start plays episodes with a teacher (by default ``random-legal``: a uniformly random
legal move, so the model learns which moves exist and how to write them, and nothing about which are
good), records the exact chats the teacher's seat saw, and fine-tunes the model on the teacher's replies
with next-token cross-entropy. RL then starts from a policy that plays legal moves at random.

The chats are the runner's own (``Turn.prompt``), rendered with the model's chat template exactly as
``generate`` renders them, so the cloned replies are conditioned on the prompts RL will show the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from rlvr.agents.specs import build_policy, parse_agent_spec
from rlvr.core.records import Turn
from rlvr.core.registry import get_entry
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.learner.sequences import TrainingSample
from rlvr.runners.learner.update import supervised_step
from rlvr.runners.rollout import Player, Runner

TEACHER = "teacher"
OPPONENT = "opponent"


def demonstrations(
    env_ids: Sequence[str],
    *,
    episodes: int,
    teacher: str = "random-legal",
    opponent: str = "bot:random",
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    **prompting: Any,
) -> list[Turn]:
    """The teacher's turns (prompt included) from ``episodes`` games per env, the teacher alternating
    seats against ``opponent`` (a single-seat env has no opponent). Seeds start at ``seed``; keep them
    apart from evaluation seeds. ``prompting`` (``env_instructions``, ``system_prompt``, ...) goes to
    the teacher's ``Player``: prompt the teacher as RL will prompt the student."""
    teacher_policy = build_policy(parse_agent_spec(teacher))
    opponent_policy = build_policy(parse_agent_spec(opponent))
    specs = []
    for env_id in env_ids:
        roles = get_entry(env_id).roles
        for index in range(episodes):
            seats = dict.fromkeys(roles, OPPONENT)
            seats[roles[index % len(roles)]] = TEACHER
            specs.append(EpisodeSpec(env_id, seed + index, seats, dict(env_kwargs or {})))
    runner = Runner({TEACHER: Player(teacher_policy, **prompting), OPPONENT: opponent_policy})
    try:
        trajectories = runner.run(specs)
    finally:
        runner.close()
    turns = []
    for trajectory in trajectories:
        if trajectory.error is not None:
            raise RuntimeError(f"a demonstration episode failed: {trajectory.error}")
        players = trajectory.metadata.get("players", {})
        turns += [t for t in trajectory.turns if players.get(t.role) == TEACHER and t.prompt is not None]
    return turns


def cloning_samples(policy: Any, turns: Sequence[Turn]) -> list[TrainingSample]:
    """One sample per turn: the prompt as ``policy.encode_prompt`` renders it, then the teacher's reply
    as the model would have to generate it (``policy.encode_reply``), the loss on the reply only."""
    samples = []
    for turn in turns:
        if turn.prompt is None:
            raise ValueError(f"turn {turn.index} of {turn.episode_id} has no prompt to clone from")
        prompt = policy.encode_prompt(turn.prompt)
        reply = policy.encode_reply(
            turn.prompt, turn.completion if turn.completion is not None else turn.action
        )
        samples.append(
            TrainingSample(
                input_ids=prompt + reply,
                loss_mask=[0] * len(prompt) + [1] * len(reply),
                old_logprobs=[0.0] * (len(prompt) + len(reply)),
                advantages=[0.0] * (len(prompt) + len(reply)),
                role=turn.role,
                episode_id=turn.episode_id,
                turn_indices=[turn.index],
            )
        )
    return samples


def warm_start(
    policy: Any,
    samples: Sequence[TrainingSample],
    *,
    epochs: int = 1,
    batch_size: int = 16,
    minibatch_size: int = 8,
    learning_rate: float = 5e-5,
    seed: int = 0,
    precision: str = "auto",
) -> list[dict[str, float]]:
    """Fine-tune ``policy.model`` in place on ``samples`` (shuffled per epoch, one AdamW step per
    ``batch_size`` samples); returns each step's loss. The optimizer is local: RL starts afresh."""
    model: torch.nn.Module = policy.model
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(samples))
        for start in range(0, len(order), batch_size):
            batch = [samples[int(k)] for k in order[start : start + batch_size]]
            history.append(
                supervised_step(model, optimizer, batch, minibatch_size=minibatch_size, precision=precision)
            )
    return history
