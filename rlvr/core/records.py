"""``Turn`` and ``Trajectory``: the one record of an episode that the learner, the leaderboard and
external trainers all read.

JSONL is the storage format. The round trip is lossless: floats are written with ``repr`` precision,
non-finite logprobs (``-inf``) survive, and strings are ASCII-escaped so that unpaired surrogates or
other odd characters in a model's output cannot break the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

Message = dict[str, Any]
"""A chat message, ``{"role": "user", "content": "..."}``."""


@dataclass
class Turn:
    """One action by one seat, with everything needed to train on it."""

    env_id: str
    episode_id: str
    role: str
    index: int
    """Position of this turn in the episode (all seats counted)."""
    observation: str
    action: str
    """What the env received: the reply with ``<think>`` blocks stripped and the answer extracted."""
    reward: float = 0.0
    completion: str | None = None
    """The policy's reply exactly as generated, reasoning included (``None`` for scripted bots)."""
    prompt: list[Message] | None = None
    """The full chat the policy saw, when the runner built one."""
    prompt_token_ids: list[int] | None = None
    completion_token_ids: list[int] | None = None
    completion_logprobs: list[float] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown Turn fields {sorted(unknown)}")
        return cls(**data)


@dataclass
class Trajectory:
    """An episode: its turns in order, and the final return of every seat."""

    env_id: str
    episode_id: str
    seed: int | None
    turns: list[Turn] = field(default_factory=list)
    returns: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per-seat ``info["metrics"]`` at the end of the episode."""
    terminated: bool = False
    truncated: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    group_id: str | None = None
    """Episodes sampled from the same task and seed share it (GRPO-style groups)."""
    error: str | None = None
    """Why the episode failed (an env crash, an endpoint timeout); ``None`` when it ran to the end."""

    def turns_of(self, role: str) -> list[Turn]:
        return [turn for turn in self.turns if turn.role == role]

    @property
    def roles(self) -> list[str]:
        return sorted(self.returns) or sorted({turn.role for turn in self.turns})

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["turns"] = [turn.to_dict() for turn in self.turns]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trajectory:
        data = dict(data)
        data["turns"] = [Turn.from_dict(turn) for turn in data.get("turns", [])]
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown Trajectory fields {sorted(unknown)}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=True, allow_nan=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Trajectory:
        return cls.from_dict(json.loads(line))


def write_jsonl(path: str | Path, trajectories: Iterable[Trajectory], *, append: bool = False) -> int:
    """Write one trajectory per line; returns how many were written."""
    count = 0
    with Path(path).open("a" if append else "w", encoding="ascii") as handle:
        for trajectory in trajectories:
            handle.write(trajectory.to_json() + "\n")
            count += 1
    return count


def read_jsonl(path: str | Path) -> Iterator[Trajectory]:
    """Read trajectories back; a malformed line is reported with its line number."""
    with Path(path).open(encoding="ascii") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield Trajectory.from_json(line)
            except (ValueError, TypeError, KeyError) as error:
                raise ValueError(f"{path}:{number}: not a trajectory record: {error}") from error
