"""Trajectories -> per-sample records that external trainers (verl, OpenRLHF, TRL, your own) ingest.

Two levels, because trainers differ in whether they tokenise:

* **Token level** (``export_samples``): the exact ``input_ids`` the policy saw and produced, a
  ``loss_mask`` that is 1 on the policy's own generated tokens only, a per-token ``advantages`` column
  and the behaviour ``old_logprobs``. It reuses ``build_samples`` so that an external trainer trains
  on precisely what ``rlvr train`` would, with no re-tokenisation drift.
* **Text level** (``export_text_samples``): chat messages per sample with each assistant turn marked
  ``trainable`` and carrying its own advantage, for trainers that apply their own chat template.

The advantages come from the same pure estimators as ``rlvr train`` (``grpo``, ``rae``, ``mars``,
``rebn``, ``reinforce``), chosen by name with their keyword options.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rlvr.core.records import Message, Trajectory
from rlvr.runners.learner.advantages import RoleBaseline, TurnAdvantages, grpo, mars, rebn, reinforce
from rlvr.runners.learner.sequences import build_samples

ESTIMATORS = ("grpo", "rae", "mars", "rebn", "reinforce")
"""Names accepted by ``compute_advantages`` (the same as ``rlvr train --algo``)."""

SAMPLE_COLUMNS = (
    "input_ids",
    "loss_mask",
    "advantages",
    "old_logprobs",
    "role",
    "episode_id",
    "env_id",
    "reward",
)
"""The columns of a token-level record, in the order they are written."""


def compute_advantages(
    trajectories: Sequence[Trajectory], algo: str = "grpo", **options: Any
) -> TurnAdvantages:
    """Per-turn advantages by estimator name; ``options`` go to the estimator (``rae`` takes
    ``alpha``/``gamma`` for a fresh ``RoleBaseline``, or ``baseline=`` an existing one to continue)."""
    if algo == "grpo":
        return grpo(trajectories, **options)
    if algo == "mars":
        return mars(trajectories, **options)
    if algo == "rebn":
        return rebn(trajectories, **options)
    if algo == "reinforce":
        return reinforce(trajectories, **options)
    if algo == "rae":
        baseline = options.pop("baseline", None) or RoleBaseline(**options)
        return baseline.advantages(trajectories)
    raise ValueError(f"unknown estimator {algo!r}; choose one of {ESTIMATORS}")


def export_samples(
    trajectories: Sequence[Trajectory], algo: str = "grpo", *, merge_turns: bool = True, **options: Any
) -> list[dict[str, Any]]:
    """Token-level records, one per training sequence (a seat's merged turns, or one turn).

    ``reward`` is the seat's episode return (``Trajectory.returns[role]``), which is what a
    sequence-level trainer (GRPO in TRL/verl) would use when it computes its own advantages.
    """
    trajectories = list(trajectories)
    advantages = compute_advantages(trajectories, algo, **options)
    by_episode = {trajectory.episode_id: trajectory for trajectory in trajectories}
    records = []
    for sample in build_samples(trajectories, advantages, merge_turns=merge_turns):
        trajectory = by_episode[sample.episode_id]
        records.append(
            {
                "input_ids": sample.input_ids,
                "loss_mask": sample.loss_mask,
                "advantages": sample.advantages,
                "old_logprobs": sample.old_logprobs,
                "role": sample.role,
                "episode_id": sample.episode_id,
                "env_id": trajectory.env_id,
                "reward": float(trajectory.returns.get(sample.role, 0.0)),
            }
        )
    return records


def export_text_samples(
    trajectories: Sequence[Trajectory], algo: str = "grpo", **options: Any
) -> list[dict[str, Any]]:
    """Text-level records: one per (episode, seat) with at least one trained turn.

    ``messages`` is the chat of the seat's *last* trained turn (its prompt, which holds the earlier
    turns as the policy saw them when the template keeps history) followed by that turn's reply; each
    assistant message has ``trainable`` and ``advantage`` keys. An assistant message in the prompt is
    matched to the seat's earlier trained turns in order by content, so its advantage is that turn's.
    When a turn has no recorded ``prompt`` (a policy that did not give one), the chat is rebuilt as
    observation/reply pairs. Trainers that re-tokenise must drop the two extra keys before applying
    a chat template that rejects unknown keys.
    """
    trajectories = list(trajectories)
    advantages = compute_advantages(trajectories, algo, **options)
    records = []
    for trajectory, row in zip(trajectories, advantages, strict=True):
        roles: dict[str, list[int]] = {}
        for index, (turn, advantage) in enumerate(zip(trajectory.turns, row, strict=True)):
            if advantage is not None:
                roles.setdefault(turn.role, []).append(index)
        for role, indices in roles.items():
            records.append(
                {
                    "messages": _seat_messages(trajectory, indices, row),
                    "role": role,
                    "episode_id": trajectory.episode_id,
                    "env_id": trajectory.env_id,
                    "reward": float(trajectory.returns.get(role, 0.0)),
                    "turn_advantages": [float(row[index]) for index in indices],  # type: ignore[arg-type]
                }
            )
    return records


def _seat_messages(trajectory: Trajectory, indices: list[int], row: Sequence[float | None]) -> list[Message]:
    last = trajectory.turns[indices[-1]]
    replies = [(trajectory.turns[i].completion or "", float(row[i])) for i in indices]  # type: ignore[arg-type]
    if last.prompt is None:
        messages: list[Message] = []
        for (text, advantage), index in zip(replies, indices, strict=True):
            messages.append({"role": "user", "content": trajectory.turns[index].observation})
            messages.append(_assistant(text, advantage))
        return messages
    messages = []
    pending = list(replies[:-1])
    for message in last.prompt:
        if message.get("role") == "assistant":
            if pending and pending[0][0] == message.get("content"):
                text, advantage = pending.pop(0)
                messages.append(_assistant(text, advantage))
            else:  # history the template kept but we cannot match (a window, a few-shot example)
                messages.append({**message, "trainable": False, "advantage": 0.0})
        else:
            messages.append(dict(message))
    messages.append(_assistant(*replies[-1]))
    return messages


def _assistant(text: str, advantage: float) -> Message:
    return {"role": "assistant", "content": text, "trainable": True, "advantage": advantage}


def write_jsonl(path: str | Path, records: Iterable[Mapping[str, Any]]) -> int:
    """One JSON object per line; returns how many were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, allow_nan=True) + "\n")
            count += 1
    return count


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Records written by ``write_jsonl``."""
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _require(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{module} is needed for this export: pip install {extra}") from error


def write_parquet(path: str | Path, records: Sequence[Mapping[str, Any]]) -> int:
    """A Parquet file (Arrow list columns for the token fields); needs ``pyarrow``."""
    _require("pyarrow", "pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([dict(record) for record in records])
    pq.write_table(table, str(path))
    return table.num_rows


def read_parquet(path: str | Path) -> list[dict[str, Any]]:
    """Records written by ``write_parquet``."""
    _require("pyarrow", "pyarrow")
    import pyarrow.parquet as pq

    return pq.read_table(str(path)).to_pylist()


def to_hf_dataset(records: Sequence[Mapping[str, Any]]) -> Any:
    """A ``datasets.Dataset`` of the records (token or text level); needs ``datasets``."""
    datasets = _require("datasets", "'rlvr-gym[datasets]'")
    return datasets.Dataset.from_list([dict(record) for record in records])
