"""``rlvr/ALFWorld-v0`` as a gymnasium env: the contract, determinism, endings and options."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlvr.core.game import GameOverError
from rlvr.envs.alfworld.env import ALFWorldEnv
from rlvr.envs.alfworld.expert import expert_action
from rlvr.envs.alfworld.tasks import SPLITS, TASK_TYPES
from tests.envs.alfworld.conftest import play_expert, play_random

STEP_KEYS = {"turn", "player", "role", "invalid_action", "invalid_reason", "admissible_commands", "won"}
STEP_KEYS |= {"task_type", "goal", "split", "game", "task_id", "metrics"}


@pytest.mark.parametrize("split", SPLITS)
def test_passes_gymnasium_check_env(split: str) -> None:
    check_env(ALFWorldEnv(split), skip_render_check=True)


def test_reset_poses_the_task_and_the_rules() -> None:
    env = ALFWorldEnv()
    observation, info = env.reset(seed=0)
    assert observation.startswith("-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room.")
    assert observation.endswith(f"\n\nYour task is to: {info['goal']}")
    assert set(info) == STEP_KEYS | {"instructions"}
    assert info["turn"] == 0 and info["player"] == "agent" and info["role"] == "agent"
    assert info["invalid_action"] is False and info["won"] is False and info["metrics"] == {}
    assert info["task_type"] in TASK_TYPES and info["split"] == "train"
    assert "legal_actions" not in info
    assert "go to {receptacle}" in info["instructions"] and "Nothing happens." in info["instructions"]
    assert (
        info["admissible_commands"][-3:] == ["help", "inventory", "look"]
        or "look" in info["admissible_commands"]
    )


def test_same_seed_same_episode_byte_for_byte() -> None:
    transcripts = []
    for _ in range(2):
        env = ALFWorldEnv("valid_seen")
        rng = np.random.default_rng(3)
        transcripts.append([play_random(env, seed, rng)[0] for seed in (5, 6, 7)])
    assert transcripts[0] == transcripts[1]
    env = ALFWorldEnv("valid_seen")
    assert env.reset(seed=5)[0] != env.reset(seed=6)[0]
    # A game is a function of (split, task type, game number), whatever the env's stream did before.
    first = play_expert(ALFWorldEnv("train"), task_type="pick_two_obj_and_place", game=42)[0]
    env = ALFWorldEnv("train")
    env.reset(seed=99)
    env.step("look")
    assert play_expert(env, task_type="pick_two_obj_and_place", game=42)[0] == first
    assert play_expert(ALFWorldEnv("valid_seen"), task_type="pick_two_obj_and_place", game=42)[0] != first


def test_winning_pays_once_and_ends_the_episode() -> None:
    env = ALFWorldEnv()
    env.reset(seed=1)
    rewards = []
    while True:
        observation, reward, terminated, truncated, info = env.step(expert_action(env))
        assert set(info) == STEP_KEYS
        rewards.append(reward)
        if terminated or truncated:
            break
        assert info["player"] == "agent" and info["metrics"] == {} and not info["won"]
    assert terminated and not truncated and rewards[-1] == 1.0 and sum(rewards) == 1.0
    assert info["won"] and info["player"] is None
    metrics = info["metrics"]
    assert metrics["success"] == metrics["return"] == 1.0 and metrics["steps"] == len(rewards)
    assert metrics["invalid_actions"] == metrics["stopped_on_repeat"] == metrics["truncated"] == 0.0
    assert sum(metrics[f"task_{task_type}"] for task_type in TASK_TYPES) == 1.0
    assert metrics[f"task_{info['task_type']}"] == 1.0
    assert env.render() == observation
    with pytest.raises(GameOverError):
        env.step("look")


def test_step_limit_truncates_and_invalid_actions_are_counted() -> None:
    env = ALFWorldEnv(max_steps=3)
    env.reset(seed=2)
    _, _, terminated, truncated, info = env.step("dance")
    assert info["invalid_action"] and info["invalid_reason"] and not (terminated or truncated)
    env.step("look")
    _, reward, terminated, truncated, info = env.step("look")  # a repeat, but the rule is off
    assert (reward, terminated, truncated) == (0.0, False, True) and info["player"] is None
    metrics = info["metrics"]
    assert metrics["steps"] == 3 and metrics["invalid_actions"] == 1 and metrics["truncated"] == 1
    assert metrics["success"] == 0.0


def test_stop_on_repeat_ends_after_two_identical_commands() -> None:
    env = ALFWorldEnv(stop_on_repeat=True)
    _, info = env.reset(seed=2)
    assert "Repeating your previous command" in info["instructions"]
    env.step("inventory")
    env.step("look")
    _, reward, terminated, truncated, info = env.step("  LOOK. ")
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert info["metrics"]["stopped_on_repeat"] == 1.0 and info["metrics"]["success"] == 0.0


def test_options_and_task_type_subsets() -> None:
    env = ALFWorldEnv(task_types="pick_heat_then_place_in_recep")
    for seed in range(5):
        assert env.reset(seed=seed)[1]["task_type"] == "pick_heat_then_place_in_recep"
    env = ALFWorldEnv(task_types=["look_at_obj_in_light", "pick_two_obj_and_place"])
    seen = {env.reset(seed=seed)[1]["task_type"] for seed in range(30)}
    assert seen == {"look_at_obj_in_light", "pick_two_obj_and_place"}
    _, info = env.reset(options={"task_type": "pick_cool_then_place_in_recep", "game": 17})
    assert info["task_type"] == "pick_cool_then_place_in_recep" and info["game"] == 17
    assert info["goal"].startswith(("put a cool ", "cool some "))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"split": "test"},
        {"task_types": []},
        {"task_types": "stack_blocks"},
        {"max_steps": 0},
        {"render_mode": "rgb_array"},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ALFWorldEnv(**kwargs)


def test_bad_reset_options_are_refused_and_step_needs_reset() -> None:
    env = ALFWorldEnv()
    with pytest.raises(GameOverError):
        env.step("look")
    with pytest.raises(ValueError):
        env.reset(options={"task_type": "nope"})
    with pytest.raises(ValueError):
        env.reset(options={"game": -1})
