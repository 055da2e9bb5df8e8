"""The TextArena adapter: TextArena's protocol mapped onto the rlvr contract, minus its flaws."""

from __future__ import annotations

import random
import sys
import threading
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test

import rlvr
from rlvr.envs.games.textarena import TextArenaGame

ta = pytest.importorskip("textarena", reason="the TextArena adapter needs the optional 'textarena' extra")

ENV_ID = "rlvr/TextArena-v0"


def _play_episode(env: gym.Env, seed: int) -> list[Any]:
    """One episode with the agent's seat played by the random bot; everything the agent saw."""
    game = env.unwrapped.game
    bot = game.make_bot("random")
    rng = np.random.default_rng(seed)
    observation, info = env.reset(seed=seed)
    record: list[Any] = [observation, info]
    for _ in range(500):
        observation, reward, terminated, truncated, info = env.step(bot(game, info["role"], rng))
        record.append((observation, reward, terminated, truncated, info))
        if terminated or truncated:
            return record
    raise AssertionError("the episode did not end")


@pytest.mark.parametrize("game_id", ["TicTacToe-v0", "KuhnPoker-v0", "Poker-v0"])
def test_random_play_ends_with_the_rewards_textarena_reports(game_id: str) -> None:
    env = gym.make(ENV_ID, game=game_id, seat=0)
    record = _play_episode(env, seed=3)
    _, _, terminated, truncated, info = record[-1]
    assert terminated and not truncated
    game = env.unwrapped.game
    rewards, _ = game.textarena_env.close()
    assert game.returns() == {f"player_{pid}": float(value) for pid, value in rewards.items()}
    assert sum(step[1] for step in record[2:]) == game.returns()["player_0"]
    assert info["metrics"]["return"] == game.returns()["player_0"]


def test_aec_view_plays_a_three_player_game_to_the_end() -> None:
    env = rlvr.make_aec(ENV_ID, game="Poker-v0", num_players=3)
    assert env.possible_agents == ["player_0", "player_1", "player_2"]
    env.reset(seed=5)
    game = env.game
    bot = game.make_bot("random")
    rng = np.random.default_rng(5)
    totals = dict.fromkeys(env.possible_agents, 0.0)
    for agent in env.agent_iter(max_iter=2000):
        _, reward, terminated, truncated, _ = env.last()
        totals[agent] += reward
        env.step(None if terminated or truncated else bot(game, agent, rng))
    assert not env.agents
    rewards, _ = game.textarena_env.close()
    assert totals == {f"player_{pid}": float(value) for pid, value in rewards.items()}


def test_gymnasium_checker_passes() -> None:
    check_env(gym.make(ENV_ID, game="TicTacToe-v0").unwrapped, skip_render_check=True)


def test_pettingzoo_api_test_passes() -> None:
    api_test(rlvr.make_aec(ENV_ID, game="TicTacToe-v0"), num_cycles=50)


def test_instructions_are_textarenas_prompt_and_not_repeated() -> None:
    env = gym.make(ENV_ID, game="TicTacToe-v0", seat=0)
    observation, info = env.reset(seed=0)
    assert info["instructions"].startswith("You are Player 0 in Tic Tac Toe.")
    assert "You are Player 0" not in observation
    assert observation.startswith("[GAME] Current Board:")
    assert info["legal_actions"] == [f"[{square}]" for square in range(9)]


def test_game_kwargs_reach_the_textarena_constructor() -> None:
    env = gym.make(ENV_ID, game="KuhnPoker-v0", game_kwargs={"max_rounds": 1})
    _, info = env.reset(seed=0)
    assert "in a 1 round game of Kuhn Poker" in info["instructions"]


def test_same_seed_same_transcript_in_two_instances() -> None:
    def transcript(seed: int) -> tuple[list[Any], list[dict[str, Any]]]:
        env = gym.make(ENV_ID, game="Poker-v0")
        record = _play_episode(env, seed)
        return record, env.unwrapped.game.transcript_dicts()

    assert transcript(7) == transcript(7)
    assert transcript(7) != transcript(8)


def test_nothing_carries_over_from_the_previous_episode() -> None:
    used = gym.make(ENV_ID, game="KuhnPoker-v0", seat=0)
    _play_episode(used, seed=1)
    fresh = gym.make(ENV_ID, game="KuhnPoker-v0", seat=0)
    assert used.reset(seed=2)[0] == fresh.reset(seed=2)[0]


def test_global_random_streams_are_untouched() -> None:
    random.seed(1234)
    np.random.seed(1234)
    python_state, numpy_state = random.getstate(), np.random.get_state()
    env = gym.make(ENV_ID, game="Poker-v0")
    _play_episode(env, seed=0)
    _play_episode(env, seed=1)
    assert random.getstate() == python_state
    after = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(after, numpy_state, strict=True))


def test_episodes_in_threads_match_episodes_run_one_by_one() -> None:
    seeds = range(6)
    expected = [_play_episode(gym.make(ENV_ID, game="KuhnPoker-v0"), seed) for seed in seeds]
    results: dict[int, list[Any]] = {}

    def run(seed: int) -> None:
        results[seed] = _play_episode(gym.make(ENV_ID, game="KuhnPoker-v0"), seed)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[seed] for seed in seeds] == expected


def test_invalid_moves_are_flagged_and_textarena_rules_apply() -> None:
    env = gym.make(ENV_ID, game="TicTacToe-v0", seat=0)
    env.reset(seed=0)
    observation, reward, terminated, _, info = env.step("[9]")
    assert (reward, terminated) == (0.0, False)
    assert info["invalid_action"] and info["invalid_reason"] == "9. Must be between 0 and 8."
    assert "attempted an invalid move" in observation
    _, reward, terminated, _, info = env.step("no move here")
    assert (reward, terminated) == (-1.0, True)
    assert info["invalid_reason"] == "The submitted move does not follow the correct format."
    assert info["metrics"]["forfeit"] == 1.0
    assert "player_0 loses on invalid moves" in env.unwrapped.game.end_reason


def test_an_action_textarena_never_sees_forfeits_at_once() -> None:
    env = gym.make(ENV_ID, game="TicTacToe-v0", seat=0, max_action_length=10)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("[4]" + " " * 20)
    assert (reward, terminated) == (-1.0, True)
    assert "longer than 10" in info["invalid_reason"]
    assert env.unwrapped.game.returns() == {"player_0": -1.0, "player_1": 1.0}


def test_unknown_game_suggests_close_ids() -> None:
    with pytest.raises(ValueError, match="TicTacToe-v0"):
        gym.make(ENV_ID, game="TicTacToee-v0")


def test_wrong_player_count_is_a_value_error_at_make_time() -> None:
    with pytest.raises(ValueError, match="num_players=3"):
        gym.make(ENV_ID, game="TicTacToe-v0", num_players=3)


def test_missing_nltk_data_names_the_download() -> None:
    nltk = pytest.importorskip("nltk")
    try:
        nltk.data.find("corpora/words")
    except LookupError:
        pass
    else:
        pytest.skip("the NLTK 'words' corpus is installed here")
    with pytest.raises(LookupError, match=r"python -m nltk\.downloader words"):
        gym.make(ENV_ID, game="Hangman-v0", num_players=1)


def test_missing_textarena_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "textarena", None)
    with pytest.raises(ImportError, match=r"pip install 'rlvr-gym\[textarena\]'"):
        TextArenaGame()
