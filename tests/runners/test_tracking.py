"""Metrics trackers: the JSONL record always, TensorBoard and W&B when their packages exist."""

from __future__ import annotations

import json
import math

import pytest

from rlvr.runners.learner.tracking import JsonlTracker, make_trackers


def test_jsonl_keeps_every_metric_and_appends(tmp_path):
    tracker = JsonlTracker(tmp_path / "metrics.jsonl")
    tracker.log({"iteration": 1, "loss": 0.5, "note": "x"}, step=1)
    tracker.log({"iteration": 2, "loss": float("nan")}, step=2)
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines[0] == {"iteration": 1, "loss": 0.5, "note": "x"} and math.isnan(lines[1]["loss"])


def test_unknown_trackers_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown trackers"):
        make_trackers(["tensorbored"], tmp_path, {})


def test_tensorboard_scalars_can_be_read_back(tmp_path):
    pytest.importorskip("torch", reason="the TensorBoard writer comes with torch")
    pytest.importorskip("tensorboard", reason="pip install tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    trackers = make_trackers(["tensorboard"], tmp_path, {})
    for step in (1, 2):
        for tracker in trackers:
            metrics = {"iteration": step, "loss": 1.0 / step, "flag": True, "text": "no", "bad": math.inf}
            tracker.log(metrics, step)
    for tracker in trackers:
        tracker.close()
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {"iteration", "loss"}  # numbers only, finite only
    assert [(e.step, e.value) for e in events.Scalars("loss")] == [(1, 1.0), (2, 0.5)]
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 2


def test_wandb_offline_run(tmp_path, monkeypatch):
    pytest.importorskip("wandb", reason="pip install wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    trackers = make_trackers(["wandb"], tmp_path, {"algo": "grpo"}, project="rlvr-test")
    for tracker in trackers:
        tracker.log({"loss": 0.25}, step=1)
        tracker.close()
    assert list((tmp_path / "wandb").glob("offline-run-*"))
