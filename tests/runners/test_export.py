"""Export to external trainers: masks and advantages worked out by hand on hand-built trajectories,
and the JSONL / Parquet / CLI round trips."""

from __future__ import annotations

import importlib.util

import pytest

from rlvr.cli import main
from rlvr.core.records import Trajectory, Turn, write_jsonl
from rlvr.runners.integrations import export

ENV = "toy/Game-v0"


def _turn(episode: str, role: str, index: int, prompt: list[int], completion: list[int], **kw) -> Turn:
    return Turn(
        env_id=ENV,
        episode_id=episode,
        role=role,
        index=index,
        observation=f"obs{index}",
        action=f"a{index}",
        completion=f"reply{index}",
        prompt_token_ids=prompt,
        completion_token_ids=completion,
        completion_logprobs=[-0.5] * len(completion),
        **kw,
    )


def _batch() -> list[Trajectory]:
    """A group of two episodes: a two-turn seat vs a bot. Returns 1 and 0, so GRPO gives +-1."""
    won = Trajectory(
        env_id=ENV,
        episode_id="e0",
        seed=3,
        group_id="g",
        returns={"player_0": 1.0, "player_1": -1.0},
        turns=[
            _turn("e0", "player_0", 0, [1, 2], [3, 4]),
            Turn(ENV, "e0", "player_1", 1, "bot sees", "x"),  # a bot: no completion, never trained
            # The second prompt extends prompt + reply, so the turns merge; [9] is the observation gap.
            _turn("e0", "player_0", 2, [1, 2, 3, 4, 9], [5], reward=1.0),
        ],
    )
    lost = Trajectory(
        env_id=ENV,
        episode_id="e1",
        seed=3,
        group_id="g",
        returns={"player_0": 0.0},
        turns=[_turn("e1", "player_0", 0, [1, 2], [7])],
    )
    return [won, lost]


def test_token_samples_masks_and_advantages_exact() -> None:
    records = export.export_samples(_batch(), "grpo", eps=0.0)
    assert len(records) == 2
    first, second = records
    assert first["input_ids"] == [1, 2, 3, 4, 9, 5]
    assert first["loss_mask"] == [0, 0, 1, 1, 0, 1]
    assert first["advantages"] == [0.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert first["old_logprobs"] == [0.0, 0.0, -0.5, -0.5, 0.0, -0.5]
    assert (first["role"], first["episode_id"], first["env_id"], first["reward"]) == (
        "player_0",
        "e0",
        ENV,
        1.0,
    )
    assert second["input_ids"] == [1, 2, 7]
    assert second["loss_mask"] == [0, 0, 1]
    assert second["advantages"] == [0.0, 0.0, -1.0]
    assert set(first) == set(export.SAMPLE_COLUMNS)


def test_unmerged_and_other_estimators() -> None:
    records = export.export_samples(_batch(), "reinforce", merge_turns=False)
    # REINFORCE reward-to-go over player_0's own turns in e0: rewards (0, 1) -> (1, 1); e1: 0.
    assert [r["input_ids"] for r in records] == [[1, 2, 3, 4], [1, 2, 3, 4, 9, 5], [1, 2, 7]]
    assert [r["advantages"] for r in records] == [[0, 0, 1, 1], [0, 0, 0, 0, 0, 1], [0, 0, 0]]
    rae = export.export_samples(_batch(), "rae", alpha=0.5)
    # Baseline 0 -> A=1 for e0, then b = 0.5; e1: A = 0 - 0.5 = -0.5.
    assert rae[0]["advantages"][-1] == 1.0 and rae[1]["advantages"][-1] == -0.5
    with pytest.raises(ValueError, match="unknown estimator"):
        export.export_samples(_batch(), "ppo")


def test_text_samples_mark_assistant_turns() -> None:
    batch = _batch()
    batch[0].turns[2].prompt = [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "obs0"},
        {"role": "assistant", "content": "reply0"},
        {"role": "user", "content": "obs2"},
    ]
    records = export.export_text_samples(batch, "grpo", eps=0.0)
    assert [r["episode_id"] for r in records] == ["e0", "e1"]
    messages = records[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert [m.get("trainable") for m in messages] == [None, None, True, None, True]
    assert [m.get("advantage") for m in messages if m["role"] == "assistant"] == [1.0, 1.0]
    assert records[0]["turn_advantages"] == [1.0, 1.0]
    # No recorded prompt: rebuilt from observations.
    assert records[1]["messages"] == [
        {"role": "user", "content": "obs0"},
        {"role": "assistant", "content": "reply0", "trainable": True, "advantage": -1.0},
    ]


def test_jsonl_round_trip(tmp_path) -> None:
    records = export.export_samples(_batch(), "grpo")
    path = tmp_path / "s.jsonl"
    assert export.write_jsonl(path, records) == 2
    assert export.read_jsonl(path) == records


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow not installed")
def test_parquet_round_trip(tmp_path) -> None:
    for records in (export.export_samples(_batch()), export.export_text_samples(_batch())):
        path = tmp_path / "s.parquet"
        assert export.write_parquet(path, records) == len(records)
        back = export.read_parquet(path)
        for original, read in zip(records, back, strict=True):
            for key, value in original.items():
                if key == "messages":
                    read_messages = [{k: v for k, v in m.items() if v is not None} for m in read[key]]
                    assert read_messages == value
                else:
                    assert read[key] == pytest.approx(value) if key == "reward" else read[key] == value


@pytest.mark.skipif(importlib.util.find_spec("datasets") is None, reason="datasets not installed")
def test_hf_dataset() -> None:
    dataset = export.to_hf_dataset(export.export_samples(_batch()))
    assert dataset.num_rows == 2 and dataset[0]["loss_mask"] == [0, 0, 1, 1, 0, 1]


def test_cli_export(tmp_path) -> None:
    trajectories = tmp_path / "runs.jsonl"
    write_jsonl(trajectories, _batch())
    out = tmp_path / "samples.jsonl"
    assert main(["export", "--trajectories", str(trajectories), "--algo", "grpo", "--out", str(out)]) == 0
    records = export.read_jsonl(out)
    assert [r["loss_mask"] for r in records] == [[0, 0, 1, 1, 0, 1], [0, 0, 1]]
