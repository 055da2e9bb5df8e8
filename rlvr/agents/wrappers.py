"""Policies that change what another policy is asked, then delegate to it.

Each wrapper transforms the batch of conversations and/or the sampling parameters and calls the wrapped
policy once; ``agenerate`` delegates to the wrapped ``agenerate`` so a backend with a native async client
stays async. Wrappers nest: ``with_sampling(with_system_prompt(policy, ...), temperature=0)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from rlvr.agents.base import Completion, Policy, SamplingParams
from rlvr.agents.conversation import validate_few_shot
from rlvr.core.records import Message


class PolicyWrapper(Policy):
    """Base for wrappers: override ``transform_batch`` and/or ``transform_params``."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def transform_batch(self, batch: Sequence[list[Message]]) -> list[list[Message]]:
        return [list(messages) for messages in batch]

    def transform_params(self, params: SamplingParams | None) -> SamplingParams | None:
        return params

    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        return self.policy.generate(self.transform_batch(batch), self.transform_params(params))

    async def agenerate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        return await self.policy.agenerate(self.transform_batch(batch), self.transform_params(params))


def _system_index(messages: list[Message]) -> int | None:
    return 0 if messages and messages[0].get("role") == "system" else None


class SystemPromptPolicy(PolicyWrapper):
    """Puts ``text`` in every conversation's system message.

    ``mode="prepend"`` keeps the env's instructions after ``text`` (a persona or output-format note on
    top of the rules); ``mode="replace"`` discards them (a prompt-engineering baseline that restates
    the rules its own way). Either way a conversation without a system message gets one.
    """

    def __init__(self, policy: Policy, text: str, mode: Literal["prepend", "replace"] = "prepend") -> None:
        if mode not in ("prepend", "replace"):
            raise ValueError(f"mode must be 'prepend' or 'replace', got {mode!r}")
        super().__init__(policy)
        self.text = text
        self.mode = mode

    def transform_batch(self, batch: Sequence[list[Message]]) -> list[list[Message]]:
        result = []
        for messages in batch:
            messages = list(messages)
            index = _system_index(messages)
            if index is None:
                messages.insert(0, {"role": "system", "content": self.text})
            elif self.mode == "replace":
                messages[index] = {**messages[index], "content": self.text}
            else:
                existing = messages[index]["content"]
                messages[index] = {**messages[index], "content": f"{self.text}\n\n{existing}"}
            result.append(messages)
        return result


class FewShotPolicy(PolicyWrapper):
    """Inserts example exchanges (user, assistant, ...) right after the system message."""

    def __init__(self, policy: Policy, examples: Sequence[Message]) -> None:
        super().__init__(policy)
        self.examples = validate_few_shot(examples)

    def transform_batch(self, batch: Sequence[list[Message]]) -> list[list[Message]]:
        result = []
        for messages in batch:
            at = 1 if _system_index(list(messages)) is not None else 0
            examples = [dict(message) for message in self.examples]
            result.append([*messages[:at], *examples, *messages[at:]])
        return result


class SamplingPolicy(PolicyWrapper):
    """Fixes some sampling parameters; the wrapper's values win over the caller's.

    That direction is the useful one: ``with_sampling(policy, temperature=0.0)`` makes an evaluation
    greedy whatever the runner passes. Parameters the wrapper does not name pass through.
    """

    def __init__(self, policy: Policy, **overrides: Any) -> None:
        SamplingParams().with_overrides(**overrides)  # fail now, not at the first call
        super().__init__(policy)
        self.overrides = overrides

    def transform_params(self, params: SamplingParams | None) -> SamplingParams:
        return (params or SamplingParams()).with_overrides(**self.overrides)


def with_system_prompt(policy: Policy, text: str, mode: Literal["prepend", "replace"] = "prepend") -> Policy:
    """``policy`` with ``text`` in every system message (see ``SystemPromptPolicy``)."""
    return SystemPromptPolicy(policy, text, mode)


def with_few_shot(policy: Policy, examples: Sequence[Message]) -> Policy:
    """``policy`` with example exchanges after the system message (see ``FewShotPolicy``)."""
    return FewShotPolicy(policy, examples)


def with_sampling(policy: Policy, **params: Any) -> Policy:
    """``policy`` with these sampling parameters forced (see ``SamplingPolicy``)."""
    return SamplingPolicy(policy, **params)
