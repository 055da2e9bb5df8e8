"""Our envs as TRL ``GRPOTrainer`` reward functions (single-turn view).

TRL's GRPO samples ``num_generations`` completions per dataset prompt and scores each with reward
functions ``(prompts, completions, **columns) -> list[float]``. We fit an env into that shape:

* ``env_dataset`` makes one row per seed: ``prompt`` is the env's first observation as a user
  message (its rules, ``info["instructions"]``, as the system message), plus ``env_id`` and ``seed``
  columns, which TRL forwards to reward functions.
* ``env_reward_func`` steps each completion into a *fresh* env reset with the row's seed, so the
  completion answers exactly the observation in its prompt; the reward is the episode's return.

Multi-step envs (Kuhn Poker plays on after the first move) cannot be finished by a one-shot
completion. ``finish="continue"`` (default) plays the rest with a scripted continuation (by default
a uniformly random legal move, seeded by the row's seed, so the reward is a deterministic function of
the completion); ``finish="first_step"`` stops after the first step and returns its reward. Either
way only the first move is trained; for true multi-turn training use ``rlvr train``, or export its
trajectories (``rlvr.runners.integrations.export``).

Multi-turn GRPO inside TRL, the trained model playing every move, is in
``rlvr.runners.integrations.trl_rollouts`` (TRL's ``rollout_func`` hook, which also runs without vLLM).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from rlvr.agents.extraction import ActionExtractor, extractor_for
from rlvr.core.records import Message
from rlvr.core.registry import make

Continuation = Callable[[str, Mapping[str, Any], np.random.Generator], str]
"""(observation, info, rng) -> the next action, for the moves after the trained one."""


def random_legal(observation: str, info: Mapping[str, Any], rng: np.random.Generator) -> str:
    """A uniformly random legal move (``info["legal_actions"]``); the env's own forfeit otherwise."""
    legal = list(info.get("legal_actions") or [])
    return str(legal[int(rng.integers(len(legal)))]) if legal else ""


def first_prompt(env_id: str, seed: int, *, instructions: bool = True, **env_kwargs: Any) -> list[Message]:
    """The chat a policy sees at the env's first step, as ``rlvr``'s runner would build it."""
    env = make(env_id, **env_kwargs)
    try:
        observation, info = env.reset(seed=seed)
    finally:
        env.close()
    messages: list[Message] = []
    if instructions and info.get("instructions"):
        messages.append({"role": "system", "content": str(info["instructions"])})
    messages.append({"role": "user", "content": str(observation)})
    return messages


def env_dataset(env_id: str, seeds: Iterable[int], *, instructions: bool = True, **env_kwargs: Any) -> Any:
    """A ``datasets.Dataset`` with ``prompt`` (conversational), ``env_id`` and ``seed`` columns."""
    import datasets

    rows = [
        {
            "prompt": first_prompt(env_id, seed, instructions=instructions, **env_kwargs),
            "env_id": env_id,
            "seed": int(seed),
        }
        for seed in seeds
    ]
    return datasets.Dataset.from_list(rows)


def completion_text(completion: str | Sequence[Message]) -> str:
    """TRL passes a string (standard format) or a list of messages (conversational format)."""
    if isinstance(completion, str):
        return completion
    replies = [message for message in completion if message.get("role") == "assistant"]
    return "".join(str(message.get("content") or "") for message in replies)


def play_completion(
    env_id: str,
    seed: int,
    text: str,
    *,
    finish: str = "continue",
    continuation: Continuation = random_legal,
    extractor: ActionExtractor | None = None,
    max_steps: int = 1_000,
    **env_kwargs: Any,
) -> float:
    """The return of an episode whose first move is ``text`` (see the module docstring for ``finish``)."""
    if finish not in ("continue", "first_step"):
        raise ValueError(f"finish must be 'continue' or 'first_step', got {finish!r}")
    extract = extractor or extractor_for(env_id)
    env = make(env_id, **env_kwargs)
    rng = np.random.default_rng([seed, 2])
    try:
        env.reset(seed=seed)
        observation, reward, terminated, truncated, info = env.step(extract(text))
        total = float(reward)
        steps = 1
        while finish == "continue" and not (terminated or truncated) and steps < max_steps:
            observation, reward, terminated, truncated, info = env.step(continuation(observation, info, rng))
            total += float(reward)
            steps += 1
        return total
    finally:
        env.close()


def env_reward_func(
    env_id: str,
    *,
    finish: str = "continue",
    continuation: Continuation = random_legal,
    extractor: ActionExtractor | None = None,
    **env_kwargs: Any,
) -> Callable[..., list[float]]:
    """A TRL reward function: replays each completion in the env reset with its row's ``seed``.

    ``env_kwargs`` must be those given to ``env_dataset``, or the prompt and the replayed env differ.
    """

    def reward(
        prompts: Sequence[Any], completions: Sequence[Any], seed: Sequence[int], **_: Any
    ) -> list[float]:
        return [
            play_completion(
                env_id,
                int(row_seed),
                completion_text(completion),
                finish=finish,
                continuation=continuation,
                extractor=extractor,
                **env_kwargs,
            )
            for completion, row_seed in zip(completions, seed, strict=True)
        ]

    reward.__name__ = f"rlvr_{env_id.split('/')[-1]}"
    return reward
