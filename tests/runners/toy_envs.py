"""Small envs for runner tests: an echo task whose steps can fail or report their thread."""

from __future__ import annotations

import threading
from typing import Any

import gymnasium

from rlvr.core.registry import EnvEntry, register_env
from rlvr.core.spaces import UnicodeText

ECHO_ID = "rlvr-test/Echo-v0"
STEP_THREADS: list[str] = []
"""Names of the threads every EchoEnv step ran in (tests clear it first)."""


class EchoEnv(gymnasium.Env[str, str]):
    """Say the number shown; three rounds; reward 1 per correct echo.

    ``crash_on_seed`` makes ``step`` raise for that seed, to test that one crash stays one failure.
    Each step records the name of the thread it ran in.
    """

    def __init__(self, crash_on_seed: int | None = None, rounds: int = 3) -> None:
        self.observation_space = UnicodeText(max_length=1000)
        self.action_space = UnicodeText(max_length=1000)
        self.crash_on_seed = crash_on_seed
        self.rounds = rounds

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.seed_used = seed
        self.round = 0
        self.correct = 0
        self.target = int(self.np_random.integers(100))
        return f"Say {self.target}.", {"instructions": "Repeat the number you are shown."}

    def step(self, action: str):
        STEP_THREADS.append(threading.current_thread().name)
        if self.seed_used == self.crash_on_seed:
            raise RuntimeError("sandbox exploded")
        reward = float(action.strip() == str(self.target))
        self.correct += int(reward)
        self.round += 1
        self.target = int(self.np_random.integers(100))
        done = self.round >= self.rounds
        info = {"metrics": {"correct": float(self.correct)}} if done else {}
        return f"Say {self.target}.", reward, done, False, info


def register() -> None:
    register_env(
        EnvEntry(
            id=ECHO_ID,
            entry_point="tests.runners.toy_envs:EchoEnv",
            description="echo numbers (test env)",
            tags=("test",),
        )
    )
