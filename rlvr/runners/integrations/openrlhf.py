"""Our envs as OpenRLHF multi-turn agents (``--train.agent_func_path``), one env per sample.

OpenRLHF's interface (read from ``openrlhf/utils/agent.py``, openrlhf 0.11.2; the same shape since
0.9.1.post1): the file named by ``--train.agent_func_path`` defines ``AgentExecutor``, a subclass of
``AgentExecutorBase`` built with no arguments. ``MultiTurnAgentExecutor.execute`` runs one sample:

1. ``instance = AgentInstance()``, then ``await instance.reset({"observation": prompt, "label": label})``;
   ``prompt`` is the dataset row's ``input`` already rendered by the chat template
   (``--data.apply_chat_template``), ``label`` the row's ``label`` string (``--data.label_key label``).
   The returned ``"observation"`` text is tokenized and is the model's first context.
2. Each turn vLLM continues the token context; then ``await instance.step({"observation_text",
   "action_text", "label", "sampling_params"})`` returns ``rewards`` (a tensor; the executor sums
   ``rewards.item()`` over turns into the sample's reward), ``scores`` (the last turn's is kept, for
   dynamic filtering), ``environment_feedback`` (text whose tokens are appended to the context after
   the model's tokens and are masked out of the loss), ``done``, ``sampling_params`` and
   ``extra_logs`` (the last turn's are logged; every sample must carry the same keys, since
   OpenRLHF batches them by key).
3. The loop ends on ``done``, or when the context (``--data.max_len``) has no room left to generate.

So an rlvr episode maps directly: reset the env named by the label with the label's seed, step it with
the action ``extractor_for`` pulls out of each reply, and return the env's per-step reward (their sum is
the episode return, as in direct play). The feedback must continue the chat in the model's own
template: vLLM stops on the end-of-turn token and keeps it in the token ids but not in ``action_text``,
so the feedback is the rest of the assistant turn's closing (``"\\n"`` after ``<|im_end|>`` in ChatML)
followed by a user turn holding the next observation and the assistant generation prompt, all taken
from ``tokenizer.apply_chat_template`` (``ChatTurnFormat``). The token stream of an episode then
equals the chat template applied to the whole conversation, as in ``rlvr``'s own runner. (OpenRLHF's
GEM example instead prepends ``<|im_end|>`` whenever the text lacks it, which doubles the token vLLM
already kept.)

The instance needs the tokenizer the executor tokenizes with, which OpenRLHF passes to ``execute``
but not to the instance; ``openrlhf_agent_executor()`` builds the executor that hands it over through
a context variable (``using_tokenizer``), which is per asyncio task, so concurrent samples never see
each other's. Env resets and steps run in a worker thread (code envs block on their sandbox), so many
samples interleave on vLLM's event loop.

Nothing here imports ``openrlhf`` except ``openrlhf_agent_executor``: ``RlvrAgentInstance`` has the
instance interface by duck typing, and the executor subclasses OpenRLHF's own classes when built.
Not supported: OpenRLHF 0.8.7 to 0.9.1, which ran each instance as a Ray actor (no way to pass the
tokenizer; 0.9.1 also shared one instance between samples), and the plain ``step(observation, action,
label)`` function of 0.8.0 to 0.8.6. The flag is ``--agent_func_path`` before 0.10.2.

A reply cut by the token budget (``finish_reason == "length"``) has no end-of-turn token, and its
feedback does not add one: the executor gives each turn all the room left in ``--data.max_len``, so a
cut reply filled the context and nothing more is generated after it.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlvr.agents.extraction import extractor_for
from rlvr.core.records import Message
from rlvr.core.registry import make
from rlvr.runners.integrations.trl import first_prompt

logger = logging.getLogger(__name__)

EXTRA_LOG_KEYS = ("env_return", "env_turns", "env_invalid_actions", "env_finished")
"""The ``extra_logs`` every sample reports. A fixed set: OpenRLHF batches ``extra_logs`` by key and
fails on a sample that lacks one, so env-specific metrics (which appear only at an episode's end) are
left out; ``env_return`` avoids the ``return`` and ``reward`` keys OpenRLHF writes itself."""

_TOKENIZER: contextvars.ContextVar[Any] = contextvars.ContextVar("rlvr_openrlhf_tokenizer")

_USER_SLOT = "RLVR-USER-SLOT-5c1e"
_ASSISTANT_SLOT = "RLVR-ASSISTANT-SLOT-9b7d"


def openrlhf_label(env_id: str, seed: int, *, max_turns: int | None = None, **env_kwargs: Any) -> str:
    """The ``label`` string of one sample: the JSON task ``RlvrAgentInstance`` resets from."""
    task: dict[str, Any] = {"env_id": env_id, "seed": int(seed), "env_kwargs": dict(env_kwargs)}
    if max_turns is not None:
        task["max_turns"] = int(max_turns)
    return json.dumps(task, sort_keys=True)


def openrlhf_rows(
    env_id: str,
    seeds: Iterable[int],
    *,
    instructions: bool = True,
    max_turns: int | None = None,
    **env_kwargs: Any,
) -> list[dict[str, Any]]:
    """Prompt-dataset rows for OpenRLHF: ``input`` (the first chat), ``label`` (JSON) and ``datasource``.

    Train with ``--data.input_key input --data.label_key label --data.apply_chat_template``; OpenRLHF
    groups eval metrics by ``datasource``, which is the env id. ``input`` is the chat ``rlvr``'s runner
    builds at reset (rules as the system message, the first observation as the user message).
    """
    return [
        {
            "input": first_prompt(env_id, int(seed), instructions=instructions, **env_kwargs),
            "label": openrlhf_label(env_id, int(seed), max_turns=max_turns, **env_kwargs),
            "datasource": env_id,
        }
        for seed in seeds
    ]


def write_openrlhf_jsonl(rows: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write rows as JSON lines, the file ``--data.prompt_dataset`` reads."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(dict(row), ensure_ascii=False) + "\n")
    return path


class ChatTemplateError(ValueError):
    """The tokenizer's chat template cannot be split into per-turn text (see ``ChatTurnFormat``)."""


@dataclass(frozen=True)
class ChatTurnFormat:
    """The text that continues a chat after a reply: ``before + observation + after``.

    ``before`` closes the assistant turn (minus the end-of-turn token, which the model generated and
    vLLM kept in the token ids) and opens a user turn; ``after`` closes it and opens the next assistant
    turn. For ChatML (SmolLM2, Qwen): ``"\\n<|im_start|>user\\n"`` and
    ``"<|im_end|>\\n<|im_start|>assistant\\n"``.
    """

    before: str
    after: str

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, *, generated_end: str | None = None) -> ChatTurnFormat:
        """Read the format off ``tokenizer.apply_chat_template`` by rendering placeholder turns.

        It compares the prompt of a first turn with the prompt of a second one: the second must be the
        first, the reply, then the new text. That is the token-in-token-out view the executor builds
        (templates that re-render earlier turns differently, as Qwen3's does with the empty think block
        it adds only to a final assistant message, still pass, since no final reply is rendered).
        ``generated_end`` is the text of the token the model stops on (default: the tokenizer's
        ``eos_token``); it is dropped from the start of ``before`` because vLLM already appended it.
        """
        generated_end = tokenizer.eos_token if generated_end is None else generated_end
        first: list[Message] = [{"role": "user", "content": "Hello."}]
        second: list[Message] = [
            *first,
            {"role": "assistant", "content": _ASSISTANT_SLOT},
            {"role": "user", "content": _USER_SLOT},
        ]
        prompt = tokenizer.apply_chat_template(first, tokenize=False, add_generation_prompt=True)
        continued = tokenizer.apply_chat_template(second, tokenize=False, add_generation_prompt=True)
        new_text = continued[len(prompt) :] if continued.startswith(prompt) else ""
        if not new_text.startswith(_ASSISTANT_SLOT) or new_text.count(_USER_SLOT) != 1:
            raise ChatTemplateError(
                "the chat template does not render a reply and the next user turn as an extension of "
                "the first turn's prompt, so the feedback text cannot be read off it; pass "
                "ChatTurnFormat(before, after) written for this model"
            )
        closing, _, after = new_text[len(_ASSISTANT_SLOT) :].partition(_USER_SLOT)
        if generated_end and closing.startswith(generated_end):
            closing = closing[len(generated_end) :]
        return cls(before=closing, after=after)

    def user_turn(self, observation: str) -> str:
        """The feedback text for the next observation: it ends ready for the assistant's reply."""
        return self.before + observation + self.after


