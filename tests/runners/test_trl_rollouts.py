"""Multi-turn TRL rollouts: episodes played by a real (tiny, random) model, their token ids and env
masks checked against the chat template and their returns against direct env play, then one
``GRPOTrainer`` step through ``rollout_func`` on the CPU.

The rollout itself needs only transformers (in ``dev``); the dataset and the trainer need
``pip install 'rlvr-gym[trl]'``. A random model never writes a legal Kuhn Poker move, so most tests
constrain its sampling to legal moves (``prefix_allowed_tokens_fn``, read off the chat as a human
would): the model still samples every token, and episodes run for several turns.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from rlvr.core.registry import make
from rlvr.runners.integrations.trl import first_prompt
from rlvr.runners.integrations.trl_rollouts import (
    TASK_KEY,
    Episode,
    Task,
    episode_return_reward,
    model_generate,
    observation_ids,
    play_episodes,
    rollout_output,
    split_prompt,
    task_prompt,
)
from tests.runners.tiny_models import smollm2_tokenizer, tiny_llama

ENV_ID = "rlvr/KuhnPoker-v0"
KWARGS = {"rounds": 2}
"""Two hands: every episode takes at least two model turns (we act at least once per hand)."""


def test_task_tag_round_trips_and_leaves_the_runners_prompt() -> None:
    task = Task(ENV_ID, 3, dict(KWARGS))
    prompt = task_prompt(task)
    found, messages = split_prompt(prompt)
    assert found == task
    assert messages == first_prompt(ENV_ID, 3, **KWARGS)
    # After a datasets round trip every message carries the key, None where untagged.
    padded = [{**message, TASK_KEY: message.get(TASK_KEY)} for message in prompt]
    assert split_prompt(padded) == (task, messages)
    with pytest.raises(ValueError, match="rollout_dataset"):
        split_prompt(messages)
    # Few-shot exchanges sit between the rules and the first observation, as in rlvr's Conversation.
    example = [{"role": "user", "content": "Your card: Q. Legal moves: [check], [bet]."}]
    example.append({"role": "assistant", "content": "[check]"})
    assert split_prompt(task_prompt(task, few_shot=example))[1] == [messages[0], *example, messages[1]]
    with pytest.raises(ValueError, match="few-shot"):
        task_prompt(task, few_shot=example[:1])


def test_rollout_output_is_per_sample_and_drops_partial_logprobs() -> None:
    task = Task(ENV_ID, 0)
    played = Episode(
        task, [1, 2], [], [5, 6, 7], [1, 0, 1], [-0.5, 0.0, -0.25], ["[bet]", "[call]"], 2.0, True
    )
    blind = Episode(task, [1], [], [5], [1], None, ["x"], -1.5, True)
    output = rollout_output([played, played])
    assert output["logprobs"] == [[-0.5, 0.0, -0.25]] * 2
    assert output["env_mask"] == [[1, 0, 1]] * 2 and output["episode_turns"] == [2, 2]
    assert rollout_output([played, blind])["logprobs"] is None
    assert episode_return_reward(["p"] * 2, ["c"] * 2, episode_return=[2.0, -1.5]) == [2.0, -1.5]


@pytest.fixture(scope="module")
def tokenizer():
    return smollm2_tokenizer(left_padded=True)


def legal_moves_only(tokenizer):
    """A ``prefix_allowed_tokens_fn``: tokens that keep the current reply a prefix of one legal move
    (the last ``Legal moves:`` line of the chat) followed by the end-of-sequence token."""
    turn_start = tokenizer.encode("<|im_start|>assistant\n", add_special_tokens=False)
    eos = tokenizer.eos_token_id

    def allowed(batch_id: int, input_ids) -> list[int]:
        ids = input_ids.tolist()
        starts = [i + len(turn_start) for i in range(len(ids)) if ids[i : i + len(turn_start)] == turn_start]
        context, reply = ids[: starts[-1]], ids[starts[-1] :]
        line = re.findall(r"Legal moves: (.*)", tokenizer.decode(context))[-1]
        moves = [
            [*tokenizer.encode(move, add_special_tokens=False), eos] for move in re.findall(r"\[\w+\]", line)
        ]
        options = {
            move[len(reply)] for move in moves if move[: len(reply)] == reply and len(move) > len(reply)
        }
        return sorted(options) or [eos]

    return allowed


def _legal_generate(model, tokenizer):
    return model_generate(
        model, tokenizer, do_sample=True, prefix_allowed_tokens_fn=legal_moves_only(tokenizer)
    )


def _direct_return(task: Task, actions: list[str]) -> tuple[float, bool]:
    env = make(task.env_id, **task.env_kwargs)
    env.reset(seed=task.seed)
    total, done = 0.0, False
    for action in actions:
        assert not done, "the rollout stepped an env that was already done"
        _, reward, terminated, truncated, _ = env.step(action)
        total, done = total + reward, terminated or truncated
    env.close()
    return total, done


def test_episodes_align_with_the_chat_template_and_replay_to_the_same_return(tokenizer) -> None:
    model = tiny_llama(tokenizer)
    generate = _legal_generate(model, tokenizer)
    prompts = [task_prompt(Task(ENV_ID, seed, dict(KWARGS))) for seed in range(4) for _ in range(2)]
    episodes = play_episodes(prompts, tokenizer, generate, max_completion_length=600, max_turn_tokens=8)
    eos = tokenizer.eos_token_id
    for prompt, episode in zip(prompts, episodes, strict=True):
        assert episode.finished and len(episode.actions) >= 2
        # model_generate reports no logprobs (TRL recomputes them on its transformers path).
        assert len(episode.completion_ids) == len(episode.env_mask) and episode.logprobs is None
        # Model runs (mask 1) are exactly the replies: a legal move and the end-of-sequence token.
        replies, start = [], 0
        for run in re.findall(r"0+|1+", "".join(map(str, episode.env_mask))):
            if run[0] == "1":
                replies.append(episode.completion_ids[start : start + len(run)])
            start += len(run)
        assert len(replies) == len(episode.actions)
        assert [reply[-1] for reply in replies] == [eos] * len(replies)
        assert [tokenizer.decode(reply, skip_special_tokens=True) for reply in replies] == episode.actions
        # Prompt + completion are the chat template's rendering of the played chat, token for token.
        _, messages = split_prompt(prompt)
        rendered = tokenizer.apply_chat_template(episode.messages, tokenize=True, return_dict=False)
        played = episode.prompt_ids + episode.completion_ids
        assert rendered[: len(played)] == played and len(rendered) - len(played) <= 1  # the final "\n"
        assert episode.messages[: len(messages)] == messages
        assert _direct_return(episode.task, episode.actions) == (episode.episode_return, True)
    # Two samples of the same deal are played independently.
    assert len({tuple(episode.completion_ids) for episode in episodes}) > len(episodes) // 2


def test_budget_ends_an_episode_unfinished_and_unparseable_replies_forfeit(tokenizer) -> None:
    model = tiny_llama(tokenizer)
    legal = _legal_generate(model, tokenizer)
    prompt = task_prompt(Task(ENV_ID, 0, dict(KWARGS)))
    (short,) = play_episodes([prompt], tokenizer, legal, max_completion_length=40, max_turn_tokens=8)
    # The budget runs out mid-hand: the episode ends on a reply (an observation with no room left for
    # an answer is not appended), and the env is left unfinished.
    assert not short.finished and len(short.completion_ids) <= 40 and short.env_mask[-1] == 1
    assert short.env_mask.count(0) > 0
    assert _direct_return(short.task, short.actions) == (short.episode_return, False)

    free = model_generate(model, tokenizer, do_sample=True)
    (forfeit,) = play_episodes([prompt], tokenizer, free, max_completion_length=64, max_turn_tokens=6)
    assert forfeit.finished and forfeit.episode_return == -1.5 and len(forfeit.actions) == 1
    assert set(forfeit.env_mask) == {1} and len(forfeit.completion_ids) <= 6


def test_a_reply_cut_by_the_turn_limit_gets_its_closing_token_as_env_text(tokenizer) -> None:
    messages = [*first_prompt(ENV_ID, 0, **KWARGS), {"role": "assistant", "content": "[check"}]
    eos = [tokenizer.eos_token_id]
    closed = observation_ids(tokenizer, messages, "Your move.", eos)
    cut = observation_ids(tokenizer, messages, "Your move.", eos, reply_closed=False)
    assert cut == eos + closed
    assert tokenizer.decode(closed) == "\n<|im_start|>user\nYour move.<|im_end|>\n<|im_start|>assistant\n"


trl_required = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("trl", "datasets")),
    reason="trl and datasets are not installed (pip install 'rlvr-gym[trl]')",
)


@trl_required
def test_rollout_dataset_rows_carry_their_task_through_arrow() -> None:
    from rlvr.runners.integrations.trl_rollouts import rollout_dataset

    dataset = rollout_dataset(ENV_ID, [0, 1], **KWARGS)
    assert dataset.column_names == ["prompt", "env_id", "seed", "env_kwargs"]
    for row in dataset:
        task, messages = split_prompt(row["prompt"])
        assert task == Task(ENV_ID, row["seed"], json.loads(row["env_kwargs"]))
        assert messages == first_prompt(ENV_ID, row["seed"], **KWARGS)


@trl_required
@pytest.mark.xdist_group("smollm2")
def test_grpo_trainer_takes_a_multiturn_step_on_cpu(tokenizer, tmp_path) -> None:
    from rlvr.runners.integrations.trl_rollouts import multiturn_rollout_func

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    try:
        import trl_grpo_multiturn
    finally:
        sys.path.pop(0)
    rollout = multiturn_rollout_func(
        max_turn_tokens=8, generate_kwargs={"prefix_allowed_tokens_fn": legal_moves_only(tokenizer)}
    )
    outputs = []

    def recorded(prompts, trainer):
        outputs.append(rollout(prompts, trainer))
        return outputs[-1]

    trainer = trl_grpo_multiturn.build_trainer(
        tiny_llama(tokenizer), tokenizer, str(tmp_path), steps=1, seeds=range(4), rollout_func=recorded,
        env_kwargs=KWARGS, max_completion_length=400,
    )  # fmt: skip
    trainer.train()
    assert trainer.state.global_step == 1 and len(outputs) == 1
    (logged,) = [entry for entry in trainer.state.log_history if "reward" in entry]
    output = outputs[0]
    assert min(output["episode_turns"]) >= 2 and all(output["episode_finished"])
    assert logged["reward"] == pytest.approx(sum(output["episode_return"]) / len(output["episode_return"]))
    # TRL counts only env_mask == 1 tokens as the completion: the observations reached its loss mask.
    model_tokens = [sum(mask) for mask in output["env_mask"]]
    assert logged["completions/mean_length"] == pytest.approx(sum(model_tokens) / len(model_tokens))
    assert sum(model_tokens) < sum(len(ids) for ids in output["completion_ids"])


class _VLLMStandIn:
    """The one call the rollout makes to TRL's vLLM client (``trainer.vllm_generation.generate``),
    served by a real model, since vLLM itself needs a GPU: like vLLM it samples up to the trainer's
    ``max_completion_length`` per call and returns each sampled token's logprob (top-1 first)."""

    def __init__(self, model, tokenizer, max_tokens: int) -> None:
        self.model, self.tokenizer, self.max_tokens = model, tokenizer, max_tokens
        self.allowed = legal_moves_only(tokenizer)

    def generate(self, prompts, images, num_generations):
        import torch

        assert images is None and num_generations == 1
        eos = self.tokenizer.eos_token_id
        completions, logprobs = [], []
        for ids in prompts:
            with torch.no_grad():
                output = self.model.generate(
                    input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                    max_new_tokens=self.max_tokens, do_sample=True, prefix_allowed_tokens_fn=self.allowed,
                    output_logits=True, return_dict_in_generate=True, pad_token_id=eos, eos_token_id=eos,
                )  # fmt: skip
            new = output.sequences[0, len(ids) :].tolist()
            new = new[: new.index(eos) + 1] if eos in new else new
            raw = torch.log_softmax(torch.stack(output.logits, dim=1)[0].float(), dim=-1)
            completions.append(new)
            logprobs.append([[raw[step, token].item()] for step, token in enumerate(new)])
        return prompts, completions, logprobs, None


