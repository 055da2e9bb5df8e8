from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test

from rlvr.core.game import GameOverError
from rlvr.core.game_envs import GameAECEnv, GameEnv

from .toy_game import RaceToFive


class RaceEnv(GameEnv):
    game_class = RaceToFive


class RaceAEC(GameAECEnv):
    game_class = RaceToFive


def test_single_agent_view_passes_gymnasium_checker() -> None:
    check_env(RaceEnv(), skip_render_check=True)


def test_aec_view_passes_pettingzoo_api_test() -> None:
    api_test(RaceAEC(), num_cycles=50)


def test_reset_carries_instructions_and_legal_actions() -> None:
    env = RaceEnv(seat=0)
    observation, info = env.reset(seed=3)
    assert "Add [1] or [2]" in info["instructions"]
    assert info["role"] == "player_0"
    if info["player"] == "player_0":
        assert info["legal_actions"] == ["[1]", "[2]"]
    assert "Counter" in observation


def test_invalid_move_forfeits_with_spiral_penalty() -> None:
    env = RaceEnv(seat=0)
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step("[7]")
    assert (reward, terminated, truncated) == (-1.5, True, False)
    assert info["invalid_action"] and info["invalid_reason"] == "Write [1] or [2]."
    assert info["metrics"]["forfeit"] == 1.0


def test_retries_let_the_offender_try_again() -> None:
    env = RaceEnv(seat=0, invalid_retries=1)
    env.reset(seed=0)
    observation, reward, terminated, _, info = env.step("nonsense")
    assert not terminated and reward == 0.0 and info["invalid_action"]
    assert "1 retry left" in observation


def test_over_long_action_is_an_invalid_move() -> None:
    env = RaceEnv(seat=0, max_action_length=10)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("[1]" + " " * 20)
    assert terminated and reward == -1.5
    assert "longer than 10" in info["invalid_reason"]


def test_turn_limit_truncates_with_zero_reward() -> None:
    env = RaceEnv(seat=0, max_turns=2)
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step("[1]")
    assert (reward, terminated, truncated) == (0.0, False, True)
    assert info["metrics"]["truncated"] == 1.0


def test_step_after_the_end_asks_for_reset() -> None:
    env = RaceEnv(seat=0)
    env.reset(seed=0)
    env.step("junk")
    with pytest.raises(GameOverError, match="reset"):
        env.step("[1]")


def test_seat_alternates_with_seed() -> None:
    env = RaceEnv()
    assert [env.reset(seed=s)[1]["role"] for s in range(4)] == [
        "player_0",
        "player_1",
        "player_0",
        "player_1",
    ]


def test_text_opponent_sees_rules_first() -> None:
    seen: list[str] = []

    def opponent(observation: str) -> str:
        seen.append(observation)
        return "[2]"

    env = RaceEnv(seat=0, opponent=opponent)
    env.reset(seed=1)
    while True:
        _, _, terminated, truncated, _ = env.step("[1]")
        if terminated or truncated:
            break
    assert seen and seen[0].startswith("You are player_1.")


def test_text_opponent_is_briefed_again_every_episode() -> None:
    episodes: list[list[str]] = []

    def opponent(observation: str) -> str:
        episodes[-1].append(observation)
        return "[2]"

    env = RaceEnv(seat=0, opponent=opponent)
    for seed in range(4):
        episodes.append([])
        env.reset(seed=seed)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step("[1]")
            done = terminated or truncated
    for seen in episodes:
        assert seen, "the opponent moves in every episode"
        briefings = [observation.startswith("You are player_1.") for observation in seen]
        assert briefings == [True] + [False] * (len(seen) - 1)


def test_same_seed_same_episode() -> None:
    def run(seed: int) -> list:
        env = RaceEnv(seat=0)
        rng = np.random.default_rng(99)
        trace = [env.reset(seed=seed)[0]]
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(f"[{rng.integers(1, 3)}]")
            trace.append((obs, reward))
            done = terminated or truncated
        return trace

    assert run(5) == run(5)


def test_opponent_forfeit_before_the_agent_moves_is_reported_by_the_first_step() -> None:
    env = RaceEnv(seat=0, opponent=lambda observation: "I refuse to play")
    seed = next(s for s in range(50) if env.reset(seed=s)[1]["player"] is None)
    _, info = env.reset(seed=seed)
    assert info["metrics"]["forfeit"] == 0.0 and info["player"] is None
    _, reward, terminated, truncated, info = env.step("[1]")
    assert (reward, terminated, truncated) == (0.5, True, False)
    with pytest.raises(GameOverError):
        env.step("[1]")


def test_reset_options_can_pick_the_seat() -> None:
    env = RaceEnv()
    assert env.reset(seed=0, options={"seat": "player_1"})[1]["role"] == "player_1"
    assert env.reset(seed=1, options={"seat": 0})[1]["role"] == "player_0"
    with pytest.raises(ValueError, match="unknown seat"):
        env.reset(seed=0, options={"seat": "dealer"})


def test_non_text_opponent_output_is_coerced() -> None:
    env = RaceEnv(seat=0, opponent=lambda observation: 2)  # type: ignore[arg-type,return-value]
    env.reset(seed=0)
    env.step("[1]")
    assert env.game.invalid_moves("player_1") == 0
    assert any(event.text.startswith("player_1 added 2") for event in env.game.transcript)
