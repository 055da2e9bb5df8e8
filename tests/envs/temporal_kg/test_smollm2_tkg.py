"""The embedded SmolLM2 querying the generated temporal KG through the runner."""

from __future__ import annotations

from typing import Any

import pytest

from rlvr.agents import SamplingParams
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.rollout import Player, Runner

pytestmark = pytest.mark.xdist_group("smollm2")
SHORT = SamplingParams(temperature=0.0, max_tokens=24)


def test_smollm2_plays_temporal_qa_and_forecasting_end_to_end(smollm2: Any):
    runner = Runner({"lm": Player(smollm2, sampling=SHORT)}, max_episodes=2)
    specs = [
        EpisodeSpec("rlvr/TemporalKGQA-v0", 0, {"agent": "lm"}, {"max_turns": 2}),
        EpisodeSpec("rlvr/TKGForecast-v0", 0, {"agent": "lm"}, {"max_turns": 2}),
    ]
    trajectories = runner.run(specs)
    runner.close()
    assert [t.error for t in trajectories] == [None, None]
    qa, forecast = trajectories
    assert qa.terminated or qa.truncated
    assert {"hits@1", "mrr", "tool_calls"} <= set(qa.metrics["agent"])
    assert forecast.terminated or forecast.truncated
    assert {"f1", "mrr", "hits@10"} <= set(forecast.metrics["agent"])
    for trajectory in trajectories:
        first = trajectory.turns[0]
        assert first.completion_token_ids and first.prompt is not None
        assert "<tool>" in first.prompt[0]["content"]  # the tool protocol as the system prompt
