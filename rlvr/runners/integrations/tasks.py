"""Which episode a trainer's dataset row asks for: an env id, a seed and env kwargs.

Every adapter carries the same three fields through its trainer's data path (a verl or SkyRL row,
a TRL prompt tag) and reads them back the same way; this is that one reading. Rows may hold the
fields at the top level or under ``extra_info`` (verl's and SkyRL's habit), top level winning, and
``env_kwargs`` as a mapping or as JSON text (Parquet/Arrow cannot store an empty or per-row-varying
struct, so the writers store text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIELDS = ("env_id", "seed", "env_kwargs")


@dataclass(frozen=True)
class EnvTask:
    """One episode: ``make(env_id, **env_kwargs).reset(seed=seed)``."""

    env_id: str
    seed: int
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, source: str = "a dataset", rows_helper: str = "") -> EnvTask:
        """Read the task from a row or its ``extra_info``; ``source`` and ``rows_helper`` name the
        trainer and the function that writes its rows, for the error a row without a task gets."""
        task = {**dict(row.get("extra_info") or {}), **{key: row[key] for key in FIELDS if key in row}}
        if "env_id" not in task or "seed" not in task:
            see = f" (see {rows_helper})" if rows_helper else ""
            raise ValueError(f"{source} row for an rlvr env needs env_id and seed{see}")
        env_kwargs = task.get("env_kwargs") or {}
        if isinstance(env_kwargs, str):
            env_kwargs = json.loads(env_kwargs)
        return cls(str(task["env_id"]), int(task["seed"]), dict(env_kwargs))

    def to_json(self) -> str:
        return json.dumps({"env_id": self.env_id, "seed": self.seed, "env_kwargs": self.env_kwargs})

    @classmethod
    def from_json(cls, text: str) -> EnvTask:
        return cls.from_row(json.loads(text))
