"""Play whole episodes between scripted bots through the AEC view, and summarise many of them.

This is the small, synchronous driver behind ``rlvr play --agent BOT``; it produces the same
``Trajectory`` records as the batched LLM runner, so its output feeds the same tools.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlvr.core.game import Bot
from rlvr.core.records import Trajectory, Turn
from rlvr.core.registry import make_aec


def play_match(
    env_id: str,
    bots: Mapping[str, str | tuple[str, dict[str, Any]]],
    seed: int,
    env_kwargs: Mapping[str, Any] | None = None,
) -> Trajectory:
    """One episode of ``env_id`` where seat ``role`` is played by the bot named ``bots[role]``."""
    env = make_aec(env_id, **dict(env_kwargs or {}))
    env.reset(seed=seed)
    game = env.game
    players: dict[str, Bot] = {}
    for role in env.possible_agents:
        spec = bots.get(role, "random")
        name, options = (spec, {}) if isinstance(spec, str) else spec
        players[role] = game.make_bot(name, **options)
    bot_rng = np.random.default_rng([seed, 1])
    trajectory = Trajectory(env_id=env_id, episode_id=f"{env_id}#seed={seed}", seed=seed)
    for role in env.agent_iter():
        observation, _reward, terminated, truncated, info = env.last()
        if terminated or truncated:
            trajectory.returns[role] = float(env.game.returns()[role])
            trajectory.metrics[role] = dict(info.get("metrics", {}))
            trajectory.terminated, trajectory.truncated = bool(terminated), bool(truncated)
            env.step(None)
            continue
        action = players[role](game, role, bot_rng)
        trajectory.turns.append(
            Turn(
                env_id=env_id,
                episode_id=trajectory.episode_id,
                role=role,
                index=len(trajectory.turns),
                observation=str(observation),
                action=action,
                info={k: v for k, v in info.items() if k != "instructions"},
            )
        )
        env.step(action)
    env.close()
    return trajectory


@dataclass
class SeatSummary:
    """Mean and 95% confidence half-width of each metric for one seat over many episodes."""

    role: str
    episodes: int
    means: dict[str, float] = field(default_factory=dict)
    half_widths: dict[str, float] = field(default_factory=dict)


def summarise(trajectories: Sequence[Trajectory]) -> list[SeatSummary]:
    """Per-seat means with normal-approximation 95% intervals (1.96 standard errors)."""
    roles = sorted({role for trajectory in trajectories for role in trajectory.metrics})
    summaries = []
    for role in roles:
        rows = [trajectory.metrics[role] for trajectory in trajectories if role in trajectory.metrics]
        names = sorted({name for row in rows for name in row})
        summary = SeatSummary(role=role, episodes=len(rows))
        for name in names:
            values = [float(row[name]) for row in rows if name in row]
            summary.means[name] = statistics.fmean(values)
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            summary.half_widths[name] = 1.96 * spread / math.sqrt(len(values))
        summaries.append(summary)
    return summaries
