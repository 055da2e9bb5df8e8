"""Our envs as a verl agent loop, for verl's multi-turn PPO / GRPO trainer.

verl's interface (read from ``verl/experimental/agent_loop/agent_loop.py``, verl 0.9.1): each dataset
row names an ``agent_name``; the ``AgentLoopWorker`` instantiates the registered ``AgentLoopBase``
subclass (hydra ``_target_``) with ``trainer_config``, ``server_manager``, ``tokenizer``,
``processor``, ``dataset_cls``, ``data_config`` and awaits ``run(sampling_params, **row)``, which
returns an ``AgentLoopOutput``: ``prompt_ids``, ``response_ids`` (every token after the prompt:
model turns and env turns), ``response_mask`` (1 = the model wrote it, 0 = the env did),
``response_logprobs``, ``reward_score``, ``num_turns``, ``extra_fields``.

One rlvr episode is exactly that loop: reset the env with the row's seed, build the chat as
``rlvr``'s runner does (rules as system, observation as user), then per turn generate, decode,
extract the action (``extractor_for``), step the env, append its observation as the next user turn.
The episode logic (``run_episode``) does not import verl: it takes a tokenizer-backed ``ChatTokens``
and an async ``generate(prompt_ids, sampling_params) -> (token_ids, logprobs | None)``, so it runs
and is tested without verl. ``RlvrAgentLoop`` plugs verl's server manager and verl's own
"Continuous Token" builder (the only tokenization path verl 0.9 allows agent loops) into it.

Rows (``verl_rows``) carry ``env_id``, ``seed`` and ``env_kwargs`` at the top level and in
``extra_info``; ``env_kwargs`` is JSON text because parquet cannot store an empty struct. Only
single-seat views are served (for a two-player game, the gymnasium view against the env's bot).

Not built: an adapter for verl's ``BaseInteraction`` (the SGLang multi-turn "interaction" path);
verl 0.9 removed ``verl.interactions``, agent loops replace it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from uuid import uuid4

from rlvr.agents.conversation import Conversation
from rlvr.agents.extraction import extractor_for
from rlvr.core.records import Message
from rlvr.core.registry import make
from rlvr.runners.integrations.tasks import EnvTask

VERL_AGENT_NAME = "rlvr_agent"
"""The ``agent_name`` our rows carry and ``RlvrAgentLoop`` is registered under."""

DEFAULT_MAX_TURNS = 10_000
"""A safety net only: episodes end when the env says so or the response budget runs out."""

Generate = Callable[[list[int], dict[str, Any]], Awaitable[tuple[list[int], list[float] | None]]]
"""(prompt_ids, sampling_params) -> (new token ids, their log probs or None): one model turn."""

TokenState = tuple[list[int], list[int], list[float] | None]
"""(all token ids so far, response mask, response log probs or None)."""


# --- dataset rows ---------------------------------------------------------------------------------


RlvrTask = EnvTask
"""The episode a verl row asks for (``EnvTask``; rows carry it at the top level and in ``extra_info``)."""


def verl_rows(
    env_id: str,
    seeds: Iterable[int],
    *,
    instructions: bool = True,
    agent_name: str = VERL_AGENT_NAME,
    **env_kwargs: Any,
) -> list[dict[str, Any]]:
    """Dataset rows for verl's ``RLHFDataset``: ``prompt`` (the first chat, so prompt-length filtering
    and logging see the real prompt), ``data_source``, ``agent_name``, ``reward_model`` (the reward
    comes from the env, so no ground truth) and ``extra_info`` with the task."""
    rows = []
    for index, seed in enumerate(seeds):
        task = {"env_id": env_id, "seed": int(seed), "env_kwargs": json.dumps(env_kwargs, sort_keys=True)}
        env = make(env_id, **env_kwargs)
        try:
            observation, info = env.reset(seed=int(seed))
        finally:
            env.close()
        prompt = Conversation.from_reset(observation, info if instructions else {}).to_messages()
        rows.append(
            {
                "prompt": prompt,
                "data_source": env_id,
                "agent_name": agent_name,
                "reward_model": {"style": "env", "ground_truth": ""},
                **task,
                "extra_info": {**task, "index": index},
            }
        )
    return rows


def write_verl_parquet(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Write rows as the parquet file verl's ``data.train_files`` reads; needs ``pyarrow``."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ImportError(
            "writing verl parquet needs pyarrow (pip install pyarrow, or install verl)"
        ) from error
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([dict(row) for row in rows]), path)
    return path


# --- tokens ---------------------------------------------------------------------------------------


class ChatTokens(Protocol):
    """How chat turns become one growing token stream (prompt + response) with a response mask."""

    async def initial(self, messages: list[Message]) -> list[int]:
        """The prompt: ``messages`` rendered with the generation prompt."""
        ...

    async def append_reply(
        self, state: TokenState, reply_ids: list[int], reply_logprobs: list[float] | None
    ) -> TokenState:
        """Append the model's tokens (mask 1, their log probs)."""
        ...

    async def append_messages(
        self, state: TokenState, previous: list[Message], updated: list[Message]
    ) -> TokenState:
        """Append the messages ``updated`` adds to ``previous`` (mask 0) and the next generation prompt."""
        ...


