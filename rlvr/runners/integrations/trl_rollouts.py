"""True multi-turn GRPO in TRL: the model being trained plays every turn of an rlvr episode.

``rlvr.runners.integrations.trl`` fits an env into TRL's *reward function* shape, so only the first
move is trained. This module uses TRL's ``rollout_func`` hook instead (read from TRL 1.16's
``trl/trainer/grpo_trainer.py``):

* ``GRPOTrainer(rollout_func=f)`` calls ``f(prompts, trainer)`` in place of its own generation, with
  this process's prompts (each already repeated ``num_generations`` times by TRL's sampler, so one
  episode per entry makes the GRPO groups). It must return ``prompt_ids``, ``completion_ids`` and
  ``logprobs`` (``None`` is accepted: TRL only needs sampling logprobs for vLLM's importance-sampling
  correction); an ``env_mask`` (1 = model token, 0 = anything else) is multiplied into the loss mask;
  every other key is forwarded, per sample, to the reward functions as a keyword argument.
* The hook is called whether or not ``use_vllm`` is set, so it also runs on a CPU: with
  ``use_vllm=False`` the rollout generates with the trainer's own model (``model_generate``), with
  ``use_vllm=True`` through the trainer's vLLM client (``vllm_generate``).

An episode is one sequence: the prompt (rules as system, first observation as user, as ``rlvr``'s
runner builds it) and then a completion that interleaves the model's replies (``env_mask`` 1) with the
chat-template tokens that close a reply and carry the next observation as a user turn (``env_mask``
0, so the loss never trains on the env's text). Each reply is decoded, cut to an action by
``extractor_for(env_id)`` and stepped; the episode ends when the env is done or the completion budget
(``max_completion_length``) has no room for another turn. Tokens are concatenated, never re-rendered,
so the trainer scores exactly the ids the model saw and produced. The return reaches the reward
functions as ``episode_return`` (``episode_return_reward`` passes it through).

TRL hands ``rollout_func`` only the prompts, not the other dataset columns, so ``rollout_dataset``
stores each row's task (``env_id``, ``seed``, ``env_kwargs``) as JSON under ``rlvr_task`` on the
prompt's first message; the rollout reads it back and strips it before applying the chat template.

TRL's other multi-turn hook, ``environment_factory``, drives envs through *tool calls* and needs a
chat template that renders them; our envs take free-text moves, which ``rollout_func`` serves with
any chat template.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from rlvr.agents.conversation import validate_few_shot
from rlvr.agents.extraction import ActionExtractor, extractor_for
from rlvr.core.records import Message
from rlvr.core.registry import make
from rlvr.runners.integrations.tasks import EnvTask
from rlvr.runners.integrations.trl import first_prompt

TASK_KEY = "rlvr_task"
"""The prompt's first message carries the row's task under this key (JSON text; see the docstring)."""

Reply = tuple[list[int], list[float] | None]
"""Generated ids (cut after the first end-of-sequence token, kept) and their sampling logprobs, or
``None`` where the backend does not report them."""

Generate = Callable[[list[list[int]], int], list[Reply]]
"""(token-id contexts, max new tokens) -> one ``Reply`` per context."""


Task = EnvTask
"""Which episode a prompt row stands for (``EnvTask``)."""


def task_prompt(task: Task, *, instructions: bool = True, few_shot: Sequence[Message] = ()) -> list[Message]:
    """The episode's first chat (``first_prompt``), tagged with its task for the rollout to find.

    ``few_shot`` (user, assistant, ... exchanges) go right after the system message, where ``rlvr``'s
    ``Conversation`` puts them: small models learn the move format from one example far sooner than
    from the rules.
    """
    messages = first_prompt(task.env_id, task.seed, instructions=instructions, **task.env_kwargs)
    cut = 1 if messages[0]["role"] == "system" else 0
    messages[cut:cut] = validate_few_shot(few_shot)
    messages[0] = {**messages[0], TASK_KEY: task.to_json()}
    return messages


def split_prompt(prompt: Sequence[Message]) -> tuple[Task, list[Message]]:
    """The task a tagged prompt stands for, and its messages without the tag (what the model sees).

    Datasets store messages as one struct type, so after a round trip every message has the key
    (``None`` where untagged); both shapes are accepted.
    """
    tags = [message[TASK_KEY] for message in prompt if message.get(TASK_KEY)]
    if len(tags) != 1:
        raise ValueError(
            f"a multi-turn prompt needs exactly one message tagged with {TASK_KEY!r}, found {len(tags)}; "
            "build the dataset with rlvr.runners.integrations.trl_rollouts.rollout_dataset"
        )
    messages = [{key: value for key, value in message.items() if key != TASK_KEY} for message in prompt]
    return Task.from_json(tags[0]), messages


def rollout_dataset(
    env_id: str,
    seeds: Iterable[int],
    *,
    instructions: bool = True,
    few_shot: Sequence[Message] = (),
    **env_kwargs: Any,
) -> Any:
    """A ``datasets.Dataset`` for ``rollout_func``: ``prompt`` (tagged), ``env_id``, ``seed``, ``env_kwargs``.

    ``env_kwargs`` is a JSON string column: Arrow cannot store an empty or per-row-varying dict.
    """
    import datasets

    rows = []
    for seed in seeds:
        task = Task(env_id, int(seed), dict(env_kwargs))
        rows.append(
            {
                "prompt": task_prompt(task, instructions=instructions, few_shot=few_shot),
                "env_id": env_id,
                "seed": int(seed),
                "env_kwargs": json.dumps(task.env_kwargs),
            }
        )
    return datasets.Dataset.from_list(rows)


@dataclass
class Episode:
    """One played episode as token ids, aligned: ``completion_ids[i]`` is from the model iff
    ``env_mask[i] == 1``, and ``logprobs[i]`` is its sampling logprob (0.0 on env tokens).

    ``messages`` is the chat as played (replies decoded), ``actions`` what the env was given,
    ``episode_return`` the sum of its rewards, ``finished`` whether the env (not the token budget)
    ended the episode.
    """

    task: Task
    prompt_ids: list[int]
    messages: list[Message]
    completion_ids: list[int] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    logprobs: list[float] | None = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    episode_return: float = 0.0
    finished: bool = False


def _render(
    tokenizer: Any, messages: Sequence[Message], *, generation_prompt: bool, **kwargs: Any
) -> list[int]:
    ids = tokenizer.apply_chat_template(
        list(messages), add_generation_prompt=generation_prompt, tokenize=True, return_dict=False, **kwargs
    )
    return list(ids)


def observation_ids(
    tokenizer: Any,
    messages: Sequence[Message],
    observation: str,
    eos_token_ids: Sequence[int],
    *,
    reply_closed: bool = True,
    **template: Any,
) -> list[int]:
    """The tokens between a model reply and the next one: the rest of the reply's closing (``"\\n"``
    after ``<|im_end|>``), the observation as a user turn and the assistant's generation prompt.

    ``messages`` ends with that assistant reply. Found by rendering the chat with and without the new
    user turn and keeping the difference after the reply's end-of-sequence token; the reply's own
    tokens are never re-rendered, so a template that rewrites past replies changes nothing here. A
    reply cut off by a token limit (``reply_closed=False``) did not write that end-of-sequence token,
    so it is put in front, as env text. A template that does not end replies with an end-of-sequence
    token gets the whole difference either way.
    """
    before = _render(tokenizer, messages, generation_prompt=False, **template)
    after = _render(
        tokenizer, [*messages, {"role": "user", "content": observation}], generation_prompt=True, **template
    )
    ends = [index for index, token in enumerate(before) if token in eos_token_ids]
    if ends:
        before = before[: ends[-1] + 1]
    if after[: len(before)] != before:
        raise ValueError("the chat template renders earlier turns differently once a user turn follows")
    closing = [] if reply_closed or not ends else before[-1:]
    return closing + after[len(before) :]


def play_episodes(
    prompts: Sequence[Sequence[Message]],
    tokenizer: Any,
    generate: Generate,
    *,
    max_completion_length: int,
    max_turn_tokens: int | None = None,
    eos_token_ids: Sequence[int] | None = None,
    extractor: ActionExtractor | None = None,
    chat_template_kwargs: Mapping[str, Any] | None = None,
) -> list[Episode]:
    """Play one episode per tagged prompt, all in lockstep (one batched ``generate`` call per turn).

    ``max_completion_length`` bounds each episode's completion, model and env tokens together (TRL's
    sense of it); ``max_turn_tokens`` bounds one reply. An episode that runs out of budget before the
    env is done keeps the return earned so far and ``finished=False``.
    """
    if max_completion_length < 1:
        raise ValueError(f"max_completion_length must be >= 1, got {max_completion_length}")
    eos = list(eos_token_ids if eos_token_ids is not None else [tokenizer.eos_token_id])
    template = dict(chat_template_kwargs or {})
    episodes: list[Episode] = []
    envs = []
    try:
        for prompt in prompts:
            task, messages = split_prompt(prompt)
            env = make(task.env_id, **task.env_kwargs)
            envs.append(env)
            env.reset(seed=task.seed)
            prompt_ids = _render(tokenizer, messages, generation_prompt=True, **template)
            episodes.append(Episode(task, prompt_ids, messages))
        active = list(range(len(episodes)))
        while active:
            contexts = [episodes[i].prompt_ids + episodes[i].completion_ids for i in active]
            room = max(max_completion_length - len(episodes[i].completion_ids) for i in active)
            limit = min(room, max_turn_tokens) if max_turn_tokens else room
            replies = generate(contexts, limit)
            still_active = []
            for index, (ids, logprobs) in zip(active, replies, strict=True):
                episode = episodes[index]
                budget = max_completion_length - len(episode.completion_ids)
                ids, logprobs = list(ids[:budget]), None if logprobs is None else list(logprobs[:budget])
                extract = extractor or extractor_for(episode.task.env_id)
                if _play_turn(episode, envs[index], ids, logprobs, tokenizer, eos, template, extract, budget):
                    still_active.append(index)
            active = still_active
    finally:
        for env in envs:
            env.close()
    return episodes


def _play_turn(
    episode: Episode,
    env: Any,
    ids: list[int],
    logprobs: list[float] | None,
    tokenizer: Any,
    eos: list[int],
    template: dict[str, Any],
    extract: ActionExtractor,
    budget: int,
) -> bool:
    """Record one reply, step the env with it and append the next observation; True if play goes on."""
    episode.completion_ids += ids
    episode.env_mask += [1] * len(ids)
    if episode.logprobs is not None:
        episode.logprobs = None if logprobs is None else episode.logprobs + logprobs
    text = tokenizer.decode(ids, skip_special_tokens=True)
    action = extract(text)
    observation, reward, terminated, truncated, _ = env.step(action)
    episode.actions.append(action)
    episode.episode_return += float(reward)
    episode.messages.append({"role": "assistant", "content": text})
    if terminated or truncated:
        episode.finished = True
        return False
    closed = bool(ids) and ids[-1] in eos
    next_turn = observation_ids(
        tokenizer, episode.messages, str(observation), eos, reply_closed=closed, **template
    )
    episode.messages.append({"role": "user", "content": str(observation)})
    if len(ids) + len(next_turn) >= budget:  # no room left for a reply after this observation
        return False
    episode.completion_ids += next_turn
    episode.env_mask += [0] * len(next_turn)
    if episode.logprobs is not None:
        episode.logprobs += [0.0] * len(next_turn)
    return True


def model_generate(
    model: Any,
    tokenizer: Any,
    *,
    eos_token_ids: Sequence[int] | None = None,
    generation_config: Any = None,
    **generate_kwargs: Any,
) -> Generate:
    """A ``Generate`` backed by ``model.generate`` (transformers): left-padded batches, each reply cut
    after its first end-of-sequence token. No logprobs: TRL recomputes them when it generated with
    transformers.

    Sampling follows ``generation_config`` (default: the model's), updated with the generation fields
    of ``generate_kwargs``; the others (``logits_processor``, ``prefix_allowed_tokens_fn``) go to
    ``generate`` as they are.
    """
    import torch

    eos = list(eos_token_ids if eos_token_ids is not None else [tokenizer.eos_token_id])
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos[0]
    config = copy.deepcopy(generation_config or model.generation_config)
    extra = config.update(**generate_kwargs, pad_token_id=pad, eos_token_id=eos)

    def generate(contexts: list[list[int]], max_new_tokens: int) -> list[Reply]:
        width = max(len(ids) for ids in contexts)
        device = next(model.parameters()).device
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in contexts], device=device)
        attention = torch.tensor(
            [[0] * (width - len(ids)) + [1] * len(ids) for ids in contexts], device=device
        )
        config.max_new_tokens = max_new_tokens
        with torch.no_grad():
            output = model.generate(
                input_ids=input_ids, attention_mask=attention, generation_config=config, **extra
            )
        replies: list[Reply] = []
        for row in output[:, width:].tolist():
            cut = next((index + 1 for index, token in enumerate(row) if token in eos), len(row))
            replies.append((row[:cut], None))
        return replies

    return generate


@contextmanager
def trainer_generate(trainer: Any, **generate_kwargs: Any) -> Iterator[Generate]:
    """A ``Generate`` for a ``GRPOTrainer`` with ``use_vllm=False``: its model, unwrapped as TRL does
    for its own generation and sampled with its generation config (temperature, top-p, ...).

    A context manager held for the whole rollout: unwrapping gathers sharded weights (DeepSpeed
    ZeRO-3, FSDP) collectively, and processes whose episodes take different numbers of turns must
    still gather the same number of times.
    """
    from trl.models import unwrap_model_for_generation

    # TRL's own generation also summons FSDP's full parameters; `_dist` is TRL's helper for that.
    dist = getattr(trainer, "_dist", None)
    with (
        unwrap_model_for_generation(
            trainer.model_wrapped,
            trainer.accelerator,
            gather_deepspeed3_params=trainer.args.ds3_gather_for_generation,
            generation_kwargs=trainer.generation_kwargs,
        ) as model,
        dist.summon_full_params(trainer.model_wrapped, recurse=False) if dist else nullcontext(),
    ):
        yield model_generate(
            model,
            trainer.processing_class,
            eos_token_ids=trainer.eos_token_ids,
            generation_config=trainer.generation_config,
            **generate_kwargs,
        )


def vllm_generate(trainer: Any) -> Generate:
    """A ``Generate`` for a ``GRPOTrainer`` with ``use_vllm=True``, through its vLLM client (weights
    are synced by TRL before it calls ``rollout_func``).

    vLLM samples up to ``max_completion_length`` tokens per call; replies are cut to the turn's limit
    here. With several processes each call gathers prompts across them, so every process must take the
    same number of turns (use one process, or envs with a fixed number of turns).
    """

    def generate(contexts: list[list[int]], max_new_tokens: int) -> list[Reply]:
        _, completions, logprobs, _ = trainer.vllm_generation.generate(
            prompts=contexts, images=None, num_generations=1
        )
        return [
            (list(ids[:max_new_tokens]), [float(top[0]) for top in lps[:max_new_tokens]])
            for ids, lps in zip(completions, logprobs, strict=True)
        ]

    return generate


def multiturn_rollout_func(
    *,
    max_turn_tokens: int | None = None,
    extractor: ActionExtractor | None = None,
    generate_kwargs: Mapping[str, Any] | None = None,
) -> Callable[[list[Any], Any], dict[str, Any]]:
    """A TRL ``rollout_func`` playing whole episodes (see the module docstring).

    Arguments:
        max_turn_tokens: cap on one reply (default: whatever is left of ``max_completion_length``).
        extractor: reply -> action; default ``extractor_for`` each row's env.
        generate_kwargs: extra ``model.generate`` arguments on the transformers path (e.g. a
            ``logits_processor``); ignored with vLLM.
    """

    def rollout(prompts: list[Any], trainer: Any) -> dict[str, Any]:
        backend = (
            nullcontext(vllm_generate(trainer))
            if trainer.use_vllm
            else trainer_generate(trainer, **dict(generate_kwargs or {}))
        )
        with backend as generate:
            episodes = play_episodes(
                prompts,
                trainer.processing_class,
                generate,
                max_completion_length=trainer.max_completion_length,
                max_turn_tokens=max_turn_tokens,
                eos_token_ids=trainer.eos_token_ids,
                extractor=extractor,
                chat_template_kwargs=getattr(trainer, "chat_template_kwargs", None),
            )
        return rollout_output(episodes)

    return rollout


def rollout_output(episodes: Sequence[Episode]) -> dict[str, Any]:
    """Episodes in the shape ``rollout_func`` returns (per-sample lists; ``logprobs`` ``None`` unless
    every episode has them, as TRL takes one or the other for the whole batch)."""
    logprobs = [episode.logprobs for episode in episodes]
    return {
        "prompt_ids": [episode.prompt_ids for episode in episodes],
        "completion_ids": [episode.completion_ids for episode in episodes],
        "logprobs": None if any(lp is None for lp in logprobs) else logprobs,
        "env_mask": [episode.env_mask for episode in episodes],
        "episode_return": [episode.episode_return for episode in episodes],
        "episode_turns": [len(episode.actions) for episode in episodes],
        "episode_finished": [episode.finished for episode in episodes],
    }


def episode_return_reward(
    prompts: Sequence[Any], completions: Sequence[Any], episode_return: Sequence[float], **_: Any
) -> list[float]:
    """The TRL reward function for ``multiturn_rollout_func``: each episode's return, as played."""
    return [float(value) for value in episode_return]
