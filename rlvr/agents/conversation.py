"""Chat messages built from env steps: the prompt a policy sees at each turn of an episode.

The env contract gives the rules once, in ``info["instructions"]`` at reset, and then one *new* text per
turn. ``Conversation`` turns that into the chat a model expects::

    system     <- info["instructions"]
    [few-shot user/assistant examples]
    user       <- observation at reset
    assistant  <- the policy's full reply (``<think>`` blocks included)
    user       <- next observation
    ...

The assistant messages keep the raw completion, reasoning and all, because that is what the model
generated and what the learner trains on; the env is given the think-stripped answer separately (see
``rlvr.agents.extraction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rlvr.core.records import Message


def validate_few_shot(examples: Sequence[Message]) -> list[Message]:
    """Few-shot examples are whole exchanges: user, assistant, user, assistant, ..."""
    examples = [dict(message) for message in examples]
    for index, message in enumerate(examples):
        expected = "user" if index % 2 == 0 else "assistant"
        if message.get("role") != expected or not isinstance(message.get("content"), str):
            raise ValueError(
                f"few-shot message {index} must be {{'role': {expected!r}, 'content': str}}, "
                f"got {message!r}; "
                "examples alternate user/assistant and end with an assistant reply"
            )
    if len(examples) % 2:
        raise ValueError("few-shot examples must end with an assistant reply")
    return examples


class Conversation:
    """The chat of one seat in one episode.

    Arguments:
        instructions: the system prompt, normally ``info["instructions"]`` from ``reset``; ``None``
            or empty means no system message.
        history_window: keep only the last N answered exchanges (user + assistant) before the current
            observation; ``None`` keeps everything. The system message and few-shot examples are
            always kept.
        few_shot: example messages (user, assistant, ...) placed right after the system message.
        pin_first_observation: with a window, also keep the episode's first observation and the reply
            to it (envs whose task statement comes in the first observation rather than the
            instructions need it).
    """

    def __init__(
        self,
        instructions: str | None = None,
        *,
        history_window: int | None = None,
        few_shot: Sequence[Message] = (),
        pin_first_observation: bool = False,
    ) -> None:
        if history_window is not None and history_window < 0:
            raise ValueError(f"history_window must be >= 0 or None, got {history_window}")
        self.instructions = instructions or None
        self.history_window = history_window
        self.few_shot = validate_few_shot(few_shot)
        self.pin_first_observation = pin_first_observation
        self.history: list[Message] = []
        """Every observation and reply of the episode, in order, never windowed."""

    @classmethod
    def from_reset(cls, observation: str, info: dict[str, Any], **options: Any) -> Conversation:
        """Start from what ``env.reset()`` returned."""
        conversation = cls(info.get("instructions"), **options)
        conversation.add_observation(observation)
        return conversation

    def add_observation(self, text: str) -> None:
        """Append what the env said. Two observations in a row (no reply between) merge into one user
        message, so the chat keeps the strict user/assistant alternation that chat templates require."""
        if self.history and self.history[-1]["role"] == "user":
            self.history[-1]["content"] += "\n\n" + text
        else:
            self.history.append({"role": "user", "content": text})

    def add_action(self, completion_text: str) -> None:
        """Append the policy's reply: the full raw completion, ``<think>`` blocks included."""
        if not self.history or self.history[-1]["role"] != "user":
            raise ValueError("a reply must follow an observation; call add_observation first")
        self.history.append({"role": "assistant", "content": completion_text})

    def to_messages(self) -> list[Message]:
        """The prompt for the next call: system, few-shot, then the (windowed) history; fresh dicts."""
        messages: list[Message] = []
        if self.instructions:
            messages.append({"role": "system", "content": self.instructions})
        messages.extend(dict(message) for message in self.few_shot)
        messages.extend(dict(message) for message in self._windowed_history())
        return messages

    def _windowed_history(self) -> list[Message]:
        history = self.history
        if self.history_window is None:
            return history
        # A trailing unanswered observation is the current turn: always kept, outside the window.
        pending = history[-1:] if history and history[-1]["role"] == "user" else []
        answered = history[: len(history) - len(pending)]
        keep = 2 * self.history_window
        recent = answered[-keep:] if keep else []
        if self.pin_first_observation and len(answered) > keep:  # the first exchange fell out
            recent = answered[:2] + recent
        return recent + pending