def _token_ids(rendered: Any) -> list[int]:
    """``apply_chat_template(tokenize=True)`` returns a list or (transformers 5) a ``BatchEncoding``."""
    ids = rendered["input_ids"] if isinstance(rendered, Mapping) else rendered
    return [int(token) for token in ids]


_SENTINEL = "\u2063rlvr-reply\u2063"
_SYNTHETIC_PREFIX: list[Message] = [
    {"role": "system", "content": "s"},
    {"role": "user", "content": "u"},
    {"role": "assistant", "content": _SENTINEL},
]


class TemplateChatTokens:
    """``ChatTokens`` from the tokenizer's chat template alone (no verl needed).

    The model's tokens are kept verbatim (never re-tokenized: the ids trained on are the ids sampled).
    Env turns are the template's suffix: ``render(prefix + new, generation prompt)`` minus
    ``render(prefix)`` over a fixed synthetic prefix ending in an assistant turn, so they do not
    depend on how earlier replies would re-tokenize. Between the two, the template's end-of-turn
    tokens (``<|im_end|>\\n`` for ChatML) are completed with mask 0: a reply that stopped on
    ``<|im_end|>`` gets the ``\\n``, one cut off by ``max_tokens`` gets both, so the next user turn
    always starts where the template would put it.
    """

    def __init__(self, tokenizer: Any, chat_template_kwargs: Mapping[str, Any] | None = None) -> None:
        self.tokenizer = tokenizer
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        text = self._render(_SYNTHETIC_PREFIX, tokenize=False)
        if _SENTINEL not in text:
            raise ValueError("the chat template drops assistant content; cannot find its end-of-turn tokens")
        self.turn_end = list(tokenizer.encode(text.rsplit(_SENTINEL, 1)[1], add_special_tokens=False))

    def _render(self, messages: list[Message], *, tokenize: bool, add_generation_prompt: bool = False) -> Any:
        return self.tokenizer.apply_chat_template(
            messages,
            tokenize=tokenize,
            add_generation_prompt=add_generation_prompt,
            **self.chat_template_kwargs,
        )

    def suffix_ids(self, appended: list[Message]) -> list[int]:
        """The ids the template adds for ``appended`` after an assistant turn, generation prompt included."""
        prefix = _token_ids(self._render(_SYNTHETIC_PREFIX, tokenize=True))
        full = _token_ids(
            self._render(_SYNTHETIC_PREFIX + appended, tokenize=True, add_generation_prompt=True)
        )
        if full[: len(prefix)] != prefix:
            raise ValueError(
                "the chat template re-renders earlier turns when a message is added; cannot diff it"
            )
        return full[len(prefix) :]

    async def initial(self, messages: list[Message]) -> list[int]:
        return _token_ids(self._render(messages, tokenize=True, add_generation_prompt=True))

    async def append_reply(
        self, state: TokenState, reply_ids: list[int], reply_logprobs: list[float] | None
    ) -> TokenState:
        ids, mask, logprobs = state
        if reply_logprobs is not None and len(reply_logprobs) != len(reply_ids):
            raise ValueError(f"{len(reply_logprobs)} log probs for {len(reply_ids)} tokens")
        if logprobs is None and reply_logprobs is not None and not mask:
            logprobs = []
        if (logprobs is None) != (reply_logprobs is None):
            raise ValueError("the generator returned log probs for some turns and not others")
        new_logprobs = None if logprobs is None else logprobs + list(reply_logprobs or [])
        return ids + list(reply_ids), mask + [1] * len(reply_ids), new_logprobs

    async def append_messages(
        self, state: TokenState, previous: list[Message], updated: list[Message]
    ) -> TokenState:
        if updated[: len(previous)] != previous:
            raise ValueError("token streams are append-only; earlier messages changed")
        ids, mask, logprobs = state
        # The longest head of the end-of-turn tokens the reply already ends with (0: none of it).
        closed = next(
            k for k in range(len(self.turn_end), -1, -1) if ids[len(ids) - k :] == self.turn_end[:k]
        )
        added = self.turn_end[closed:] + self.suffix_ids(updated[len(previous) :])
        return (
            ids + added,
            mask + [0] * len(added),
            None if logprobs is None else logprobs + [0.0] * len(added),
        )


