"""The SkyRL-gym adapter: an rlvr env driven through ``skyrl_gym.make`` gives the same episode as
direct play (the turns a SkyRL generator would take, with scripted replies)."""

from __future__ import annotations

import importlib.util

import pytest

from rlvr.agents.conversation import Conversation
from rlvr.core.registry import make

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("skyrl_gym") is None, reason="skyrl-gym is not installed (pip install skyrl-gym)"
)

ENV_ID = "rlvr/KuhnPoker-v0"


def _first_legal(messages: list[dict[str, str]]) -> str:
    """A scripted reply: the first move in the observation's "Legal moves" line."""
    line = messages[-1]["content"].rsplit("Legal moves:", 1)[1]
    return "I play " + line.split(",")[0].strip().rstrip(".")


def test_rows_and_episode_match_direct_play() -> None:
    import skyrl_gym

    from rlvr.runners.integrations.skyrl import register_skyrl_env, skyrl_rows

    register_skyrl_env()
    register_skyrl_env()  # idempotent
    for row in skyrl_rows(ENV_ID, [0, 1, 2], rounds=2):
        env = skyrl_gym.make(row["env_class"], env_config={}, extras=row)
        chat, meta = env.init(row["prompt"])
        assert chat == row["prompt"] and meta == {"env_id": ENV_ID, "seed": row["seed"]}

        direct = make(ENV_ID, rounds=2)
        observation, info = direct.reset(seed=row["seed"])
        assert chat == Conversation.from_reset(observation, info).to_messages()
        done, total, expected, messages = False, 0.0, 0.0, chat
        while not done:
            reply = _first_legal(messages)
            out = env.step(reply)
            observation, reward, terminated, truncated, _ = direct.step(reply)
            assert out["reward"] == reward and out["done"] == (terminated or truncated)
            total, expected, done = total + out["reward"], expected + reward, out["done"]
            if not done:
                assert out["observations"] == [{"role": "user", "content": observation}]
                messages = out["observations"]
        assert total == expected == env.get_metrics()["return"]
        env.close()


def test_invalid_reply_and_missing_task_fields() -> None:
    from rlvr.runners.integrations.skyrl import RlvrTextEnv, skyrl_rows

    row = skyrl_rows(ENV_ID, [5], rounds=1)[0]
    env = RlvrTextEnv({"max_turns": 4}, {"extra_info": row["extra_info"]})
    env.init([])
    out = env.step("no idea")
    assert out["done"] and out["reward"] == -1.5 and out["metadata"]["invalid_action"]
    with pytest.raises(ValueError, match="env_id and seed"):
        RlvrTextEnv({}, {"prompt": []})


def test_the_example_writes_rows_and_plays_them(tmp_path) -> None:
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    try:
        import skyrl_text_env
    finally:
        sys.path.pop(0)
    rows_path = tmp_path / "rows.jsonl"
    results = skyrl_text_env.main(["--seeds", "3", "--rows", str(rows_path)])
    rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
    assert [row["seed"] for row in rows] == [result["seed"] for result in results] == [0, 1, 2]
    # random-legal only plays legal moves, so every game ends in a showdown or a fold: +-1 or +-2.
    assert all(abs(result["return"]) in (1.0, 2.0) for result in results)
    assert results == skyrl_text_env.main(["--seeds", "3"])  # seeded: the same games again
