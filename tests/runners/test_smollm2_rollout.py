"""The runner and ``rlvr eval`` driving the real embedded SmolLM2 on the CPU."""

from __future__ import annotations

from typing import Any

import pytest

from rlvr.agents import SamplingParams
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.evaluate import EvalOptions, EvalRequest, evaluate
from rlvr.runners.results_db import ResultsDB
from rlvr.runners.rollout import Player, Runner

pytestmark = pytest.mark.xdist_group("smollm2")
SHORT = SamplingParams(temperature=0.0, max_tokens=12)


def test_self_play_records_what_the_model_saw_and_produced(smollm2: Any):
    player = Player(smollm2, sampling=SHORT)
    specs = [
        EpisodeSpec("rlvr/KuhnPoker-v0", seed, {"player_0": "lm", "player_1": "lm"}) for seed in range(3)
    ]
    runner = Runner({"lm": player}, max_episodes=3)
    trajectories = runner.run(specs)
    runner.close()
    assert [t.error for t in trajectories] == [None] * 3
    assert runner.stats.completion_tokens > 0 and runner.stats.policy_calls >= 1
    tokenizer = smollm2.tokenizer
    for trajectory in trajectories:
        assert trajectory.terminated or trajectory.truncated
        for turn in trajectory.turns:
            assert turn.completion_token_ids and len(turn.completion_logprobs) == len(
                turn.completion_token_ids
            )
            assert all(logprob <= 0 for logprob in turn.completion_logprobs)
            # Token in, token out: the recorded prompt ids are the chat the policy was given.
            expected = tokenizer.apply_chat_template(turn.prompt, add_generation_prompt=True, tokenize=False)
            assert tokenizer.decode(turn.prompt_token_ids) == expected
            assert tokenizer.decode(turn.completion_token_ids, skip_special_tokens=True) == turn.completion
            assert turn.info["completion_tokens"] == len(turn.completion_token_ids)


def test_eval_of_the_model_against_a_bot_is_stored_with_its_tokens(smollm2: Any, tmp_path):
    request = EvalRequest(("rlvr/TicTacToe-v0",), ("smollm2",), ("bot:random",), episodes=1)
    options = EvalOptions(sampling=SHORT, progress=False)
    summary = evaluate(
        request, tmp_path / "r.db", options, players={"smollm2": Player(smollm2, sampling=SHORT)}
    )
    assert (summary.played, summary.failed) == (2, 0)
    with ResultsDB(tmp_path / "r.db") as db:
        rows = [row for row in db.seat_rows() if row.agent == "smollm2"]
    assert {row.seat_index for row in rows} == {0, 1}
    assert all(row.tokens > 0 and row.turns > 0 for row in rows)
