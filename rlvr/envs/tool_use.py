"""The turn loop of tool-using QA envs: calls by tag, one answer, a call budget, then a last turn.

``rlvr/WebSearch-v0`` (``<search>``/``<open>``) and the temporal-KG envs (``<tool>{json}</tool>``) ask
different questions with different tools, but the protocol around the tools is one protocol, and an
agent trained on one should meet the same rules in the other: the first complete call tag outside
``<think>`` counts; anything else is an invalid action that is explained and uses up the turn; after
``max_turns`` replies only an ``<answer>`` counts, and without one the episode is truncated; the answer
ends the episode and is the only thing scored. ``ToolUseEnv`` is that protocol once. A subclass says
how to parse a reply, what each tool does, and how an answer scores.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium

from rlvr.core.game import GameOverError
from rlvr.core.spaces import DEFAULT_MAX_LENGTH, UnicodeText

ROLE = "agent"
StepResult = tuple[str, float, bool, bool, dict[str, Any]]


@dataclass(frozen=True)
class ToolCall:
    """One call parsed from a reply."""

    tool: str
    """The tool's name, or ``"answer"``."""
    argument: str
    """The tag's content, stripped."""
    well_formed: bool
    """The reply was nothing but this one tag (after removing ``<think>`` blocks and whitespace)."""


