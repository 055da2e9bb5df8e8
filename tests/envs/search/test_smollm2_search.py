"""The embedded SmolLM2 searching the generated world through the runner and ``rlvr eval``."""

from __future__ import annotations

from typing import Any

import pytest

from rlvr.agents import SamplingParams
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.evaluate import EvalOptions, EvalRequest, evaluate
from rlvr.runners.results_db import ResultsDB
from rlvr.runners.rollout import Player, Runner

pytestmark = pytest.mark.xdist_group("smollm2")
SHORT = SamplingParams(temperature=0.0, max_tokens=24)
ENV_KWARGS = {"world_size": "tiny", "max_turns": 2}


def test_smollm2_plays_search_episodes_end_to_end(smollm2: Any):
    runner = Runner({"lm": Player(smollm2, sampling=SHORT)}, max_episodes=3)
    specs = [EpisodeSpec("rlvr/WebSearch-v0", seed, {"agent": "lm"}, ENV_KWARGS) for seed in range(3)]
    trajectories = runner.run(specs)
    runner.close()
    assert [t.error for t in trajectories] == [None] * 3
    for trajectory in trajectories:
        assert trajectory.terminated or trajectory.truncated
        assert 1 <= len(trajectory.turns) <= ENV_KWARGS["max_turns"] + 1
        first = trajectory.turns[0]
        assert first.observation.startswith("Question: ") and first.completion_token_ids
        assert first.prompt is not None and "<search>" in first.prompt[0]["content"]  # the rules as system
        metrics = trajectory.metrics["agent"]
        assert {"em", "f1", "searches", "gold_retrieved"} <= set(metrics)


def test_eval_stores_search_metrics(smollm2: Any, tmp_path):
    request = EvalRequest(("rlvr/WebSearch-v0",), ("smollm2",), episodes=2, env_kwargs=ENV_KWARGS)
    summary = evaluate(
        request,
        tmp_path / "r.db",
        EvalOptions(sampling=SHORT, progress=False),
        players={"smollm2": Player(smollm2, sampling=SHORT)},
    )
    assert (summary.played, summary.failed) == (2, 0)
    with ResultsDB(tmp_path / "r.db") as db:
        rows = list(db.seat_rows())
    assert len(rows) == 2 and all("em" in row.metrics and row.tokens > 0 for row in rows)
