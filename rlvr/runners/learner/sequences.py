"""Training sequences built from the token ids the policy actually saw and produced.

Re-tokenising a chat after the fact drifts: a template renders an assistant turn differently from how
the model ended it, a tokenizer merges across a boundary differently. So the learner never
re-tokenises. Each policy turn carries ``prompt_token_ids`` (the exact prompt) and
``completion_token_ids`` (the exact reply); a sample is their concatenation, with the loss mask on the
reply only and the behaviour logprobs from the rollout alongside.

Consecutive turns of one seat merge into one sequence when the later prompt starts with the earlier
prompt + reply, token for token (true for templates that render history as it was generated); the
tokens in between (the env's next observation) are masked. Otherwise each turn is its own sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rlvr.core.records import Trajectory

if TYPE_CHECKING:
    import torch


@dataclass
class TrainingSample:
    """One sequence to train on: tokens, which of them are the policy's, and what to push them by."""

    input_ids: list[int]
    loss_mask: list[int]
    """1 on tokens the policy generated in this seat's turns, 0 on prompt and observation tokens."""
    old_logprobs: list[float]
    """Behaviour logprobs from the rollout on generated tokens (0 elsewhere)."""
    advantages: list[float]
    """Per-token advantage: the turn's advantage on its generated tokens (0 elsewhere)."""
    role: str = ""
    episode_id: str = ""
    turn_indices: list[int] = field(default_factory=list)


def build_samples(
    trajectories: Sequence[Trajectory],
    advantages: Sequence[Sequence[float | None]],
    *,
    merge_turns: bool = True,
) -> list[TrainingSample]:
    """Samples for every turn with an advantage; a turn without token ids is a ``ValueError`` (the
    backend must give them to train on)."""
    samples: list[TrainingSample] = []
    for trajectory, row in zip(trajectories, advantages, strict=True):
        open_by_role: dict[str, TrainingSample] = {}
        for index, (turn, advantage) in enumerate(zip(trajectory.turns, row, strict=True)):
            if advantage is None:
                continue
            prompt, completion = turn.prompt_token_ids, turn.completion_token_ids
            if prompt is None or completion is None:
                raise ValueError(
                    f"turn {index} of {trajectory.episode_id} has no token ids; "
                    "train with a backend that returns them (transformers, vLLM)"
                )
            logprobs = turn.completion_logprobs or [0.0] * len(completion)
            if len(logprobs) != len(completion):
                raise ValueError(
                    f"turn {index} of {trajectory.episode_id}: logprobs and tokens differ in length"
                )
            current = open_by_role.get(turn.role)
            if merge_turns and current is not None and prompt[: len(current.input_ids)] == current.input_ids:
                gap = prompt[len(current.input_ids) :]
                current.input_ids += gap + list(completion)
                current.loss_mask += [0] * len(gap) + [1] * len(completion)
                current.old_logprobs += [0.0] * len(gap) + list(logprobs)
                current.advantages += [0.0] * len(gap) + [float(advantage)] * len(completion)
                current.turn_indices.append(index)
                continue
            sample = TrainingSample(
                input_ids=list(prompt) + list(completion),
                loss_mask=[0] * len(prompt) + [1] * len(completion),
                old_logprobs=[0.0] * len(prompt) + list(logprobs),
                advantages=[0.0] * len(prompt) + [float(advantage)] * len(completion),
                role=turn.role,
                episode_id=trajectory.episode_id,
                turn_indices=[index],
            )
            samples.append(sample)
            open_by_role[turn.role] = sample
    return samples


def pad_batch(
    samples: Sequence[TrainingSample], device: torch.device | str = "cpu"
) -> dict[str, torch.Tensor]:
    """Right-pad a minibatch into tensors; padding is masked out of attention and of the loss."""
    import torch

    width = max(len(sample.input_ids) for sample in samples)

    def column(values: list[list[float]] | list[list[int]], dtype: torch.dtype) -> torch.Tensor:
        return torch.tensor(
            [list(row) + [0] * (width - len(row)) for row in values], dtype=dtype, device=device
        )

    return {
        "input_ids": column([s.input_ids for s in samples], torch.long),
        "attention_mask": column([[1] * len(s.input_ids) for s in samples], torch.long),
        "loss_mask": column([s.loss_mask for s in samples], torch.float32),
        "old_logprobs": column([s.old_logprobs for s in samples], torch.float32),
        "advantages": column([s.advantages for s in samples], torch.float32),
    }
