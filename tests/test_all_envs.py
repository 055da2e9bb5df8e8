"""Contract tests that every registered env must pass, whatever its task."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test

import rlvr
from rlvr.core.game import TurnGame

# The built-in envs; other tests register throwaway envs under other namespaces.
BUILTIN = [entry for entry in rlvr.list_envs() if entry.id.startswith("rlvr/")]
ENV_IDS = [entry.id for entry in BUILTIN]
MULTI_SEAT_IDS = [entry.id for entry in BUILTIN if entry.aec_entry_point]


def _requirements_met(env_id: str) -> bool:
    entry = next(e for e in rlvr.list_envs() if e.id == env_id)
    for extra in entry.requires:
        try:
            __import__(extra)
        except ImportError:
            return False
    return True


def _skip_unless_installed(env_id: str) -> None:
    if not _requirements_met(env_id):
        pytest.skip(f"{env_id} needs optional extras that are not installed")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_single_agent_view_passes_check_env(env_id: str) -> None:
    _skip_unless_installed(env_id)
    check_env(gym.make(env_id).unwrapped, skip_render_check=True)


@pytest.mark.parametrize("env_id", MULTI_SEAT_IDS)
def test_aec_view_passes_api_test(env_id: str) -> None:
    _skip_unless_installed(env_id)
    api_test(rlvr.make_aec(env_id), num_cycles=100)


def test_gym_make_works_in_a_fresh_interpreter_without_importing_rlvr() -> None:
    code = (
        "import sys, gymnasium as gym\n"
        "env = gym.make('rlvr/KuhnPoker-v0')\n"
        "obs, info = env.reset(seed=0)\n"
        "env.step('[bet]')\n"
        "print(type(env.unwrapped).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "KuhnPokerEnv"


def test_list_envs_carries_metadata() -> None:
    entries = {entry.id: entry for entry in rlvr.list_envs()}
    assert {"rlvr/KuhnPoker-v0", "rlvr/TicTacToe-v0", "rlvr/SimpleNegotiation-v0"} <= set(entries)
    kuhn = entries["rlvr/KuhnPoker-v0"]
    assert kuhn.roles == ("player_0", "player_1") and "zero-sum" in kuhn.tags
    assert [e.id for e in rlvr.list_envs(tag="zero-sum")] == ["rlvr/KuhnPoker-v0", "rlvr/TicTacToe-v0"]


def _turn_game(env: gym.Env) -> TurnGame | None:
    """The env's ``TurnGame``, for envs built on one (others may use ``game`` for something else)."""
    game = getattr(env.unwrapped, "game", None)
    return game if isinstance(game, TurnGame) else None


def _episode_record(env_id: str, seed: int) -> str:
    """Everything the agent sees in one seeded episode, serialised."""
    env = gym.make(env_id)
    rng = np.random.default_rng(seed)
    observation, info = env.reset(seed=seed)
    record = [observation, info]
    for _ in range(200):
        legal = info.get("legal_actions")
        action = legal[int(rng.integers(len(legal)))] if legal else f"[{rng.integers(10)}]"
        observation, reward, terminated, truncated, info = env.step(action)
        record.append([observation, reward, terminated, truncated, info])
        if terminated or truncated:
            break
    game = _turn_game(env)
    if game is not None:
        record.append(game.transcript_dicts())
    return json.dumps(record, sort_keys=True, default=str)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_gives_a_byte_identical_transcript(env_id: str) -> None:
    _skip_unless_installed(env_id)
    for seed in (0, 1, 17):
        assert _episode_record(env_id, seed) == _episode_record(env_id, seed)
    assert len({_episode_record(env_id, seed) for seed in range(6)}) > 1


def _hostile_strings(rng: np.random.Generator, count: int) -> list[str]:
    """Empty, huge, binary-looking, exotic Unicode, nested tags, and legal-looking moves."""
    fixed = [
        "",
        " ",
        "\x00" * 10,
        "[" * 1000,
        "]]]][[[[",
        "[[bet]]",
        "\\boxed{\\boxed{4}}",
        "[Offer: [Offer: 1 Wheat -> 1 Ore]]",
        "[Offer: 99999999999999999999 Ore -> 1 Wheat]",
        "[Offer: -3 Ore -> 1 Wheat]",
        "[Accept][Deny][Accept]",
        "\ud800\udfff\ufffe",
        "🙂" * 500,
        "ﷺ مرحبا שלום \u202e[bet]",
        "x" * 1_000_001,
        "[4]" * 100_000,
        "<think>[fold]</think>[call]",
        "[9999999999999999999999]",
        "[-1]",
        "[4.0]",
    ]
    alphabet = [*list("[]{}\\/<>:-0123456789 betcallfoldcheckOfferAcceptDeny\n\t"), "🙂", "\x00", "é"]
    strings = list(fixed)
    while len(strings) < count:
        kind = int(rng.integers(3))
        length = int(rng.integers(0, 80))
        if kind == 0:
            strings.append("".join(alphabet[i] for i in rng.integers(0, len(alphabet), size=length)))
        elif kind == 1:
            strings.append(bytes(rng.integers(0, 256, size=length, dtype=np.uint8)).decode("latin-1"))
        else:
            strings.append(
                "".join(
                    chr(int(c)) for c in rng.integers(1, 0x10FFFF, size=length) if not 0xD800 <= c < 0xE000
                )
            )
    return strings[:count]


def test_ten_thousand_hostile_actions_never_crash_any_env() -> None:
    runnable = [env_id for env_id in ENV_IDS if _requirements_met(env_id)]
    strings = _hostile_strings(np.random.default_rng(2024), 10_000)
    share = math.ceil(len(strings) / len(runnable))
    for offset, env_id in enumerate(runnable):
        entry = next(e for e in rlvr.list_envs() if e.id == env_id)
        low, high = entry.reward_range
        # The unit-test envs run real programs whenever hostile text happens to parse as tests; this
        # test is about parsing, so they get one fixed task, short time limits and fewer strings
        # (their slice once cost 15 minutes when a new env shifted them onto a slow task).
        executes = "unit-tests" in entry.tags
        env = gym.make(env_id, timeout_s=2.0) if executes else gym.make(env_id)
        first_seed = 0 if executes else offset
        _, info_before = env.reset(seed=first_seed)
        mine = strings[offset * share : (offset + 1) * share]
        for index, action in enumerate(mine[:150] if executes else mine):
            game = _turn_game(env)
            legal_before = game.legal_actions() if game is not None else info_before.get("legal_actions")
            _, reward, terminated, truncated, info = env.step(action)
            info_before = info
            assert low <= reward <= high, (env_id, action[:50], reward)
            if not info["invalid_action"] and legal_before is not None:
                # A valid move must have been one of the legal ones.
                assert any(move.strip("[]").casefold() in action.casefold() for move in legal_before)
            if terminated or truncated:
                # The unit-test envs build a screened mutant pool (hundreds of sandbox runs) the
                # first time they pose a task; this test is about parsing hostile text, so they
                # stay on one task instead of visiting every HumanEval problem.
                next_seed = first_seed if executes else offset * share + index
                _, info_before = env.reset(seed=next_seed)