# --- the episode ----------------------------------------------------------------------------------


@dataclass
class VerlEpisode:
    """One episode as token ids, in ``AgentLoopOutput``'s terms."""

    prompt_ids: list[int]
    response_ids: list[int]
    response_mask: list[int]
    response_logprobs: list[float] | None
    reward_score: float
    """The episode return (the sum of the env's rewards so far, if it was cut short)."""
    num_turns: int
    """Observations and replies in the stream (the system message not counted), as verl counts them."""
    replies: list[str]
    """The model's replies, decoded."""
    step_rewards: list[float]
    messages: list[Message]
    """The chat the token stream holds (system, observations, replies)."""
    finished: bool
    """The env ended the episode (rather than ``max_turns`` or the response budget)."""
    stop_reason: str
    """``"done"``, ``"max_turns"`` or ``"response_length"``."""
    env_metrics: dict[str, float]


async def run_episode(
    task: RlvrTask,
    tokenizer: Any,
    generate: Generate,
    sampling_params: Mapping[str, Any],
    *,
    response_length: int,
    chat_tokens: ChatTokens | None = None,
    max_turns: int = DEFAULT_MAX_TURNS,
    max_tokens_per_turn: int | None = None,
    instructions: bool = True,
) -> VerlEpisode:
    """Play one episode through ``generate``, keeping the token stream verl trains on.

    Each turn asks for at most the response budget left (``max_tokens``, capped by
    ``max_tokens_per_turn``). The response never exceeds ``response_length``: a reply is cut to the
    budget, and an observation that would leave no room for another reply ends the episode without
    being appended, so the response always ends on a model turn. The env's final observation is
    never appended (nothing is generated after it). Env calls run in a thread, since many agent
    loops share one event loop.
    """
    tokens = chat_tokens or TemplateChatTokens(tokenizer)
    extract = extractor_for(task.env_id)
    env = make(task.env_id, **task.env_kwargs)
    try:
        observation, info = await asyncio.to_thread(env.reset, seed=task.seed)
        conversation = Conversation.from_reset(observation, info if instructions else {})
        state: TokenState = (await tokens.initial(conversation.to_messages()), [], None)
        replies: list[str] = []
        step_rewards: list[float] = []
        stop_reason = "max_turns"
        while len(replies) < max_turns:
            budget = response_length - len(state[1])
            if budget <= 0:
                stop_reason = "response_length"
                break
            params = {**sampling_params, "max_tokens": min(budget, max_tokens_per_turn or budget)}
            reply_ids, reply_logprobs = await generate(list(state[0]), params)
            reply_ids = list(reply_ids)[:budget]
            reply_logprobs = None if reply_logprobs is None else list(reply_logprobs)[:budget]
            state = await tokens.append_reply(state, reply_ids, reply_logprobs)
            reply = tokenizer.decode(reply_ids, skip_special_tokens=True)
            replies.append(reply)
            conversation.add_action(reply)
            observation, reward, terminated, truncated, info = await asyncio.to_thread(
                env.step, extract(reply)
            )
            step_rewards.append(float(reward))
            if terminated or truncated:
                stop_reason = "done"
                break
            if len(replies) >= max_turns:
                break
            previous = conversation.to_messages()
            updated = [*previous, {"role": "user", "content": str(observation)}]
            extended = await tokens.append_messages(state, previous, updated)
            if len(extended[1]) >= response_length:
                stop_reason = "response_length"
                break
            state = extended
            conversation.add_observation(str(observation))
        ids, mask, logprobs = state
        return VerlEpisode(
            prompt_ids=ids[: len(ids) - len(mask)],
            response_ids=ids[len(ids) - len(mask) :],
            response_mask=mask,
            response_logprobs=logprobs,
            reward_score=float(sum(step_rewards)),
            num_turns=len(conversation.history),
            replies=replies,
            step_rewards=step_rewards,
            messages=conversation.to_messages(),
            finished=stop_reason == "done",
            stop_reason=stop_reason,
            env_metrics={str(k): float(v) for k, v in dict(info.get("metrics") or {}).items()},
        )
    finally:
        env.close()