def test_vllm_path_returns_logprobs_aligned_with_the_model_tokens(tokenizer) -> None:
    import types

    import torch

    from rlvr.runners.integrations.trl_rollouts import multiturn_rollout_func

    model = tiny_llama(tokenizer)
    trainer = types.SimpleNamespace(
        use_vllm=True, vllm_generation=_VLLMStandIn(model, tokenizer, max_tokens=300),
        processing_class=tokenizer, max_completion_length=300, eos_token_ids=[tokenizer.eos_token_id],
        chat_template_kwargs={},
    )  # fmt: skip
    prompts = [task_prompt(Task(ENV_ID, seed, dict(KWARGS))) for seed in (0, 1)]
    output = multiturn_rollout_func(max_turn_tokens=8)(prompts, trainer)
    assert set(output) == {
        "prompt_ids", "completion_ids", "logprobs", "env_mask", "episode_return", "episode_turns",
        "episode_finished",
    }  # fmt: skip
    for prompt_ids, completion_ids, logprobs, mask in zip(
        output["prompt_ids"], output["completion_ids"], output["logprobs"], output["env_mask"], strict=True
    ):
        assert len(completion_ids) == len(logprobs) == len(mask) and mask.count(0) > 0
        assert all(logprob == 0.0 for logprob, keep in zip(logprobs, mask, strict=True) if not keep)
        # Each model token's logprob is the one the model gives it in the full sequence.
        with torch.no_grad():
            logits = model(torch.tensor([prompt_ids + completion_ids])).logits[0].float()
        recomputed = torch.log_softmax(logits, dim=-1)[len(prompt_ids) - 1 : -1]
        for position, (token, logprob, keep) in enumerate(zip(completion_ids, logprobs, mask, strict=True)):
            if keep:
                assert logprob == pytest.approx(recomputed[position, token].item(), abs=1e-4)
    assert min(output["episode_turns"]) >= 2
