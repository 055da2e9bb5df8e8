"""The OpenRLHF adapter, driven the way OpenRLHF drives an agent, checked against direct env play.

``openrlhf_execute`` below is ``MultiTurnAgentExecutor.execute`` of openrlhf 0.11.2
(``openrlhf/utils/agent.py``), text-only path, restated so that CI, which has no ``openrlhf``, runs
the adapter through the same calls: reset, tokenize the prompt, then per turn set the budget, generate
token ids, ``step``, sum ``rewards.item()``, append ``action_tokens + tokenize(feedback)``. With
``openrlhf`` installed, the last tests run OpenRLHF's own executor instead and check that it agrees.

vLLM does not run here; the engines stand in for its ``generate`` with its output semantics (the stop
token is in ``token_ids`` but not in ``text``; a reply cut by ``max_tokens`` ends with
``finish_reason == "length"``): a scripted one where the test is about the texts, and a tiny random
Llama (SmolLM2's tokenizer) generating for real.
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
import re
import zlib
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from rlvr.agents.conversation import Conversation
from rlvr.agents.extraction import extractor_for
from rlvr.core.registry import make
from rlvr.runners.integrations.openrlhf import (
    EXTRA_LOG_KEYS,
    ChatTemplateError,
    ChatTurnFormat,
    RlvrAgentInstance,
    openrlhf_label,
    openrlhf_rows,
    using_tokenizer,
    write_openrlhf_jsonl,
)
from tests.runners import toy_envs
from tests.runners.tiny_models import smollm2_tokenizer, tiny_llama

pytest.importorskip(
    "transformers",
    reason="the adapter is tested with a real tokenizer (pip install 'rlvr-gym[transformers]')",
)
# One worker loads SmolLM2's tokenizer (~15 s) once for the whole file.
pytestmark = pytest.mark.xdist_group("openrlhf")

KUHN = ("rlvr/KuhnPoker-v0", {"rounds": 3})
TICTACTOE = ("rlvr/TicTacToe-v0", {})
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "openrlhf_agent.py"


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return smollm2_tokenizer()


# --- OpenRLHF's side, restated ---------------------------------------------------------------------


@dataclass
class SamplingParams:
    """The fields of ``vllm.SamplingParams`` the multi-turn executor reads and writes."""

    max_tokens: int | None = None
    logprobs: int | None = None
    skip_special_tokens: bool = False  # OpenRLHF 0.11's default


async def openrlhf_execute(
    agent_cls: type,
    prompt: str,
    label: str,
    sampling_params: Any,
    max_length: int,
    hf_tokenizer: Any,
    llm_engine: Any,
) -> dict[str, Any]:
    """``MultiTurnAgentExecutor.execute`` (openrlhf 0.11.2) for text prompts."""
    agent_instance = agent_cls()
    reset_result = await agent_instance.reset({"observation": prompt, "label": label})
    observation_text = reset_result["observation"]
    current_obs_tokens = hf_tokenizer(text=observation_text, add_special_tokens=False, return_tensors="pt")[
        "input_ids"
    ][0].tolist()
    max_initial_length = max_length - (getattr(sampling_params, "max_tokens", None) or 1)
    if len(current_obs_tokens) > max_initial_length:
        current_obs_tokens = current_obs_tokens[-max_initial_length:]
        observation_text = hf_tokenizer.decode(current_obs_tokens, skip_special_tokens=False)
    action_ranges, total_reward, final_scores, extra_logs, is_truncated = [], 0, 0, {}, False
    rollout_log_probs = [0.0] * len(current_obs_tokens) if sampling_params.logprobs is not None else None
    while True:
        sampling_params.max_tokens = max_length - len(current_obs_tokens)
        if sampling_params.max_tokens <= 0:
            break
        request_output = await llm_engine.generate(
            current_obs_tokens, deepcopy(sampling_params), multi_modal_data=None
        )
        action_tokens = request_output.outputs[0].token_ids
        action_text = request_output.outputs[0].text
        is_truncated = request_output.outputs[0].finish_reason == "length"
        action_ranges.append((len(current_obs_tokens), len(current_obs_tokens) + len(action_tokens)))
        states = {
            "observation_text": observation_text,
            "action_text": action_text,
            "label": label,
            "sampling_params": sampling_params,
        }
        step_result = await agent_instance.step(states)
        total_reward += step_result["rewards"].item()
        final_scores = step_result.get("scores", total_reward)
        environment_feedback_text = step_result["environment_feedback"]
        done = step_result["done"]
        extra_logs = step_result.get("extra_logs", {})
        feedback_tokens = hf_tokenizer(
            text=environment_feedback_text, add_special_tokens=False, return_tensors="pt"
        )["input_ids"][0].tolist()
        observation_text = observation_text + action_text + environment_feedback_text
        current_obs_tokens = current_obs_tokens + action_tokens + feedback_tokens
        if sampling_params.logprobs is not None:
            for index, logprob in enumerate(request_output.outputs[0].logprobs):
                rollout_log_probs.append(logprob[action_tokens[index]].logprob)
            rollout_log_probs.extend([0.0] * len(feedback_tokens))
        if step_result.get("sampling_params", None):
            sampling_params = step_result["sampling_params"]
        if done:
            break
    return {
        "prompt": prompt,
        "label": label,
        "reward": total_reward,
        "scores": final_scores,
        "observation_tokens": current_obs_tokens,
        "action_ranges": action_ranges,
        "rollout_log_probs": rollout_log_probs,
        "truncated": is_truncated,
        "extra_logs": extra_logs,
    }


async def run_samples(
    tokenizer: Any, engine: Any, rows: list[dict[str, Any]], *, max_length: int = 4096, n_samples: int = 1
) -> list[dict[str, Any]]:
    """All rows' samples at once on one engine, as ``RolloutRayActor.generate_responses`` gathers them;
    each under ``using_tokenizer``, as ``openrlhf_agent_executor``'s ``execute`` runs."""

    async def one(row: dict[str, Any]) -> dict[str, Any]:
        with using_tokenizer(tokenizer):
            return await openrlhf_execute(
                RlvrAgentInstance,
                openrlhf_prompt(tokenizer, row),
                row["label"],
                SamplingParams(),
                max_length,
                tokenizer,
                engine,
            )

    return await asyncio.gather(*(one(row) for row in rows for _ in range(n_samples)))


