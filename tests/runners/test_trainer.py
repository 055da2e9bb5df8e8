"""The training loop on the real SmolLM2 (CPU): metrics, checkpoints, resume."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest

pytest.importorskip("torch", reason="training needs torch (pip install 'rlvr-gym[torch]')")
from rlvr.runners.learner.trainer import TrainConfig, Trainer

pytestmark = pytest.mark.xdist_group("smollm2")


def test_an_iteration_against_a_bot_then_resume(smollm2: Any, tmp_path):
    """Kept small for CI (the slowest test in the suite): KL and accumulation are covered on a tiny
    model in test_learner_update.py; this one proves the loop, checkpoints and resume on the real one."""
    saved = {name: tensor.detach().clone() for name, tensor in smollm2.model.state_dict().items()}
    config = TrainConfig(
        env_ids=["rlvr/TicTacToe-v0"], algo="rae", opponent="bot:random", iterations=1,
        tasks_per_iteration=1, group_size=2, max_tokens=6, learning_rate=1e-5, checkpoint_every=1,
        eval_every=1, eval_episodes=1, warm_start_episodes=1, steps_per_iteration=2,
        report_to=["tensorboard"] if importlib.util.find_spec("tensorboard") else [],
    )  # fmt: skip
    try:
        history = Trainer(config, smollm2, tmp_path).train()
        assert [m["iteration"] for m in history] == [1]
        metrics = history[0]
        assert metrics["episodes"] == 2 and metrics["failed"] == 0
        assert metrics["samples"] > 0 and metrics["trained_tokens"] > 0
        assert {"loss", "grad_norm", "advantage_mean", "TicTacToe-v0/player_0/return"} <= set(metrics)
        assert "entropy" in metrics and metrics["optimizer_steps"] == 2
        assert "eval/TicTacToe-v0/player_0/return" in metrics
        changed = any(not (saved[n] == t).all() for n, t in smollm2.model.state_dict().items())
        assert changed, "an update must change the weights"
        lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
        assert [json.loads(line)["iteration"] for line in lines] == [0, 1]
        warm = json.loads(lines[0])
        assert warm["warm_start/turns"] > 0 and warm["warm_start/last_loss"] < warm["warm_start/first_loss"]
        if config.report_to:
            assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))

        resumed = Trainer(TrainConfig(**{**config.__dict__, "iterations": 2}), smollm2, tmp_path)
        assert resumed.iteration == 1 and resumed.rae.baselines  # the RAE state came back too
        resumed.train()
        lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
        assert [json.loads(line)["iteration"] for line in lines] == [0, 1, 2]  # no second warm start
    finally:
        smollm2.load_weights(saved)


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="algo"):
        TrainConfig(env_ids=["rlvr/TicTacToe-v0"], algo="ppo2")
    with pytest.raises(ValueError, match="unknown trackers"):
        TrainConfig(env_ids=["rlvr/TicTacToe-v0"], report_to=["mlflow"])
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(env_ids=["rlvr/TicTacToe-v0"], precision="fp16")
    with pytest.raises(ValueError, match="steps_per_iteration"):
        TrainConfig(env_ids=["rlvr/TicTacToe-v0"], steps_per_iteration=0)
    with pytest.raises(ValueError, match="one weight per env"):
        TrainConfig(env_ids=["rlvr/TicTacToe-v0"], env_weights=[1.0, 2.0])
