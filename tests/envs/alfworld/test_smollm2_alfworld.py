"""The embedded SmolLM2 playing household tasks with reflections, through the runner and ``rlvr eval``."""

from __future__ import annotations

from typing import Any

import pytest

from rlvr.agents import SamplingParams
from rlvr.runners.evaluate import EvalOptions, EvalRequest, evaluate
from rlvr.runners.leaderboard import aggregate
from rlvr.runners.results_db import ResultsDB
from rlvr.runners.rollout import Player

pytestmark = pytest.mark.xdist_group("smollm2")
SHORT = SamplingParams(temperature=0.0, max_tokens=12)


def test_smollm2_reflects_between_trials_and_eval_reports_success_at_k(smollm2: Any, tmp_path):
    env_kwargs = {"max_trials": 2, "max_steps": 2}
    request = EvalRequest(("rlvr/ALFWorldReflexion-v0",), ("smollm2",), episodes=1, env_kwargs=env_kwargs)
    summary = evaluate(
        request,
        tmp_path / "r.db",
        EvalOptions(sampling=SHORT, progress=False, jsonl=tmp_path / "t.jsonl"),
        players={"smollm2": Player(smollm2, sampling=SHORT)},
    )
    assert (summary.played, summary.failed) == (1, 0)
    with ResultsDB(tmp_path / "r.db") as db:
        rows = list(db.seat_rows())
    for row in rows:
        assert {"success@1", "success@2", "trials", "reflections"} <= set(row.metrics)
        if row.metrics["success@1"] == 0.0:  # failed trial 1: a reflection turn, then trial 2
            assert row.metrics["trials"] == 2.0 and row.metrics["reflections"] >= 1.0
    (board,) = aggregate(rows).envs
    assert {"success@1", "success@2"} <= set(board.metric_names)