def openrlhf_prompt(tokenizer: Any, row: dict[str, Any]) -> str:
    """``preprocess_data`` with ``--data.apply_chat_template``: the row's ``input`` as generation prompt."""
    return tokenizer.apply_chat_template(row["input"], tokenize=False, add_generation_prompt=True)


# --- stand-ins for vLLM -----------------------------------------------------------------------------


class VllmLikeEngine:
    """``generate(token_ids, sampling_params)`` with vLLM's output: the stop token kept in ``token_ids``
    and dropped from ``text``; ``finish_reason`` "length" when ``max_tokens`` cut the reply."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.calls = 0

    def reply_tokens(self, prompt_token_ids: list[int], max_tokens: int) -> list[int]:
        raise NotImplementedError

    async def generate(
        self, prompt_token_ids: list[int], sampling_params: Any, multi_modal_data: Any = None
    ) -> Any:
        self.calls += 1
        await asyncio.sleep(0)  # let other samples run, as awaiting vLLM does
        tokens = self.reply_tokens(list(prompt_token_ids), sampling_params.max_tokens)[
            : sampling_params.max_tokens
        ]
        stopped = bool(tokens) and tokens[-1] == self.tokenizer.eos_token_id
        text = self.tokenizer.decode(
            tokens[:-1] if stopped else tokens, skip_special_tokens=sampling_params.skip_special_tokens
        )
        logprobs = None
        if sampling_params.logprobs is not None:
            logprobs = [{token: SimpleNamespace(logprob=-0.5)} for token in tokens]
        output = SimpleNamespace(
            token_ids=tokens, text=text, finish_reason="stop" if stopped else "length", logprobs=logprobs
        )
        return SimpleNamespace(outputs=[output])


class ScriptedEngine(VllmLikeEngine):
    """Replies ``policy(last user message)``, then the stop token."""

    def __init__(self, tokenizer: Any, policy: Any) -> None:
        super().__init__(tokenizer)
        self.policy = policy

    def reply_tokens(self, prompt_token_ids: list[int], max_tokens: int) -> list[int]:
        context = self.tokenizer.decode(prompt_token_ids, skip_special_tokens=False)
        last_user = context.rsplit("<|im_start|>user\n", 1)[1].split("<|im_end|>", 1)[0]
        reply = self.policy(last_user)
        return self.tokenizer(reply, add_special_tokens=False)["input_ids"] + [self.tokenizer.eos_token_id]


class TinyLlamaEngine(VllmLikeEngine):
    """A tiny randomly initialised Llama decoding greedily until its stop token or ``max_tokens``."""

    def __init__(self, tokenizer: Any) -> None:
        super().__init__(tokenizer)
        self.model = tiny_llama(tokenizer, pad_token_id=tokenizer.eos_token_id).eval()

    def reply_tokens(self, prompt_token_ids: list[int], max_tokens: int) -> list[int]:
        import torch

        with torch.no_grad():
            output = self.model.generate(
                torch.tensor([prompt_token_ids]),
                max_new_tokens=max_tokens,
                do_sample=False,
                attention_mask=None,
            )
        return output[0, len(prompt_token_ids) :].tolist()


def random_legal_reply(observation: str) -> str:
    """A legal move named in the observation, chosen and worded by a hash of it (deterministic)."""
    legal_line = [line for line in observation.splitlines() if "Legal moves:" in line][-1]
    legal = re.findall(r"\[[^\[\]]+\]", legal_line)
    pick = zlib.crc32(observation.encode())
    move = legal[pick % len(legal)]
    wording = ("I play {}.", "<think>Maybe [fold]? No.</think>\n{}", "{}")
    return wording[(pick // 7) % len(wording)].format(move)


def echo(observation: str) -> str:
    """The right answer to the Echo test env ("Say 42." -> "42")."""
    return observation.removeprefix("Say ").rstrip(".")


def direct_play(
    env_id: str, seed: int, env_kwargs: dict[str, Any], policy: Any
) -> tuple[float, list[dict[str, str]]]:
    """The episode played straight on the env: its return and the whole chat (as rlvr's runner keeps it)."""
    env = make(env_id, **env_kwargs)
    observation, info = env.reset(seed=seed)
    conversation = Conversation.from_reset(observation, info)
    extract, total, done = extractor_for(env_id), 0.0, False
    while not done:
        reply = policy(observation)
        conversation.add_action(reply)
        observation, reward, terminated, truncated, info = env.step(extract(reply))
        total += reward
        done = terminated or truncated
        if not done:
            conversation.add_observation(observation)
    return total, conversation.to_messages()


def expected_tokens(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """The chat template over the whole episode, ending at the last reply's stop token (where vLLM ends)."""
    text = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    return tokenizer(text + messages[-1]["content"] + tokenizer.eos_token, add_special_tokens=False)[
        "input_ids"
    ]


# --- the dataset ------------------------------------------------------------------------------------


def test_rows_hold_the_first_chat_and_a_json_label(tmp_path) -> None:
    rows = openrlhf_rows(KUHN[0], [0, 1, 2], max_turns=9, **KUHN[1])
    for seed, row in enumerate(rows):
        env = make(KUHN[0], **KUHN[1])
        observation, info = env.reset(seed=seed)
        assert row["input"] == Conversation.from_reset(observation, info).to_messages()
        assert json.loads(row["label"]) == {
            "env_id": KUHN[0],
            "seed": seed,
            "env_kwargs": KUHN[1],
            "max_turns": 9,
        }
        assert row["datasource"] == KUHN[0]
    path = write_openrlhf_jsonl(rows, tmp_path / "data" / "kuhn.jsonl")
    assert [json.loads(line) for line in path.read_text().splitlines()] == rows


def test_turn_format_is_read_off_the_chat_template(tokenizer) -> None:
    turn_format = ChatTurnFormat.from_tokenizer(tokenizer)
    # SmolLM2's ChatML, with the <|im_end|> the model stops on left out.
    assert turn_format == ChatTurnFormat("\n<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n")
    chat = [{"role": "user", "content": "Say 4."}, {"role": "assistant", "content": "4"}]
    continued = tokenizer.apply_chat_template(
        [*chat, {"role": "user", "content": "Say 5."}], tokenize=False, add_generation_prompt=True
    )
    generated = (
        tokenizer.apply_chat_template(chat[:1], tokenize=False, add_generation_prompt=True) + "4<|im_end|>"
    )
    assert generated + turn_format.user_turn("Say 5.") == continued


THINK_ON_LAST_REPLY = (
    "{% for m in messages %}"
    "{% if m.role == 'assistant' and loop.last %}"
    "<|im_start|>assistant\n<think>\n\n</think>\n\n{{ m.content }}<|im_end|>\n"
    "{% else %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""A final assistant message gets an empty think block, as in Qwen3's template."""

DROPS_REPLIES = (
    "{% for m in messages if m.role != 'assistant' %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def test_turn_format_follows_the_generation_prompt_not_a_final_reply(tokenizer) -> None:
    qwen3_like = copy.copy(tokenizer)
    qwen3_like.chat_template = THINK_ON_LAST_REPLY
    assert ChatTurnFormat.from_tokenizer(qwen3_like) == ChatTurnFormat.from_tokenizer(tokenizer)
    broken = copy.copy(tokenizer)
    broken.chat_template = DROPS_REPLIES
    with pytest.raises(ChatTemplateError, match="ChatTurnFormat"):
        ChatTurnFormat.from_tokenizer(broken)


def test_a_label_that_disagrees_with_its_prompt_is_flagged(tokenizer, caplog) -> None:
    right, wrong = openrlhf_rows(TICTACTOE[0], [0, 1])
    engine = ScriptedEngine(tokenizer, random_legal_reply)
    asyncio.run(run_samples(tokenizer, engine, [right]))
    assert not caplog.records
    asyncio.run(run_samples(tokenizer, engine, [{**right, "label": wrong["label"]}]))
    assert "disagree" in caplog.text


# --- episodes through OpenRLHF's loop ---------------------------------------------------------------


@pytest.mark.parametrize("env", [KUHN, TICTACTOE], ids=["kuhn", "tictactoe"])
def test_episodes_match_direct_play_token_for_token(tokenizer, env) -> None:
    env_id, env_kwargs = env
    rows = openrlhf_rows(env_id, range(6), **env_kwargs)
    engine = ScriptedEngine(tokenizer, random_legal_reply)
    results = asyncio.run(run_samples(tokenizer, engine, rows))
    turns_seen = set()
    for seed, result in enumerate(results):
        episode_return, messages = direct_play(env_id, seed, env_kwargs, random_legal_reply)
        replies = [message["content"] for message in messages if message["role"] == "assistant"]
        assert result["reward"] == episode_return and result["scores"] == episode_return
        assert result["extra_logs"] == {
            "env_return": episode_return,
            "env_turns": float(len(replies)),
            "env_invalid_actions": 0.0,
            "env_finished": 1.0,
        }
        # The feedback continued the chat exactly as the template renders the whole episode.
        assert result["observation_tokens"] == expected_tokens(tokenizer, messages)
        # Each action range is one reply and its stop token.
        tokens = result["observation_tokens"]
        assert [tokenizer.decode(tokens[start:end]) for start, end in result["action_ranges"]] == [
            reply + "<|im_end|>" for reply in replies
        ]
        assert not result["truncated"]
        turns_seen.add(len(replies))
    assert max(turns_seen) > 1, "the seeds should include multi-turn episodes"


def test_concurrent_samples_keep_their_own_envs(tokenizer) -> None:
    """Two envs, repeated samples per prompt (``n_samples_per_prompt``), all interleaved on one loop."""
    rows = openrlhf_rows(KUHN[0], range(5), **KUHN[1]) + openrlhf_rows(TICTACTOE[0], range(5))
    engine = ScriptedEngine(tokenizer, random_legal_reply)
    results = asyncio.run(run_samples(tokenizer, engine, rows, n_samples=3))
    expected = [direct_play(KUHN[0], s, KUHN[1], random_legal_reply)[0] for s in range(5)]
    expected += [direct_play(TICTACTOE[0], s, {}, random_legal_reply)[0] for s in range(5)]
    assert [result["reward"] for result in results] == [value for value in expected for _ in range(3)]
    assert engine.calls == sum(len(result["action_ranges"]) for result in results)
    assert {tuple(result["extra_logs"]) for result in results} == {EXTRA_LOG_KEYS}


def test_env_steps_run_off_the_event_loop(tokenizer) -> None:
    toy_envs.register()
    toy_envs.STEP_THREADS.clear()
    rows = openrlhf_rows(toy_envs.ECHO_ID, range(4))
    engine = ScriptedEngine(tokenizer, echo)
    results = asyncio.run(run_samples(tokenizer, engine, rows))
    # Echo: three rounds, one point per correct echo; per-step rewards summed to the return.
    assert [result["reward"] for result in results] == [3.0] * 4
    assert len(toy_envs.STEP_THREADS) == 12
    assert "MainThread" not in toy_envs.STEP_THREADS


@pytest.mark.parametrize(
    "reply",
    ["", "\ufffd\x00<|im_start|>", "<think>I will bet", "[bet] " * 400, "}{\\boxed{"],
    ids=["empty", "control-chars", "unclosed-think", "long", "braces"],
)
def test_malformed_replies_forfeit_without_crashing(tokenizer, reply) -> None:
    rows = openrlhf_rows(KUHN[0], [3], **KUHN[1])
    results = asyncio.run(run_samples(tokenizer, ScriptedEngine(tokenizer, lambda _: reply), rows))
    expected, _ = direct_play(KUHN[0], 3, KUHN[1], lambda _: reply)
    assert results[0]["reward"] == expected
    if reply.startswith("[bet]"):
        return  # the last tag, [bet], is a legal move: the episode goes on
    assert expected == -1.5 and len(results[0]["action_ranges"]) == 1
    assert results[0]["extra_logs"]["env_invalid_actions"] == 1.0


def test_a_full_context_cuts_the_episode_with_the_return_so_far(tokenizer) -> None:
    toy_envs.register()
    (row,) = openrlhf_rows(toy_envs.ECHO_ID, [0], rounds=50)
    engine = ScriptedEngine(tokenizer, echo)
    prompt_length = len(tokenizer(openrlhf_prompt(tokenizer, row), add_special_tokens=False)["input_ids"])
    (result,) = asyncio.run(run_samples(tokenizer, engine, [row], max_length=prompt_length + 60))
    turns = len(result["action_ranges"])
    assert 1 < turns < 50
    assert result["reward"] == float(turns)
    assert result["extra_logs"]["env_finished"] == 0.0 and result["extra_logs"]["env_turns"] == turns


def test_max_turns_in_the_label_ends_the_episode(tokenizer) -> None:
    toy_envs.register()
    (row,) = openrlhf_rows(toy_envs.ECHO_ID, [0], max_turns=2, rounds=5)
    engine = ScriptedEngine(tokenizer, echo)
    (result,) = asyncio.run(run_samples(tokenizer, engine, [row]))
    assert len(result["action_ranges"]) == 2 and result["reward"] == 2.0
    assert result["observation_tokens"][-1] == tokenizer.eos_token_id  # no feedback after the last reply


def test_a_tiny_model_generating_is_scored_like_direct_play(tokenizer) -> None:
    """Real generation (random tokens, greedy) until the stop token or the context budget; the return is
    the env's for the texts vLLM would have handed over, replayed straight on the env."""
    engine = TinyLlamaEngine(tokenizer)
    budget = 40
    for seed, row in enumerate(openrlhf_rows(KUHN[0], [0, 1], **KUHN[1])):
        prompt_length = len(tokenizer(openrlhf_prompt(tokenizer, row), add_special_tokens=False)["input_ids"])
        (result,) = asyncio.run(run_samples(tokenizer, engine, [row], max_length=prompt_length + budget))
        tokens = result["observation_tokens"]
        assert result["action_ranges"][0][0] == prompt_length
        env = make(KUHN[0], **KUHN[1])
        env.reset(seed=seed)
        episode_return = 0.0
        for start, end in result["action_ranges"]:
            stopped = tokens[end - 1] == tokenizer.eos_token_id
            reply = tokenizer.decode(tokens[start : end - 1] if stopped else tokens[start:end])
            _, reward, terminated, truncated, _ = env.step(extractor_for(KUHN[0])(reply))
            episode_return += reward
        assert result["reward"] == episode_return
        # The episode ended because the env did or because the budget ran out, nothing else.
        assert terminated or truncated or len(tokens) >= prompt_length + budget
        assert result["truncated"] == (not stopped)


def test_without_a_tokenizer_the_instance_says_how_to_get_one() -> None:
    instance = RlvrAgentInstance()
    label = openrlhf_label(KUHN[0], 0)
    with pytest.raises(RuntimeError, match="openrlhf_agent_executor"):
        asyncio.run(instance.reset({"observation": "", "label": label}))
    with pytest.raises(ValueError, match="env_id and seed"):
        asyncio.run(RlvrAgentInstance().reset({"observation": "", "label": json.dumps({"seed": 1})}))


# --- OpenRLHF's own code ----------------------------------------------------------------------------


def _load_example_like_openrlhf() -> Any:
    """``_load_agent_executor`` of openrlhf 0.11.2 (``trainer/ray/vllm_engine.py``), which needs vLLM to
    import: load the file as "agent_module", check ``AgentExecutor``, build it with no arguments."""
    from openrlhf.utils.agent import AgentExecutorBase

    spec = importlib.util.spec_from_file_location("agent_module", str(EXAMPLE))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert issubclass(module.AgentExecutor, AgentExecutorBase)
    return module.AgentExecutor()


def test_example_runs_through_openrlhfs_executor(tokenizer) -> None:
    agent = pytest.importorskip(
        "openrlhf.utils.agent", reason="openrlhf is not installed (pip install openrlhf)"
    )
    executor = _load_example_like_openrlhf()
    assert isinstance(executor, agent.MultiTurnAgentExecutor)
    assert issubclass(executor.agent_instance_cls, agent.AgentInstanceBase)
    assert issubclass(executor.agent_instance_cls, RlvrAgentInstance)
    rows = openrlhf_rows(KUHN[0], range(4), **KUHN[1]) + openrlhf_rows(TICTACTOE[0], range(4))
    engine = ScriptedEngine(tokenizer, random_legal_reply)

    async def rollout(sampling_params: SamplingParams) -> list[dict[str, Any]]:
        return await asyncio.gather(
            *(
                executor.execute(
                    prompt=openrlhf_prompt(tokenizer, row),
                    label=row["label"],
                    sampling_params=deepcopy(sampling_params),
                    max_length=4096,
                    hf_tokenizer=tokenizer,
                    llm_engine=engine,
                    images=None,
                )
                for row in rows
            )
        )

    results = asyncio.run(rollout(SamplingParams(logprobs=1)))
    ours = asyncio.run(run_samples(tokenizer, engine, rows))
    for row, result, replica in zip(rows, results, ours, strict=True):
        task = json.loads(row["label"])
        episode_return, messages = direct_play(
            task["env_id"], task["seed"], task["env_kwargs"], random_legal_reply
        )
        assert result["reward"] == episode_return == replica["reward"]
        assert (
            result["observation_tokens"]
            == expected_tokens(tokenizer, messages)
            == replica["observation_tokens"]
        )
        assert result["action_ranges"] == replica["action_ranges"]
        assert result["extra_logs"] == replica["extra_logs"]
        assert len(result["rollout_log_probs"]) == len(result["observation_tokens"])


def test_openrlhfs_dataset_code_reads_our_jsonl(tokenizer, tmp_path) -> None:
    """``blending_datasets`` and ``PromptDataset`` as ``train_ppo_ray`` calls them with ``--data.input_key
    input --data.label_key label --data.apply_chat_template`` (the strategy gives only those args)."""
    pytest.importorskip("openrlhf.utils.agent", reason="openrlhf is not installed (pip install openrlhf)")
    pytest.importorskip("datasets", reason="OpenRLHF's dataset code needs datasets (pip install datasets)")
    from openrlhf.datasets import PromptDataset
    from openrlhf.datasets.utils import blending_datasets

    rows = openrlhf_rows(KUHN[0], range(3), **KUHN[1])
    path = write_openrlhf_jsonl(rows, tmp_path / "kuhn.jsonl")
    data = SimpleNamespace(input_key="input", label_key="label", apply_chat_template=True)
    strategy = SimpleNamespace(
        args=SimpleNamespace(data=data), is_rank_0=lambda: False, print=lambda *_: None
    )
    dataset = PromptDataset(blending_datasets(str(path), strategy=strategy), tokenizer, strategy)
    assert [dataset[index] for index in range(3)] == [
        (KUHN[0], openrlhf_prompt(tokenizer, row), row["label"], None) for row in rows
    ]
