"""Where a run's metrics go: ``metrics.jsonl`` always, TensorBoard and Weights & Biases on request.

The JSONL file is the record of truth (it is what ``rlvr train`` resumes beside and what the benchmarks
read); the others are views for people watching a run. Each tracker is imported only when asked
for, so neither ``tensorboard`` nor ``wandb`` is a dependency of ``rlvr-gym``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

TRACKERS = ("tensorboard", "wandb")


class Tracker(Protocol):
    def log(self, metrics: Mapping[str, Any], step: int) -> None: ...

    def close(self) -> None: ...


def _numbers(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The finite numeric metrics (dashboards plot numbers; strings and NaN stay in the JSONL)."""
    out = {}
    for name, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value):
            out[name] = float(value)
    return out


class JsonlTracker:
    """One JSON object per iteration, appended and flushed at once (a crash loses nothing logged)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(dict(metrics)) + "\n")

    def close(self) -> None:
        pass


class TensorBoardTracker:
    """Scalars under ``out_dir/tensorboard``; ``tensorboard --logdir out_dir`` shows them."""

    def __init__(self, log_dir: str | Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            raise ImportError(
                "report_to=['tensorboard'] needs the tensorboard package: pip install tensorboard"
            ) from error
        self.writer = SummaryWriter(log_dir=str(log_dir))

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        for name, value in _numbers(metrics).items():
            self.writer.add_scalar(name, value, global_step=step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class WandbTracker:
    """A Weights & Biases run (``WANDB_MODE=offline`` works without a network or account)."""

    def __init__(self, project: str, config: Mapping[str, Any], run_dir: str | Path) -> None:
        try:
            import wandb
        except ImportError as error:
            raise ImportError("report_to=['wandb'] needs the wandb package: pip install wandb") from error
        self.run = wandb.init(project=project, config=dict(config), dir=str(run_dir), resume="allow")

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        self.run.log(_numbers(metrics), step=step)

    def close(self) -> None:
        self.run.finish()


def make_trackers(
    report_to: Sequence[str], out_dir: str | Path, config: Mapping[str, Any], project: str = "rlvr"
) -> list[Tracker]:
    """The JSONL tracker plus one per name in ``report_to``; an unknown name is a ``ValueError``."""
    unknown = sorted(set(report_to) - set(TRACKERS))
    if unknown:
        raise ValueError(f"unknown trackers {unknown}; choose from {TRACKERS}")
    out_dir = Path(out_dir)
    trackers: list[Tracker] = [JsonlTracker(out_dir / "metrics.jsonl")]
    if "tensorboard" in report_to:
        trackers.append(TensorBoardTracker(out_dir / "tensorboard"))
    if "wandb" in report_to:
        trackers.append(WandbTracker(project, config, out_dir))
    return trackers
