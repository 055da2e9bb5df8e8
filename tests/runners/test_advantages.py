"""Advantage estimators on batches small enough to work by hand."""

from __future__ import annotations

import json

import pytest

from rlvr.core.records import Trajectory, Turn
from rlvr.runners.learner import RoleBaseline, grpo, mars, rebn, reinforce


def episode(turns, returns, group=None, env="E", name="ep"):
    """``turns``: (role, reward) pairs; a role named "bot" has no completion (not trainable)."""
    trajectory = Trajectory(env_id=env, episode_id=name, seed=0, group_id=group, returns=dict(returns))
    for index, (role, reward) in enumerate(turns):
        completion = None if role == "bot" else "x"
        trajectory.turns.append(Turn(env, name, role, index, "obs", "act", reward, completion=completion))
    return trajectory


def test_grpo_scales_by_the_group_std_and_skips_bot_turns():
    batch = [
        episode([("agent", 0.0), ("bot", 0.0), ("agent", 1.0)], {"agent": 1.0}, group="g", name="a"),
        episode([("agent", 0.0)], {"agent": 0.0}, group="g", name="b"),
        episode([("agent", 0.0)], {"agent": 0.0}, group="g", name="c"),
    ]
    # mean 1/3, population std sqrt(2)/3: (2/3)/(sqrt(2)/3) = sqrt(2), (-1/3)/(sqrt(2)/3) = -1/sqrt(2)
    a, b, c = grpo(batch, eps=0.0)
    assert a[0] == pytest.approx(2**0.5) and a[2] == pytest.approx(2**0.5) and a[1] is None
    assert b == [pytest.approx(-(2**-0.5))] and c == [pytest.approx(-(2**-0.5))]
    a, b, _ = grpo(batch, scale_by_std=False)
    assert a[0] == pytest.approx(2 / 3) and b[0] == pytest.approx(-1 / 3)


def test_grpo_baselines_each_self_play_role_separately():
    batch = [
        episode([("p0", 0.0), ("p1", 0.0)], {"p0": 1.0, "p1": -1.0}, group="g", name="a"),
        episode([("p0", 0.0), ("p1", 0.0)], {"p0": -1.0, "p1": 1.0}, group="g", name="b"),
        episode([("p0", 0.0), ("p1", 0.0)], {"p0": 1.0, "p1": -1.0}, group="h", name="c"),
    ]
    a, b, c = grpo(batch, eps=0.0)
    assert a == [1.0, -1.0] and b == [-1.0, 1.0]
    assert c == [0.0, 0.0]  # a group of one has nothing to compare against


def test_rae_uses_the_baseline_before_updating_it_and_drops_zero_turns():
    rae = RoleBaseline(alpha=0.5, gamma=0.5)
    batch = [
        episode([("p0", 0.0), ("p1", 0.0), ("p0", 0.0)], {"p0": 1.0, "p1": -1.0}, name="a"),
        episode([("p0", 0.0), ("p0", 0.0)], {"p0": 1.0}, name="b"),
        episode([("p0", 0.0)], {"p0": 0.75}, name="c"),
    ]
    a, b, c = rae.advantages(batch)
    # a: b[p0] = 0 -> A = 1; two p0 turns: gamma^1 * 1, gamma^0 * 1. p1: A = -1. Then b[p0] = 0.5.
    assert a == [0.5, -1.0, 1.0]
    # b: A = 1 - 0.5 = 0.5 -> [0.25, 0.5]; then b[p0] = 0.75.
    assert b == [0.25, 0.5]
    # c: A = 0.75 - 0.75 = 0 -> dropped.
    assert c == [None]
    assert rae.baselines == {("E", "p0"): pytest.approx(0.75), ("E", "p1"): pytest.approx(-0.5)}
    restored = RoleBaseline()
    restored.load_state_dict(json.loads(json.dumps(rae.state_dict())))
    assert restored.baselines == rae.baselines and (restored.alpha, restored.gamma) == (0.5, 0.5)


def test_rae_baselines_are_per_env_and_role():
    rae = RoleBaseline(alpha=0.0)
    rae.advantages([episode([("p0", 0.0)], {"p0": 1.0}, env="Kuhn")])
    (a,) = rae.advantages([episode([("p0", 0.0)], {"p0": 1.0}, env="TTT")])
    assert a == [1.0]  # TTT's baseline is still 0
    with pytest.raises(ValueError):
        RoleBaseline(alpha=1.5)


def test_mars_normalises_per_role_then_sums_reward_to_go():
    batch = [
        episode([("p0", 0.0), ("p1", 5.0), ("p0", 1.0)], {}, name="a"),
        episode([("p0", 0.0), ("p1", 3.0), ("p0", 0.0)], {}, name="b"),
    ]
    a, b = mars(batch)
    # p0 rewards 0, 1, 0, 0: mean 0.25 -> a: [-0.25, 0.75] -> to go [0.5, 0.75]; b: [-0.5, -0.25]
    # p1 rewards 5, 3: mean 4 -> a: 1, b: -1
    assert a == [pytest.approx(0.5), pytest.approx(1.0), pytest.approx(0.75)]
    assert b == [pytest.approx(-0.5), pytest.approx(-1.0), pytest.approx(-0.25)]
    whitened = [v for row in mars(batch, whiten=True) for v in row]
    assert sum(whitened) == pytest.approx(0.0, abs=1e-9)
    # With the std: p1's (5 - 4) / (1 + 1e-6)
    assert mars(batch, scale_by_std=True)[0][1] == pytest.approx(1 / (1 + 1e-6))


def test_rebn_normalises_returns_to_go_over_the_batch():
    batch = [episode([("a", 0.0), ("a", 1.0)], {}, name="x"), episode([("a", 0.0), ("a", 0.0)], {}, name="y")]
    # G = [1, 1] and [0, 0]: mean 0.5, std 0.5
    assert rebn(batch) == [
        [pytest.approx(1.0), pytest.approx(1.0)],
        [pytest.approx(-1.0), pytest.approx(-1.0)],
    ]


def test_reinforce_is_the_discounted_reward_to_go_of_the_role():
    (a,) = reinforce([episode([("a", 1.0), ("b", 9.0), ("a", 0.0), ("a", 2.0)], {})], gamma=0.5)
    # a's rewards 1, 0, 2: G = [1 + 0.5 * 1, 0 + 0.5 * 2, 2] = [1.5, 1, 2]; b alone: 9
    assert a == [1.5, 9.0, 1.0, 2.0]


def test_estimators_cover_every_policy_turn_of_runner_output():
    from rlvr.agents import BotSeat, RandomLegalPolicy
    from rlvr.runners.episodes import EpisodeSpec
    from rlvr.runners.rollout import grouped, rollout

    specs = grouped(
        [EpisodeSpec("rlvr/KuhnPoker-v0", s, {"player_0": "me", "player_1": "bot"}) for s in (1, 2)], 4
    )
    batch = rollout(specs, {"me": RandomLegalPolicy(seed=0), "bot": BotSeat("optimal")})
    for advantages in (grpo(batch), mars(batch), rebn(batch), reinforce(batch)):
        for trajectory, row in zip(batch, advantages, strict=True):
            assert len(row) == len(trajectory.turns)
            assert all(
                (value is None) == (turn.role == "player_1")
                for turn, value in zip(trajectory.turns, row, strict=True)
            )