# --- verl -----------------------------------------------------------------------------------------


def register_verl_agent_loop(name: str = VERL_AGENT_NAME) -> type:
    """Register ``RlvrAgentLoop`` in this process's verl agent-loop registry under ``name``.

    verl's workers are separate Ray processes: in training, register through
    ``actor_rollout_ref.rollout.agent.agent_loop_config_path`` (``examples/verl_agent_loop.yaml``).
    """
    from verl.experimental.agent_loop.agent_loop import register

    return register(name)(_agent_loop_class())


def __getattr__(name: str) -> Any:
    # ``RlvrAgentLoop`` subclasses verl's ``AgentLoopBase``; building it on first access keeps this
    # module importable (rows, ``run_episode``) without verl and without verl's heavy imports.
    if name == "RlvrAgentLoop":
        return _agent_loop_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_AGENT_LOOP_CLASS: type | None = None


def _agent_loop_class() -> type:
    global _AGENT_LOOP_CLASS
    if _AGENT_LOOP_CLASS is None:
        _AGENT_LOOP_CLASS = _define_agent_loop()
    return _AGENT_LOOP_CLASS


def _define_agent_loop() -> type:
    try:
        from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput, register
    except ImportError as error:
        raise ImportError("RlvrAgentLoop needs verl (pip install 'rlvr-gym[verl]')") from error

    class VerlChatTokens:
        """``ChatTokens`` through verl's Continuous Token builder (its model-family boundary rules)."""

        def __init__(self, loop: AgentLoopBase) -> None:
            self.loop = loop

        async def initial(self, messages: list[Message]) -> list[int]:
            return list(await self.loop.ct_build_initial_tokens(messages))

        async def append_reply(
            self, state: TokenState, reply_ids: list[int], reply_logprobs: list[float] | None
        ) -> TokenState:
            ids, mask, logprobs = state
            if logprobs is None and reply_logprobs is not None and not mask:
                logprobs = []
            merged, mask, logprobs = await self.loop.ct_merge_assistant_token(
                ids, reply_ids, mask, logprobs, assistant_logprobs=reply_logprobs
            )
            return list(merged.token_ids), list(mask), logprobs

        async def append_messages(
            self, state: TokenState, previous: list[Message], updated: list[Message]
        ) -> TokenState:
            ids, mask, logprobs = state
            merged, mask, logprobs = await self.loop.ct_merge_context_msg(
                previous, updated, ids, mask, logprobs
            )
            return list(merged.token_ids), list(mask), logprobs

    class RlvrAgentLoop(AgentLoopBase):
        """verl agent loop for one rlvr episode (``run_episode`` with verl's server and tokens).

        Extra constructor arguments (set them beside ``_target_`` in the agent-loop YAML):
        ``max_turns`` (default ``rollout.multi_turn.max_assistant_turns``, else 10 000),
        ``max_tokens_per_turn`` (default: the response budget left) and ``instructions`` (default on:
        the env's rules as the system message). The reward is the episode return, set as
        ``reward_score`` so verl's reward manager is skipped; ``extra_fields["reward_extra_info"]``
        holds ``rlvr_return``, ``rlvr_turns``, ``rlvr_finished`` (same keys for every env, so mixed-env
        batches stack), ``extra_fields["rlvr_metrics"]`` the env's own metrics.
        """

        def __init__(
            self,
            *args: Any,
            max_turns: int | None = None,
            max_tokens_per_turn: int | None = None,
            instructions: bool = True,
            **kwargs: Any,
        ) -> None:
            kwargs.pop("tools", None)  # the worker hands every loop its tool list; envs are not tools
            kwargs.pop("name", None)  # the agent-loop YAML's own key
            super().__init__(*args, **kwargs)
            configured = self.rollout_config.multi_turn.get("max_assistant_turns")
            self.max_turns = int(max_turns or configured or DEFAULT_MAX_TURNS)
            self.max_tokens_per_turn = max_tokens_per_turn
            self.instructions = instructions
            self.response_length = int(self.rollout_config.response_length)

        async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
            task = RlvrTask.from_row(kwargs, source="a verl", rows_helper="verl_rows")
            request_id = uuid4().hex  # one id per episode: the server keeps its prefix cache warm
            timing = {"generate_sequences": 0.0, "num_preempted": 0}

            async def generate(
                prompt_ids: list[int], params: dict[str, Any]
            ) -> tuple[list[int], list[float] | None]:
                start = time.perf_counter()
                output = await self.server_manager.generate(
                    request_id=request_id, prompt_ids=prompt_ids, sampling_params=params
                )
                timing["generate_sequences"] += time.perf_counter() - start
                timing["num_preempted"] += int(output.num_preempted or 0)
                return list(output.token_ids), list(output.log_probs) if output.log_probs else None

            episode = await run_episode(
                task,
                self.tokenizer,
                generate,
                sampling_params,
                response_length=self.response_length,
                chat_tokens=VerlChatTokens(self),
                max_turns=self.max_turns,
                max_tokens_per_turn=self.max_tokens_per_turn,
                instructions=self.instructions,
            )
            return AgentLoopOutput(
                prompt_ids=episode.prompt_ids,
                response_ids=episode.response_ids,
                response_mask=episode.response_mask,
                response_logprobs=episode.response_logprobs,
                reward_score=episode.reward_score,
                num_turns=episode.num_turns,
                metrics=timing,
                extra_fields={
                    "reward_extra_info": {
                        "rlvr_return": episode.reward_score,
                        "rlvr_turns": len(episode.replies),
                        "rlvr_finished": float(episode.finished),
                    },
                    "rlvr_metrics": episode.env_metrics,
                    "turn_scores": episode.step_rewards,
                    "tool_rewards": [],
                },
            )

    RlvrAgentLoop.__qualname__ = (
        "RlvrAgentLoop"  # hydra finds it as rlvr.runners.integrations.verl.RlvrAgentLoop
    )
    return register(VERL_AGENT_NAME)(RlvrAgentLoop)
