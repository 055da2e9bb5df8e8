"""The expert solves every generated game; random admissible play almost never does.

The first test is also the engine's speed check: 3 splits x 6 task types x 200 games through the full
env (admissible commands rebuilt every step), with the rate printed under ``pytest -s``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from rlvr.envs.alfworld.env import ALFWorldEnv
from rlvr.envs.alfworld.expert import expert_action, next_command
from rlvr.envs.alfworld.tasks import SPLITS, TASK_TYPES
from tests.envs.alfworld.conftest import play_expert, play_random

GAMES_PER_TYPE = 200


@pytest.mark.parametrize("split", SPLITS)
def test_expert_solves_every_game(split: str) -> None:
    env = ALFWorldEnv(split)
    steps = 0
    started = time.perf_counter()
    for task_type in TASK_TYPES:
        for game in range(GAMES_PER_TYPE):
            _, info = play_expert(env, task_type=task_type, game=game)
            metrics = info["metrics"]
            assert metrics["success"] == 1.0 and metrics["return"] == 1.0, (task_type, game)
            assert metrics["invalid_actions"] == 0.0 and metrics["truncated"] == 0.0
            steps += int(metrics["steps"])
    elapsed = time.perf_counter() - started
    games = len(TASK_TYPES) * GAMES_PER_TYPE
    print(f"\n{split}: {games} games, {steps} steps in {elapsed:.2f} s = {steps / elapsed:,.0f} steps/s")


def test_expert_takes_over_midway() -> None:
    """DAgger-style: after random moves (objects moved, receptacles opened, something in hand) the
    expert still finishes, without an invalid command."""
    env = ALFWorldEnv("train", max_steps=200)
    rng = np.random.default_rng(7)
    for seed in range(300):
        _, info = env.reset(seed=seed)
        done = False
        for _ in range(int(rng.integers(0, 40))):
            commands = info["admissible_commands"]
            _, _, terminated, truncated, info = env.step(commands[int(rng.integers(len(commands)))])
            done = terminated or truncated
            if done:
                break
        taken = 0
        while not done:
            _, _, terminated, truncated, info = env.step(expert_action(env))
            assert not info["invalid_action"], (seed, info["invalid_reason"])
            taken += 1
            done = terminated or truncated
        assert info["won"] and taken <= 30, seed


def test_expert_reads_an_engine_as_well_as_an_env() -> None:
    env = ALFWorldEnv("valid_unseen")
    env.reset(seed=3)
    assert expert_action(env) == expert_action(env.engine) == next_command(env.house)


def test_random_admissible_play_rarely_succeeds() -> None:
    env = ALFWorldEnv("train")
    rng = np.random.default_rng(0)
    wins = sum(play_random(env, seed, rng)[1]["won"] for seed in range(300))
    assert wins / 300 < 0.05
