r"""Advantage estimators: pure functions from a batch of trajectories to one advantage per turn.

Every estimator returns ``TurnAdvantages``: for each trajectory, a list aligned with its turns holding
the turn's advantage, or ``None`` for a turn that is not trained on (a scripted bot's turn, which has
no completion, or a turn an estimator drops). Multi-role self-play needs nothing special: each role's
turns are scored from that role's rewards and returns.

Notation: a trajectory's role p has turns k = 0..T_p-1 with step rewards r[p,k] (``Turn.reward``) and
return R_p (``Trajectory.returns[p]``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from rlvr.core.records import Trajectory, Turn

TurnAdvantages = list[list[float | None]]
Trainable = Callable[[Turn], bool]


def policy_turn(turn: Turn) -> bool:
    """The default: train on turns a policy generated (bots' turns carry no completion)."""
    return turn.completion is not None


def _role_turns(trajectory: Trajectory, trainable: Trainable) -> dict[str, list[int]]:
    """Indices of each role's trainable turns, in order."""
    by_role: dict[str, list[int]] = defaultdict(list)
    for index, turn in enumerate(trajectory.turns):
        if trainable(turn):
            by_role[turn.role].append(index)
    return by_role


def _empty(trajectories: Sequence[Trajectory]) -> TurnAdvantages:
    return [[None] * len(trajectory.turns) for trajectory in trajectories]


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def _reward_to_go(rewards: Sequence[float], gamma: float) -> list[float]:
    """G_k = r_k + gamma * G_{k+1}, G_T = 0."""
    out, running = [0.0] * len(rewards), 0.0
    for k in range(len(rewards) - 1, -1, -1):
        running = rewards[k] + gamma * running
        out[k] = running
    return out


def grpo(
    trajectories: Sequence[Trajectory],
    *,
    scale_by_std: bool = True,
    eps: float = 1e-6,
    trainable: Trainable = policy_turn,
) -> TurnAdvantages:
    r"""GRPO group baseline: A = (R - mean_group(R)) / (std_group(R) + eps), every turn of the role.

    A group is the trajectories sharing ``group_id`` (G samples of one task and seed; a trajectory
    without one is its own group), taken per role, so self-play seats are baselined separately.
    ``scale_by_std=False`` gives Dr. GRPO's A = R - mean_group(R). The std is the population std.
    """
    returns: dict[tuple[str, str], list[float]] = defaultdict(list)
    for trajectory in trajectories:
        group = trajectory.group_id or trajectory.episode_id
        for role in _role_turns(trajectory, trainable):
            returns[(group, role)].append(trajectory.returns.get(role, 0.0))
    stats = {key: _mean_std(values) for key, values in returns.items()}
    advantages = _empty(trajectories)
    for out, trajectory in zip(advantages, trajectories, strict=True):
        group = trajectory.group_id or trajectory.episode_id
        for role, indices in _role_turns(trajectory, trainable).items():
            mean, std = stats[(group, role)]
            value = trajectory.returns.get(role, 0.0) - mean
            if scale_by_std:
                # std 0 means every return equals the mean: the numerator is 0 too.
                value = value / (std + eps) if std + eps > 0 else 0.0
            for index in indices:
                out[index] = value
    return advantages


class RoleBaseline:
    r"""SPIRAL's role-conditioned advantage (RAE), with its state.

    One baseline b[G, p] per (env, role), an EMA initialised to 0. For each trajectory, in batch order:
    A_p = R_p - b[G, p] with the baseline *before* the update, then b[G, p] <- alpha * b[G, p] +
    (1 - alpha) * R_p. Turn t of the role's T_p turns gets gamma^(T_p - 1 - t) * A_p; a turn whose
    advantage is exactly 0 is dropped (``None``). ``state_dict``/``load_state_dict`` checkpoint it.
    """

    def __init__(self, alpha: float = 0.95, gamma: float = 1.0) -> None:
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.alpha = alpha
        self.gamma = gamma
        self.baselines: dict[tuple[str, str], float] = {}

    def advantages(
        self, trajectories: Sequence[Trajectory], trainable: Trainable = policy_turn
    ) -> TurnAdvantages:
        advantages = _empty(trajectories)
        for out, trajectory in zip(advantages, trajectories, strict=True):
            for role, indices in _role_turns(trajectory, trainable).items():
                key = (trajectory.env_id, role)
                baseline = self.baselines.get(key, 0.0)
                ret = trajectory.returns.get(role, 0.0)
                advantage = ret - baseline
                self.baselines[key] = self.alpha * baseline + (1 - self.alpha) * ret
                last = len(indices) - 1
                for t, index in enumerate(indices):
                    value = self.gamma ** (last - t) * advantage
                    out[index] = value if value != 0 else None
        return advantages

    def state_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "gamma": self.gamma,
            "baselines": [[env, role, value] for (env, role), value in sorted(self.baselines.items())],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.alpha, self.gamma = float(state["alpha"]), float(state["gamma"])
        self.baselines = {(env, role): float(value) for env, role, value in state["baselines"]}


def mars(
    trajectories: Sequence[Trajectory],
    *,
    scale_by_std: bool = False,
    gamma: float = 1.0,
    whiten: bool = False,
    trainable: Trainable = policy_turn,
) -> TurnAdvantages:
    r"""MARS turn-level advantage with agent-specific normalisation.

    Per (env, role), over all that role's trainable turns in the batch: r~ = r - mean(r), or
    (r - mean(r)) / (std(r) + 1e-6) with ``scale_by_std``. Then A[p, k] = sum_{k' >= k}
    gamma^(k' - k) r~[p, k'] within the trajectory. ``whiten`` rescales all advantages in the batch to
    mean 0, std 1.
    """
    rewards: dict[tuple[str, str], list[float]] = defaultdict(list)
    for trajectory in trajectories:
        for role, indices in _role_turns(trajectory, trainable).items():
            rewards[(trajectory.env_id, role)] += [trajectory.turns[i].reward for i in indices]
    stats = {key: _mean_std(values) for key, values in rewards.items()}
    advantages = _empty(trajectories)
    for out, trajectory in zip(advantages, trajectories, strict=True):
        for role, indices in _role_turns(trajectory, trainable).items():
            mean, std = stats[(trajectory.env_id, role)]
            normalised = [trajectory.turns[i].reward - mean for i in indices]
            if scale_by_std:
                normalised = [value / (std + 1e-6) for value in normalised]
            for index, value in zip(indices, _reward_to_go(normalised, gamma), strict=True):
                out[index] = value
    return _whiten(advantages) if whiten else advantages


def rebn(
    trajectories: Sequence[Trajectory], *, gamma: float = 1.0, trainable: Trainable = policy_turn
) -> TurnAdvantages:
    r"""GEM's return batch normalisation (ReBN): G_t = r_t + gamma * G_{t+1} over a role's turns, then
    A = (G - mean_batch(G)) / (std_batch(G) + 1e-9) over every trainable turn in the batch."""
    return _whiten(reinforce(trajectories, gamma=gamma, trainable=trainable), eps=1e-9)


def reinforce(
    trajectories: Sequence[Trajectory], *, gamma: float = 1.0, trainable: Trainable = policy_turn
) -> TurnAdvantages:
    r"""Plain REINFORCE: A_t = G_t = sum_{k >= t} gamma^(k - t) r_k over the role's own turns, no baseline."""
    advantages = _empty(trajectories)
    for out, trajectory in zip(advantages, trajectories, strict=True):
        for indices in _role_turns(trajectory, trainable).values():
            rewards = [trajectory.turns[i].reward for i in indices]
            for index, value in zip(indices, _reward_to_go(rewards, gamma), strict=True):
                out[index] = value
    return advantages


def _whiten(advantages: TurnAdvantages, eps: float = 1e-8) -> TurnAdvantages:
    values = [value for row in advantages for value in row if value is not None]
    if not values:
        return advantages
    mean, std = _mean_std(values)
    return [[None if value is None else (value - mean) / (std + eps) for value in row] for row in advantages]
