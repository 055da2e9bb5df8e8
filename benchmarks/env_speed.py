"""Steps per second of random legal play: our games against TextArena's, in the same process.

Both sides play the same games with uniformly random legal moves drawn from the same
``random.Random`` and fetch the mover's observation every turn, as a training loop would.

* TextArena raw: ``ta.make("<Game>-v0-raw")``, no observation wrappers (the fastest TextArena gets).
* TextArena default: ``ta.make("<Game>-v0")`` as its README uses it, with its default wrappers.
* rlvr AEC: our PettingZoo view, the like-for-like multi-agent interface.
* rlvr gym: our gymnasium view, the agent against the built-in random bot.

The ratios that matter are ours / TextArena raw.

    .venv/bin/python benchmarks/env_speed.py [--seconds 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import gymnasium as gym

import rlvr

EpisodeFn = Callable[[int], int]
"""Plays the episode with this seed and returns how many moves it took."""


def steps_per_second(play_episode: EpisodeFn, seconds: float, repeats: int) -> float:
    """Best of ``repeats`` runs of about ``seconds`` each: the least disturbed by other processes."""
    best = 0.0
    for _ in range(repeats):
        steps, seed = 0, 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            steps += play_episode(seed)
            seed += 1
        best = max(best, steps / (time.perf_counter() - start))
    return best


def ours_aec(env_id: str) -> EpisodeFn:
    env = rlvr.make_aec(env_id)
    rng = random.Random(0)

    def play(seed: int) -> int:
        env.reset(seed=seed)
        steps = 0
        for _agent in env.agent_iter():
            _observation, _reward, terminated, truncated, info = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            env.step(rng.choice(info["legal_actions"]))
            steps += 1
        return steps

    return play


def ours_gym(env_id: str) -> EpisodeFn:
    env = gym.make(env_id, opponent="random")
    rng = random.Random(0)

    def play(seed: int) -> int:
        _observation, info = env.reset(seed=seed)
        while True:
            _observation, _reward, terminated, truncated, info = env.step(rng.choice(info["legal_actions"]))
            if terminated or truncated:
                return env.unwrapped.game.turn  # the agent's moves and the bot's replies

    return play


def _textarena_legal_moves(env: object, game: str) -> list[str]:
    state = env.state.game_state  # type: ignore[attr-defined]
    if game == "KuhnPoker":
        return [f"[{move}]" for move in state["current_legal_action_tree"]]
    board = state["board"]
    return [f"[{r * 3 + c}]" for r in range(3) for c in range(3) if board[r][c] == ""]


def textarena(game: str, variant: str) -> EpisodeFn:
    import textarena as ta

    env = ta.make(f"{game}-v0{variant}")
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


def paired_ratio(
    ours: EpisodeFn, theirs: EpisodeFn, seconds: float, repeats: int
) -> tuple[float, float, float]:
    """Steps/s of both and the median of ``repeats`` back-to-back ratios.

    Measuring the two sides alternately, and taking the median of the pairs, keeps a burst of load
    from another process from landing on one side only.
    """
    pairs = []
    for _ in range(repeats):
        pairs.append((steps_per_second(theirs, seconds, 1), steps_per_second(ours, seconds, 1)))
    ratios = sorted(mine / their for their, mine in pairs)
    return max(p[0] for p in pairs), max(p[1] for p in pairs), ratios[len(ratios) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="wall time per measurement")
    parser.add_argument("--repeats", type=int, default=5, help="paired measurements per ratio (median kept)")
    args = parser.parse_args()
    header = ("game", "TA raw", "TA default", "rlvr AEC", "rlvr gym", "AEC/raw", "gym/raw")
    print(f"{header[0]:<10}" + "".join(f"{name:>12}" for name in header[1:]))
    for game in ("KuhnPoker", "TicTacToe"):
        env_id = f"rlvr/{game}-v0"
        # TextArena's default wrappers keep every observation ever made (even across resets), so
        # it slows down as it runs: one short measurement says enough.
        default = steps_per_second(textarena(game, ""), min(args.seconds, 1.0), 1)
        raw, aec, aec_ratio = paired_ratio(
            ours_aec(env_id), textarena(game, "-raw"), args.seconds, args.repeats
        )
        _, single, gym_ratio = paired_ratio(
            ours_gym(env_id), textarena(game, "-raw"), args.seconds, args.repeats
        )
        rates = "".join(f"{rate:>12,.0f}" for rate in (raw, default, aec, single))
        print(f"{game:<10}{rates}{aec_ratio:>12.2f}{gym_ratio:>12.2f}")
    print("steps/s: best single measurement; ratios: median of back-to-back pairs")


if __name__ == "__main__":
    main()