class ToolUseEnv(gymnasium.Env[str, str], abc.ABC):
    """A question answered through tool calls; see the module docstring for the shared rules.

    Subclasses implement the abstract hooks, call ``_begin(observation)`` at the end of ``reset``, and
    may extend ``_clear`` (per-episode state), ``_refusal`` (calls this task does not allow),
    ``_task_info`` / ``_final_info`` / ``_step_defaults`` (info keys) and ``_usage_metrics``.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 1}

    def __init__(self, *, max_turns: int, render_mode: str | None, max_action_length: int) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        if max_turns < 1 or max_action_length < 1:
            raise ValueError("max_turns and max_action_length must be >= 1")
        self.max_turns = max_turns
        self.render_mode = render_mode
        self.max_action_length = max_action_length
        self.observation_space = UnicodeText(max_length=DEFAULT_MAX_LENGTH)
        self.action_space = UnicodeText(max_length=max_action_length)
        self._transcript: list[str] = []
        self._started = False
        self._clear()

    def _clear(self) -> None:
        """Forget the last episode (extend with the subclass's own per-episode state)."""
        self._turn = 0
        self._over = False
        self._answer: str | None = None
        self._invalid = 0
        self._all_well_formed = True
        self._return = 0.0
        self._task_metrics: dict[str, float] = {}

    # -- hooks -------------------------------------------------------------------------------------

    @abc.abstractmethod
    def _parse(self, reply: str) -> ToolCall | None:
        """The call in a reply (the first complete call tag outside ``<think>``), or ``None``."""

    @abc.abstractmethod
    def _use_tool(self, call: ToolCall) -> StepResult:
        """Run a (valid, non-answer) call; reply with ``_reply``."""

    @abc.abstractmethod
    def _score(self, answer: str) -> tuple[float, dict[str, float]]:
        """The reward and the task metrics for an answer."""

    @abc.abstractmethod
    def _unanswered_metrics(self) -> dict[str, float]:
        """The task metrics when the episode ends without an answer (every score 0)."""

    @abc.abstractmethod
    def instructions(self) -> str:
        """The rules as a system prompt (``info["instructions"]`` at reset)."""

    @abc.abstractmethod
    def _reminder(self) -> str:
        """The protocol in brief, ending with ``_turns_left()``: the reply to an invalid action."""

    @abc.abstractmethod
    def _no_call_reason(self) -> str:
        """Why a reply without any call tag is invalid (names the tags this env reads)."""

    def _refusal(self, call: ToolCall) -> str | None:
        """Why this task refuses a well-parsed call (a tool switched off), or ``None``."""
        return None

    def _task_info(self) -> dict[str, Any]:
        """Info keys about the episode's task, on every step."""
        return {}

    def _final_info(self) -> dict[str, Any]:
        """Info keys added once the episode is over (the gold answers)."""
        return {}

    def _step_defaults(self) -> dict[str, Any]:
        """Per-step info keys with their values on a step that ran no tool."""
        return {"tool_output_spans": []}

    def _usage_metrics(self) -> dict[str, float]:
        """Counts of tool use for the final metrics."""
        return {}

    # -- the loop ----------------------------------------------------------------------------------

    def _turns_left(self) -> str:
        left = self.max_turns - self._turn
        if left <= 0:
            return "You have no calls left: reply with <answer>...</answer> now."
        return f"You have {left} call{'s' if left != 1 else ''} left."

    def _begin(self, observation: str) -> tuple[str, dict[str, Any]]:
        self._clear()
        self._started = True
        self._transcript = [observation]
        info = self._info(None, tool=None)
        info["instructions"] = self.instructions()
        return observation, info

    def step(self, action: str) -> StepResult:
        if not self._started:
            raise GameOverError("call reset() before step()")
        if self._over:
            raise GameOverError("The episode has ended; call reset() before step().")
        self._turn += 1
        last_turn = self._turn > self.max_turns
        call = self._parse(action[: self.max_action_length]) if isinstance(action, str) and action else None
        reason = self._invalid_reason(action, call, last_turn)
        if reason is not None:
            self._invalid += 1
            self._all_well_formed = False
            if last_turn:
                return self._finish(None, truncated=True, reason=reason)
            return self._reply(f"{reason}\n{self._reminder()}", tool=None, reason=reason)
        assert call is not None
        self._all_well_formed &= call.well_formed
        if call.tool == "answer":
            return self._finish(call.argument, truncated=False, reason=None)
        return self._use_tool(call)

    def _invalid_reason(self, action: object, call: ToolCall | None, last_turn: bool) -> str | None:
        if not isinstance(action, str):
            return f"The action must be text, got {type(action).__name__}."
        if len(action) > self.max_action_length:
            return f"The reply is longer than {self.max_action_length} characters."
        if call is None:
            return self._no_call_reason()
        if last_turn and call.tool != "answer":
            return "You had no calls left, so only an <answer> could count."
        refusal = self._refusal(call)
        if refusal is not None:
            return refusal
        if call.tool != "answer" and not call.argument:
            return f"The <{call.tool}> tag is empty."
        return None

    def _reply(
        self, observation: str, *, tool: str | None, reason: str | None, **step_info: Any
    ) -> StepResult:
        """A step that goes on: after a tool's output, the calls left are appended."""
        if tool is not None:
            observation = f"{observation}\n{self._turns_left()}"
        self._transcript.append(observation)
        info = self._info(reason, tool=tool)
        info.update(self._step_defaults())
        info.update(step_info)
        return observation, 0.0, False, False, info

    def _finish(self, answer: str | None, *, truncated: bool, reason: str | None) -> StepResult:
        self._answer = answer
        self._over = True
        if answer is None:
            self._return = 0.0
            self._task_metrics = self._unanswered_metrics()
            observation = f"{reason} The episode is over without an answer."
        else:
            self._return, self._task_metrics = self._score(answer)
            observation = f"Your answer: {answer}. The episode is over."
        self._transcript.append(observation)
        info = self._info(reason, tool=None if answer is None else "answer")
        info.update(self._step_defaults())
        return observation, self._return, answer is not None, truncated, info

    # -- info --------------------------------------------------------------------------------------

    def _info(self, reason: str | None, *, tool: str | None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "turn": self._turn,
            "player": None if self._over else ROLE,
            "role": ROLE,
            "invalid_action": reason is not None,
            "invalid_reason": reason,
            "tool": tool,
            **self._task_info(),
            "metrics": self._metrics() if self._over else {},
        }
        if self._over:
            info["answer"] = self._answer
            info.update(self._final_info())
        return info

    def _metrics(self) -> dict[str, float]:
        return {
            "return": self._return,
            **self._task_metrics,
            "answered": float(self._answer is not None),
            "well_formed": float(self._answer is not None and self._all_well_formed),
            **self._usage_metrics(),
            "invalid_actions": float(self._invalid),
            "turns": float(self._turn),
        }

    def render(self) -> str | None:
        text = "\n\n".join(self._transcript)
        if self.render_mode == "human":
            print(text)
            return None
        return text


def pick_question(options: Mapping[str, Any], drawn: Any, by_id: Mapping[str, Any], coerce: Any) -> Any:
    """The question ``reset`` poses: ``options["question"]`` (made one by ``coerce``), the one with
    ``options["question_id"]``, or else ``drawn`` (drawn by the caller in any case, so a seed always
    advances ``np_random`` the same way)."""
    if "question" in options:
        return coerce(options["question"])
    if "question_id" in options:
        try:
            return by_id[str(options["question_id"])]
        except KeyError:
            raise ValueError(f"unknown question_id {options['question_id']!r}") from None
    return drawn
