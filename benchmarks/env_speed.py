"""Steps per second of random legal play: our games against TextArena's, in the same process.

Both sides play the same games with uniformly random legal moves and every player's observation
fetched each turn, as a training loop would. TextArena runs its raw env (no observation wrappers);
we run our PettingZoo AEC view (the like-for-like multi-agent interface) and our gymnasium view
(agent against the built-in random bot). The figure that matters is the ratio ours / TextArena.

    .venv/bin/python benchmarks/env_speed.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import rlvr


def _time_steps(play_episode: Callable[[int], int], seconds: float) -> float:
    """Steps per second of ``play_episode(seed) -> steps`` over about ``seconds`` of wall time."""
    steps, seed = 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        steps += play_episode(seed)
        seed += 1
    return steps / (time.perf_counter() - start)


def ours_aec(env_id: str, **kwargs: object) -> Callable[[int], int]:
    env = rlvr.make_aec(env_id, **kwargs)
    rng = np.random.default_rng(0)

    def play(seed: int) -> int:
        env.reset(seed=seed)
        steps = 0
        for _agent in env.agent_iter():
            _observation, _reward, terminated, truncated, info = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            legal = info["legal_actions"]
            env.step(legal[int(rng.integers(len(legal)))])
            steps += 1
        return steps

    return play


def ours_gym(env_id: str, **kwargs: object) -> Callable[[int], int]:
    env = gym.make(env_id, opponent="random", **kwargs)
    rng = np.random.default_rng(0)

    def play(seed: int) -> int:
        _observation, info = env.reset(seed=seed)
        steps = 0
        while True:
            legal = info["legal_actions"]
            _observation, _reward, terminated, truncated, info = env.step(
                legal[int(rng.integers(len(legal)))]
            )
            steps += 2  # the agent's move and the bot's reply are both env steps
            if terminated or truncated:
                return steps

    return play


def _textarena_legal_moves(env: object, game: str) -> list[str]:
    state = env.state.game_state  # type: ignore[attr-defined]
    if game == "KuhnPoker":
        return [f"[{move}]" for move in state["current_legal_action_tree"]]
    board = state["board"]
    return [f"[{r * 3 + c}]" for r in range(3) for c in range(3) if board[r][c] == ""]


def textarena(game: str, **kwargs: object) -> Callable[[int], int]:
    import textarena as ta

    env = ta.make(f"{game}-v0-raw", **kwargs)
    rng = random.Random(0)

    def play(seed: int) -> int:
        env.reset(num_players=2, seed=seed)
        steps, done = 0, False
        while not done:
            env.get_observation()
            done, _info = env.step(rng.choice(_textarena_legal_moves(env, game)))
            steps += 1
        env.close()
        return steps

    return play


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="wall time per measurement")
    args = parser.parse_args()
    rows = []
    for game, env_id, kwargs in (
        ("KuhnPoker", "rlvr/KuhnPoker-v0", {}),
        ("TicTacToe", "rlvr/TicTacToe-v0", {}),
    ):
        theirs = _time_steps(textarena(game), args.seconds)
        aec = _time_steps(ours_aec(env_id, **kwargs), args.seconds)
        single = _time_steps(ours_gym(env_id, **kwargs), args.seconds)
        rows.append((game, theirs, aec, single))
    print(f"{'game':<10} {'TextArena':>12} {'rlvr AEC':>12} {'rlvr gym':>12} {'AEC/TA':>8} {'gym/TA':>8}")
    for game, theirs, aec, single in rows:
        rates = f"{theirs:>12,.0f} {aec:>12,.0f} {single:>12,.0f}"
        print(f"{game:<10} {rates} {aec / theirs:>8.2f} {single / theirs:>8.2f}")


if __name__ == "__main__":
    main()
