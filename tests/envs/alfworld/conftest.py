"""Playing helpers shared by the ALFWorld tests: an expert episode, a random admissible episode."""

from __future__ import annotations

from typing import Any

import numpy as np

from rlvr.envs.alfworld.env import ALFWorldEnv
from rlvr.envs.alfworld.expert import expert_action


def play_expert(env: ALFWorldEnv, **options: Any) -> tuple[list[str], dict[str, Any]]:
    """One episode driven by the expert: the transcript (intro, then "> command" and its answer) and
    the last info."""
    observation, info = env.reset(options=options)
    lines = [observation]
    done = False
    while not done:
        command = expert_action(env)
        observation, _, terminated, truncated, info = env.step(command)
        assert not info["invalid_action"], (options, command, info["invalid_reason"])
        lines += [f"> {command}", observation]
        done = terminated or truncated
    return lines, info


def play_random(env: ALFWorldEnv, seed: int, rng: np.random.Generator) -> tuple[list[str], dict[str, Any]]:
    """One episode of uniformly random admissible commands."""
    observation, info = env.reset(seed=seed)
    lines = [observation]
    done = False
    while not done:
        commands = info["admissible_commands"]
        command = commands[int(rng.integers(len(commands)))]
        observation, _, terminated, truncated, info = env.step(command)
        lines += [f"> {command}", observation]
        done = terminated or truncated
    return lines, info
