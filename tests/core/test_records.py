from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.core.records import Trajectory, Turn, read_jsonl, write_jsonl

_texts = st.text(alphabet=st.characters(codec=None, categories=None), max_size=40)
_floats = st.floats(allow_nan=False)


def _turn(observation: str, action: str, reward: float, logprobs: list[float]) -> Turn:
    return Turn(
        env_id="rlvr/KuhnPoker-v0",
        episode_id="ep-1",
        role="player_0",
        index=0,
        observation=observation,
        action=action,
        reward=reward,
        prompt=[{"role": "user", "content": observation}],
        prompt_token_ids=[1, 2, 3],
        completion_token_ids=[4, 5],
        completion_logprobs=logprobs,
        info={"legal_actions": ["[bet]", "[check]"], "metrics": {}, "invalid_action": False},
    )


@settings(max_examples=100, deadline=None)
@given(_texts, _texts, _floats, st.lists(_floats | st.just(-math.inf), max_size=5))
def test_trajectory_survives_a_json_round_trip(observation, action, reward, logprobs) -> None:
    trajectory = Trajectory(
        env_id="rlvr/KuhnPoker-v0",
        episode_id="ep-1",
        seed=7,
        turns=[_turn(observation, action, reward, logprobs)],
        returns={"player_0": reward, "player_1": -reward},
        metrics={"player_0": {"win": 1.0}},
        terminated=True,
    )
    assert Trajectory.from_json(trajectory.to_json()) == trajectory


def test_jsonl_file_round_trip_keeps_unpaired_surrogates(tmp_path) -> None:
    odd = "bet \ud800 \U0001f642 \x00"
    trajectories = [
        Trajectory("rlvr/X-v0", f"ep-{i}", i, [_turn(odd, odd, 1.0, [-0.5])], {"agent": 1.0})
        for i in range(3)
    ]
    path = tmp_path / "t.jsonl"
    assert write_jsonl(path, trajectories) == 3
    assert list(read_jsonl(path)) == trajectories


def test_malformed_line_names_its_line_number(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    good = Trajectory("rlvr/X-v0", "ep", 0).to_json()
    path.write_text(good + "\n" + '{"env_id": "x", "bogus": 1}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        list(read_jsonl(path))


def test_turns_of_filters_by_seat() -> None:
    first = _turn("o", "a", 0.0, [])
    second = Turn("rlvr/X-v0", "ep", "player_1", 1, "o2", "a2")
    trajectory = Trajectory("rlvr/X-v0", "ep", 0, [first, second], {"player_0": 1.0, "player_1": -1.0})
    assert trajectory.turns_of("player_1") == [second]
    assert trajectory.roles == ["player_0", "player_1"]