@contextmanager
def using_tokenizer(tokenizer: Any) -> Iterator[None]:
    """Make ``tokenizer`` the one ``RlvrAgentInstance`` formats with, in this asyncio task only."""
    token = _TOKENIZER.set(tokenizer)
    try:
        yield
    finally:
        _TOKENIZER.reset(token)


def parse_label(label: str | Mapping[str, Any]) -> dict[str, Any]:
    """The task in a sample's ``label`` (JSON text, or already a mapping)."""
    task = dict(json.loads(label) if isinstance(label, str) else label)
    if "env_id" not in task or "seed" not in task:
        raise ValueError(
            f"an OpenRLHF label for an rlvr env needs env_id and seed (see openrlhf_rows): {label!r}"
        )
    return task


class RlvrAgentInstance:
    """One rlvr episode behind OpenRLHF's ``AgentInstanceBase`` interface (``reset`` / ``step``).

    OpenRLHF builds it with no arguments; the turn format then comes from the tokenizer set by
    ``using_tokenizer`` (``openrlhf_agent_executor`` does that). ``turn_format`` overrides it, for a
    template ``ChatTurnFormat.from_tokenizer`` cannot read.

    A label may set ``max_turns``, a cap after which the episode is cut (``done``) with the return so
    far; by default only the env ends it (or OpenRLHF, when the context is full).
    """

    def __init__(self, *args: Any, turn_format: ChatTurnFormat | None = None, **kwargs: Any) -> None:
        self.turn_format = turn_format
        self.env: Any = None
        self.extract: Callable[[str], str] | None = None
        self.env_id = ""
        self.seed = 0
        self.max_turns: int | None = None
        self.turns = 0
        self.invalid_actions = 0
        self.episode_return = 0.0
        self.finished = False

    async def reset(self, states: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Reset the label's env with its seed; the prompt (rendered from the same reset) is kept."""
        task = parse_label(states["label"])
        self.env_id, self.seed = str(task["env_id"]), int(task["seed"])
        self.max_turns = int(task["max_turns"]) if task.get("max_turns") is not None else None
        if self.turn_format is None:
            tokenizer = _TOKENIZER.get(None)
            if tokenizer is None:
                raise RuntimeError(
                    "RlvrAgentInstance has no tokenizer to format turns with: run it through "
                    "openrlhf_agent_executor() (examples/openrlhf_agent.py), inside using_tokenizer(), "
                    "or pass turn_format="
                )
            self.turn_format = ChatTurnFormat.from_tokenizer(tokenizer)
        self.extract = extractor_for(self.env_id)
        env_kwargs = dict(task.get("env_kwargs") or {})
        self.env = await asyncio.to_thread(make, self.env_id, **env_kwargs)
        observation, _ = await asyncio.to_thread(self.env.reset, seed=self.seed)
        prompt = str(states["observation"])
        if str(observation).strip() not in prompt:
            logger.warning(
                "the prompt does not hold %s's first observation for seed %d: the dataset row and its "
                "label disagree (or the prompt was truncated)",
                self.env_id,
                self.seed,
            )
        return {"observation": prompt}

    async def step(self, states: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Play the move in the reply; the feedback is the next user turn, empty once the episode ends."""
        import torch

        if self.env is None or self.extract is None or self.turn_format is None:
            raise RuntimeError("RlvrAgentInstance.step before reset")
        self.turns += 1
        move = self.extract(str(states.get("action_text") or ""))
        observation, reward, terminated, truncated, info = await asyncio.to_thread(self.env.step, move)
        self.episode_return += float(reward)
        self.invalid_actions += int(bool(info.get("invalid_action", False)))
        self.finished = bool(terminated or truncated)
        done = self.finished or (self.max_turns is not None and self.turns >= self.max_turns)
        if done:
            await asyncio.to_thread(self.env.close)
        return {
            # float64: the executor sums rewards.item(), and float32 would round 0.1 to 0.10000000149.
            "rewards": torch.tensor(float(reward), dtype=torch.float64),
            "scores": self.episode_return,
            "environment_feedback": "" if done else self.turn_format.user_turn(str(observation)),
            "done": done,
            "sampling_params": states.get("sampling_params"),
            "extra_logs": self.extra_logs(),
        }

    def extra_logs(self) -> dict[str, float]:
        """The episode so far, under ``EXTRA_LOG_KEYS``."""
        return {
            "env_return": self.episode_return,
            "env_turns": float(self.turns),
            "env_invalid_actions": float(self.invalid_actions),
            "env_finished": float(self.finished),
        }


def openrlhf_agent_executor(instance_cls: type[RlvrAgentInstance] = RlvrAgentInstance) -> type:
    """The ``AgentExecutor`` class for ``--train.agent_func_path`` (needs ``openrlhf`` >= 0.9.1.post1).

    It is OpenRLHF's ``MultiTurnAgentExecutor`` over ``instance_cls`` (made an ``AgentInstanceBase``),
    with ``execute`` making OpenRLHF's tokenizer the instance's for that sample.
    """
    from openrlhf.utils.agent import AgentInstanceBase, MultiTurnAgentExecutor

    class AgentInstance(instance_cls, AgentInstanceBase):  # type: ignore[misc, valid-type]
        """``instance_cls`` registered as OpenRLHF's instance type (its ``reset``/``step`` win)."""

    class AgentExecutor(MultiTurnAgentExecutor):
        """OpenRLHF's multi-turn loop, run with its own tokenizer available to the rlvr instance."""

        def __init__(self) -> None:
            super().__init__(AgentInstance)

        async def execute(
            self,
            prompt: str,
            label: str,
            sampling_params: Any,
            max_length: int,
            hf_tokenizer: Any,
            llm_engine: Any,
            *args: Any,
            **kwargs: Any,
        ) -> dict[str, Any]:
            with using_tokenizer(hf_tokenizer):
                return await super().execute(
                    prompt, label, sampling_params, max_length, hf_tokenizer, llm_engine, *args, **kwargs
                )

    return AgentExecutor
