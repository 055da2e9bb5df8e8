"""Our envs as SkyRL-gym ``BaseTextEnv`` envs, for SkyRL's multi-turn trainer.

SkyRL-gym's interface (read from ``skyrl_gym/envs/base_text_env.py``, skyrl-gym 0.4): an env is built
as ``Env(env_config, extras)`` where ``extras`` is the dataset row; ``init(prompt)`` returns the first
chat and metadata; ``step(action: str)`` returns ``{observations, reward, done, metadata}`` with the
next observations as chat messages. That is our gymnasium view turned into chat messages, so the
adapter is thin: it resets the rlvr env with the row's ``seed``, builds the first chat as ``rlvr``'s
runner does (rules as system, observation as user), and steps the extracted action.

A row names its task with ``env_id``, ``seed`` and optional ``env_kwargs``, at the top level or under
``extra_info`` (``skyrl_rows`` writes both). Only single-seat views are served (for a two-player game,
the gymnasium view against the env's bot); self-play needs ``rlvr train``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput

from rlvr.agents.conversation import Conversation
from rlvr.agents.extraction import extractor_for
from rlvr.core.registry import make
from rlvr.runners.integrations.tasks import EnvTask

SKYRL_ENV_CLASS = "rlvr"
"""The ``env_class`` our rows carry and ``register_skyrl_env`` registers by default."""


def skyrl_rows(
    env_id: str, seeds: Iterable[int], *, instructions: bool = True, **env_kwargs: Any
) -> list[dict[str, Any]]:
    """Dataset rows for SkyRL: ``prompt`` (the first chat), ``env_class`` and the task's fields."""
    rows = []
    for seed in seeds:
        task = {"env_id": env_id, "seed": int(seed), "env_kwargs": dict(env_kwargs)}
        prompt = RlvrTextEnv(extras=task, instructions=instructions).init([])[0]
        rows.append({"prompt": prompt, "env_class": SKYRL_ENV_CLASS, **task, "extra_info": task})
    return rows


def register_skyrl_env(name: str = SKYRL_ENV_CLASS) -> None:
    """Register ``RlvrTextEnv`` with ``skyrl_gym`` under ``name`` (idempotent)."""
    import skyrl_gym
    from skyrl_gym.envs.registration import registry

    if name not in registry:
        skyrl_gym.register(id=name, entry_point=f"{__name__}:RlvrTextEnv")


class RlvrTextEnv(BaseTextEnv):
    """One rlvr episode behind SkyRL-gym's text-env interface.

    ``env_config`` may set ``max_turns`` (a safety net; default 10 000) and ``instructions`` (default
    on: the env's rules as the system message).
    """

    def __init__(
        self,
        env_config: Mapping[str, Any] | None = None,
        extras: Mapping[str, Any] | None = None,
        instructions: bool | None = None,
    ) -> None:
        super().__init__()
        config = dict(env_config or {})
        task = EnvTask.from_row(extras or {}, source="a SkyRL", rows_helper="skyrl_rows")
        self.env_id, self.seed, self.env_kwargs = task.env_id, task.seed, task.env_kwargs
        self.max_turns = int(config.get("max_turns", 10_000))
        self.instructions = bool(config.get("instructions", True) if instructions is None else instructions)
        self.extract = extractor_for(self.env_id)
        self.env = make(self.env_id, **self.env_kwargs)
        self.episode_return = 0.0
        self.last_info: dict[str, Any] = {}

    def init(self, prompt: list[dict[str, str]]) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """Reset with the row's seed; the chat is rebuilt from the env (the row's prompt is the same)."""
        observation, info = self.env.reset(seed=self.seed)
        self.turns, self.episode_return, self.last_info = 0, 0.0, dict(info)
        conversation = Conversation.from_reset(observation, info if self.instructions else {})
        return conversation.to_messages(), {"env_id": self.env_id, "seed": self.seed}

    def step(self, action: str) -> BaseTextEnvStepOutput:
        self.turns += 1
        move = self.extract(action)
        observation, reward, terminated, truncated, info = self.env.step(move)
        self.episode_return += float(reward)
        self.last_info = dict(info)
        done = bool(terminated or truncated) or self.turns >= self.max_turns
        return BaseTextEnvStepOutput(
            observations=[] if done else [{"role": "user", "content": str(observation)}],
            reward=float(reward),
            done=done,
            metadata={"invalid_action": bool(info.get("invalid_action", False))},
            postprocessed_action=move,
        )

    def get_metrics(self) -> dict[str, Any]:
        metrics = {"return": self.episode_return, "turns": self.turns}
        metrics.update(self.last_info.get("metrics") or {})
        return metrics

    def close(self) -> None:
        self.env.close()
