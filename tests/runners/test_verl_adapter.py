"""The verl adapter: episodes played through a real (tiny, random) Llama with SmolLM2's tokenizer, and
the token stream verl trains on checked turn by turn against direct env play.

Without verl (CI): ``run_episode`` with ``TemplateChatTokens``. With verl (``pip install verl``):
``RlvrAgentLoop`` registered from ``examples/verl_agent_loop.yaml`` and built the way verl's
``AgentLoopWorker`` builds agent loops, with a server manager whose ``generate`` runs the same model.

Random weights never write a legal move, so most tests constrain decoding to a scripted reply
(``prefix_allowed_tokens_fn``, like a server's guided decoding): the model still generates every
token and scores it, and the episode runs several turns.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from rlvr.agents.conversation import Conversation
from rlvr.agents.extraction import extractor_for
from rlvr.core.registry import make
from rlvr.runners.integrations.verl import (
    RlvrTask,
    VerlEpisode,
    run_episode,
    verl_rows,
)
from tests.runners.tiny_models import smollm2_tokenizer, tiny_llama

ENV_ID = "rlvr/KuhnPoker-v0"
KWARGS = {"rounds": 2}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return smollm2_tokenizer()


@pytest.fixture(scope="module")
def model(tokenizer: Any) -> Any:
    return tiny_llama(tokenizer).eval()


def first_legal(prompt_text: str) -> str:
    """A scripted reply: the first move of the latest "Legal moves" line the model was shown."""
    line = prompt_text.rsplit("Legal moves:", 1)[1].split("\n", 1)[0]
    return "I play " + line.split(",")[0].strip().rstrip(".")


class ModelGenerator:
    """``generate`` on the tiny model; records every call (prompt ids, new ids, log probs).

    With ``script``, decoding is constrained to ``script(prompt text)`` then end-of-turn; the log probs
    are the model's own (unconstrained) ones for the tokens it emitted.
    """

    def __init__(self, model: Any, tokenizer: Any, script: Callable[[str], str] | None = None) -> None:
        self.model, self.tokenizer, self.script = model, tokenizer, script
        self.calls: list[tuple[list[int], list[int], list[float]]] = []

    async def __call__(self, prompt_ids: list[int], params: dict[str, Any]) -> tuple[list[int], list[float]]:
        import torch

        inputs = torch.tensor([prompt_ids])
        options: dict[str, Any] = {"do_sample": self.script is None}
        if self.script is not None:
            reply = self.script(self.tokenizer.decode(prompt_ids))
            target = [*self.tokenizer.encode(reply, add_special_tokens=False), self.tokenizer.eos_token_id]
            start = len(prompt_ids)
            options["prefix_allowed_tokens_fn"] = lambda _, ids: [
                target[min(len(ids) - start, len(target) - 1)]
            ]
        torch.manual_seed(len(self.calls))
        with torch.no_grad():
            out = self.model.generate(
                inputs, attention_mask=torch.ones_like(inputs), max_new_tokens=params["max_tokens"],
                output_logits=True, return_dict_in_generate=True, eos_token_id=self.tokenizer.eos_token_id,
                pad_token_id=self.tokenizer.pad_token_id, **options,
            )  # fmt: skip
        new = out.sequences[0, len(prompt_ids) :].tolist()
        logprobs = [
            float(torch.log_softmax(step[0].float(), -1)[t]) for step, t in zip(out.logits, new, strict=True)
        ]
        self.calls.append((list(prompt_ids), new, logprobs))
        return new, logprobs


def runs(mask: list[int]) -> list[tuple[int, int, int]]:
    """Maximal runs of equal mask values as (value, start, end)."""
    spans, start = [], 0
    for index in range(1, len(mask) + 1):
        if index == len(mask) or mask[index] != mask[start]:
            spans.append((mask[start], start, index))
            start = index
    return spans


def play_directly(task: RlvrTask, replies: list[str]) -> tuple[list[str], list[float], dict[str, Any]]:
    """The same replies stepped into a fresh env by hand: observations after each, rewards, first info."""
    env = make(task.env_id, **task.env_kwargs)
    observation, info = env.reset(seed=task.seed)
    first = {"observation": observation, "info": info}
    observations, rewards = [], []
    extract = extractor_for(task.env_id)
    for reply in replies:
        observation, reward, _, _, _ = env.step(extract(reply))
        observations.append(observation)
        rewards.append(float(reward))
    env.close()
    return observations, rewards, first


def check_stream(
    episode: VerlEpisode | Any, generator: ModelGenerator, tokenizer: Any, task: RlvrTask
) -> list[tuple[int, int, int]]:
    """The invariants verl relies on, for any ``ChatTokens``: model tokens are exactly the sampled ids
    (mask 1, their log probs), each generation saw exactly the stream before it, and env tokens
    (mask 0) are the env's observations; the reward is the direct-play return."""
    ids = episode.prompt_ids + episode.response_ids
    spans = runs(episode.response_mask)
    model_spans = [(start, end) for value, start, end in spans if value == 1]
    assert len(episode.response_ids) == len(episode.response_mask) == len(episode.response_logprobs)
    assert len(model_spans) == len(generator.calls) == len(episode.replies)
    offset = len(episode.prompt_ids)
    turns = zip(model_spans, generator.calls, episode.replies, strict=True)
    for (start, end), (prompt_ids, new, logprobs), reply in turns:
        assert episode.response_ids[start:end] == new
        assert ids[: offset + start] == prompt_ids
        assert episode.response_logprobs[start:end] == logprobs
        assert tokenizer.decode(episode.response_ids[start:end], skip_special_tokens=True) == reply
    for value, start, end in spans:
        if value == 0:
            assert set(episode.response_logprobs[start:end]) == {0.0}
    observations, rewards, first = play_directly(task, episode.replies)
    assert episode.step_rewards == rewards and episode.reward_score == sum(rewards)
    chat = Conversation.from_reset(first["observation"], first["info"]).to_messages()
    prompt = tokenizer.apply_chat_template(chat, tokenize=True, add_generation_prompt=True)
    assert episode.prompt_ids == list(prompt.get("input_ids", prompt))
    env_spans = [(start, end) for value, start, end in spans if value == 0]
    # The final observation (after the episode ended) is never appended.
    for (start, end), observation in zip(env_spans, observations, strict=False):
        assert observation in tokenizer.decode(episode.response_ids[start:end])
    return spans


def test_model_and_env_turns_are_masked_and_match_direct_play(tokenizer: Any, model: Any) -> None:
    task = RlvrTask(ENV_ID, 0, dict(KWARGS))
    generator = ModelGenerator(model, tokenizer, first_legal)
    episode = asyncio.run(run_episode(task, tokenizer, generator, {}, response_length=2048))
    assert episode.finished and episode.stop_reason == "done" and len(episode.replies) >= 3
    spans = check_stream(episode, generator, tokenizer, task)
    assert [value for value, _, _ in spans] == [1, 0] * (len(episode.replies) - 1) + [1]

    # Every env turn is exactly the template's user turn: the rest of the end-of-turn after the reply's
    # <|im_end|>, the observation as a user message, the generation prompt.
    observations, _, _ = play_directly(task, episode.replies)
    for (value, start, end), observation in zip(spans[1::2], observations[:-1], strict=True):
        text = tokenizer.decode(episode.response_ids[start:end])
        assert value == 0 and text == f"\n<|im_start|>user\n{observation}<|im_end|>\n<|im_start|>assistant\n"
    # So the whole stream is the chat template's rendering of the episode's chat.
    rendered = tokenizer.apply_chat_template(episode.messages, tokenize=False)
    assert tokenizer.decode(episode.prompt_ids + episode.response_ids) + "\n" == rendered
    assert episode.num_turns == 2 * len(episode.replies)  # the first observation counts, as in verl
    assert episode.env_metrics["return"] == episode.reward_score
    assert episode.messages[-1] == {"role": "assistant", "content": episode.replies[-1]}


def test_unconstrained_model_forfeits_like_direct_play(tokenizer: Any, model: Any) -> None:
    task = RlvrTask(ENV_ID, 0, {"rounds": 1})
    generator = ModelGenerator(model, tokenizer)
    episode = asyncio.run(run_episode(task, tokenizer, generator, {}, response_length=24))
    # Random tokens are no move: the env ends the episode with a forfeit after one reply.
    assert episode.finished and episode.replies and episode.reward_score == -1.5
    assert episode.response_mask == [1] * len(episode.response_ids) and len(episode.response_ids) <= 24
    check_stream(episode, generator, tokenizer, task)


def test_reply_cut_by_max_tokens_gets_its_turn_closed(tokenizer: Any, model: Any) -> None:
    task = RlvrTask(ENV_ID, 0, dict(KWARGS))
    cut = 5  # "I play [check]" is 5 tokens in SmolLM2's vocabulary: the reply stops before <|im_end|>
    generator = ModelGenerator(model, tokenizer, first_legal)
    episode = asyncio.run(
        run_episode(task, tokenizer, generator, {}, response_length=2048, max_tokens_per_turn=cut)
    )
    assert all(len(new) <= cut for _, new, _ in generator.calls)
    assert tokenizer.eos_token_id not in [token for _, new, _ in generator.calls for token in new]
    spans = check_stream(episode, generator, tokenizer, task)
    for _, start, end in spans[1::2]:
        assert tokenizer.decode(episode.response_ids[start:end]).startswith("<|im_end|>\n<|im_start|>user\n")


def test_response_budget_ends_on_a_model_turn(tokenizer: Any, model: Any) -> None:
    task = RlvrTask(ENV_ID, 0, dict(KWARGS))
    full = asyncio.run(
        run_episode(task, tokenizer, ModelGenerator(model, tokenizer, first_legal), {}, response_length=2048)
    )
    first_env_turn = runs(full.response_mask)[1]
    # Room for the first reply and the first observation, not for a single token of the second reply.
    budget = first_env_turn[2]
    generator = ModelGenerator(model, tokenizer, first_legal)
    episode = asyncio.run(run_episode(task, tokenizer, generator, {}, response_length=budget))
    assert episode.stop_reason == "response_length" and not episode.finished
    assert episode.response_mask == [1] * first_env_turn[1] and len(episode.replies) == 1
    assert episode.reward_score == full.step_rewards[0]
    # The observation left out is not in the chat either.
    assert episode.num_turns == 2 and episode.messages[-1]["role"] == "assistant"
    check_stream(episode, generator, tokenizer, task)

    # A budget that ends inside a reply cuts the reply (the server is asked for no more than is left).
    generator = ModelGenerator(model, tokenizer, first_legal)
    short = asyncio.run(run_episode(task, tokenizer, generator, {}, response_length=3))
    assert generator.calls[0][1] == short.response_ids and short.response_mask == [1, 1, 1]


def test_max_turns_stops_after_that_many_replies(tokenizer: Any, model: Any) -> None:
    task = RlvrTask(ENV_ID, 0, dict(KWARGS))
    generator = ModelGenerator(model, tokenizer, first_legal)
    episode = asyncio.run(run_episode(task, tokenizer, generator, {}, response_length=2048, max_turns=2))
    assert len(episode.replies) == 2 and episode.stop_reason == "max_turns"
    assert runs(episode.response_mask)[-1][0] == 1
    check_stream(episode, generator, tokenizer, task)


def test_rows_name_the_task_at_top_level_and_in_extra_info() -> None:
    rows = verl_rows(ENV_ID, [4, 5], **KWARGS)
    for index, (row, seed) in enumerate(zip(rows, [4, 5], strict=True)):
        env = make(ENV_ID, **KWARGS)
        observation, info = env.reset(seed=seed)
        assert row["prompt"] == Conversation.from_reset(observation, info).to_messages()
        assert row["agent_name"] == "rlvr_agent" and row["data_source"] == ENV_ID
        assert row["extra_info"]["index"] == index and json.loads(row["env_kwargs"]) == KWARGS
        expected = RlvrTask(ENV_ID, seed, dict(KWARGS))
        assert RlvrTask.from_row(row) == expected
        assert RlvrTask.from_row({"extra_info": row["extra_info"]}) == expected
        assert RlvrTask.from_row({**row, "seed": 9}).seed == 9  # top level wins
    no_rules = verl_rows(ENV_ID, [4], instructions=False, **KWARGS)[0]
    assert [message["role"] for message in no_rules["prompt"]] == ["user"]
    with pytest.raises(ValueError, match="env_id and seed"):
        RlvrTask.from_row({"extra_info": {"env_id": ENV_ID}})


def test_parquet_rows_read_back(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (pip install pyarrow)")
    from rlvr.runners.integrations.verl import write_verl_parquet

    rows = verl_rows(ENV_ID, [1, 2])  # env_kwargs {} is JSON text: parquet has no empty struct
    path = write_verl_parquet(rows, tmp_path / "train.parquet")
    assert pq.read_table(path).to_pylist() == rows


def test_importing_the_module_needs_no_verl() -> None:
    import importlib.util

    import rlvr.runners.integrations.verl as adapter

    if importlib.util.find_spec("verl") is None:
        with pytest.raises(ImportError, match="pip install"):
            adapter.RlvrAgentLoop  # noqa: B018
    with pytest.raises(AttributeError):
        adapter.NoSuchThing  # noqa: B018


# --- with verl ------------------------------------------------------------------------------------


class TinyServerManager:
    """verl's ``LLMServerClient.generate`` contract, served by the tiny model."""

    def __init__(self, generator: ModelGenerator) -> None:
        self.generator = generator
        self.requests: list[tuple[str, dict[str, Any]]] = []

    async def generate(
        self, request_id: str, *, prompt_ids: list[int], sampling_params: dict[str, Any], **_: Any
    ):
        from verl.workers.rollout.replica import TokenOutput

        self.requests.append((request_id, dict(sampling_params)))
        token_ids, log_probs = await self.generator(list(prompt_ids), sampling_params)
        return TokenOutput(token_ids=token_ids, log_probs=log_probs, num_preempted=0)


def verl_config(response_length: int) -> Any:
    """verl's own default PPO trainer config (shipped in the wheel), with our lengths."""
    import verl
    from omegaconf import OmegaConf

    path = Path(verl.__file__).parent / "trainer" / "config" / "_generated_ppo_trainer.yaml"
    config = OmegaConf.load(path)
    config.data.max_prompt_length = 2048
    config.data.max_response_length = response_length
    config.actor_rollout_ref.rollout.prompt_length = 2048
    config.actor_rollout_ref.rollout.response_length = response_length
    return config


def build_like_agent_loop_worker(config: Any, server: TinyServerManager, tokenizer: Any) -> Any:
    """What ``AgentLoopWorker`` does: load the agent-loop YAML into the registry, then
    ``hydra.utils.instantiate`` the row's ``agent_name`` with the worker's objects."""
    import hydra
    from omegaconf import OmegaConf
    from verl.experimental.agent_loop import agent_loop
    from verl.utils.dataset.rl_dataset import RLHFDataset

    for entry in OmegaConf.load(EXAMPLES / "verl_agent_loop.yaml"):
        agent_loop._agent_loop_registry[entry.name] = entry
    return hydra.utils.instantiate(
        config=agent_loop._agent_loop_registry["rlvr_agent"],
        trainer_config=agent_loop.DictConfigWrap(config=config),
        server_manager=server,
        tokenizer=tokenizer,
        processor=None,
        hf_model_type="llama",
        dataset_cls=RLHFDataset,
        data_config=agent_loop.DictConfigWrap(config.data),
        tools=agent_loop.ToolListWrap([]),
    )


def test_verl_builds_and_runs_the_registered_agent_loop(tokenizer: Any, model: Any) -> None:
    pytest.importorskip("verl", reason="verl is not installed (pip install 'rlvr-gym[verl]')")
    from verl.experimental.agent_loop import AgentLoopOutput
    from verl.experimental.agent_loop.agent_loop import _agent_loop_registry

    from rlvr.runners.integrations.verl import RlvrAgentLoop, register_verl_agent_loop

    register_verl_agent_loop()
    assert _agent_loop_registry["rlvr_agent"] == {"_target_": "rlvr.runners.integrations.verl.RlvrAgentLoop"}

    generator = ModelGenerator(model, tokenizer, first_legal)
    server = TinyServerManager(generator)
    row = verl_rows(ENV_ID, [0], **KWARGS)[0]
    # RLHFDataset.__getitem__ hands the agent loop the row plus raw_prompt, index and tools_kwargs.
    fields = {**row, "raw_prompt": row["prompt"], "index": 0, "tools_kwargs": {}}
    sampling = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "logprobs": True}

    async def rollout() -> tuple[Any, Any]:
        # The worker builds each agent loop inside its event loop (AgentLoopBase keeps that loop).
        loop = build_like_agent_loop_worker(verl_config(response_length=1024), server, tokenizer)
        return loop, await loop.run(sampling, **fields)

    loop, output = asyncio.run(rollout())
    assert isinstance(loop, RlvrAgentLoop) and loop.max_tokens_per_turn == 256
    assert isinstance(output, AgentLoopOutput)

    # One request id for the whole episode; each turn asks for at most 256 tokens.
    assert len({request_id for request_id, _ in server.requests}) == 1
    assert all(params["max_tokens"] <= 256 for _, params in server.requests)
    replies = [tokenizer.decode(new, skip_special_tokens=True) for _, new, _ in generator.calls]
    episode = SimpleNamespace(
        **output.model_dump(), replies=replies, step_rewards=output.extra_fields["turn_scores"]
    )
    spans = check_stream(episode, generator, tokenizer, RlvrTask.from_row(row))
    assert [value for value, _, _ in spans] == [1, 0] * (len(generator.calls) - 1) + [1]
    info = output.extra_fields["reward_extra_info"]
    assert info == {
        "rlvr_return": output.reward_score,
        "rlvr_turns": len(generator.calls),
        "rlvr_finished": 1.0,
    }
    assert output.extra_fields["rlvr_metrics"]["return"] == output.reward_score

    # What the worker hands the trainer: the reward on the last response token.
    tensors = output.as_dict()
    assert tensors["rm_scores"][-1] == pytest.approx(output.reward_score)
    assert tensors["rm_scores"].sum() == pytest.approx(output.reward_score)
    assert tensors["response_mask"].tolist() == output.response_mask


def test_verl_agent_loop_worker_rolls_out_our_parquet_rows(
    tokenizer: Any, model: Any, tmp_path: Path
) -> None:
    """verl's whole rollout side: our parquet through ``RLHFDataset`` and ``collate_fn`` into a
    ``DataProto``, then ``AgentLoopWorker.generate_sequences``, which loads the agent-loop YAML and
    dispatches each row on its ``agent_name``; only the LLM server is the tiny model."""
    pytest.importorskip("verl", reason="verl is not installed (pip install 'rlvr-gym[verl]')")
    pytest.importorskip("datasets", reason="verl's RLHFDataset needs datasets (installed with verl)")
    from verl.experimental.agent_loop import AgentLoopWorker
    from verl.protocol import DataProto
    from verl.utils.dataset.rl_dataset import RLHFDataset, collate_fn

    from rlvr.runners.integrations.verl import write_verl_parquet

    model_dir = tmp_path / "tiny"  # HFModelConfig loads the tokenizer and config from a model path
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    seeds = [0, 2]  # the scripted policy wins one, loses one
    parquet = write_verl_parquet(verl_rows(ENV_ID, seeds, **KWARGS), tmp_path / "train.parquet")
    config = verl_config(response_length=1024)
    config.actor_rollout_ref.model.path = str(model_dir)
    config.actor_rollout_ref.rollout.name = "vllm"  # mandatory in the config; no server is started
    config.actor_rollout_ref.rollout.agent.agent_loop_config_path = str(EXAMPLES / "verl_agent_loop.yaml")
    dataset = RLHFDataset(data_files=[str(parquet)], tokenizer=tokenizer, config=config.data, processor=None)
    batch = DataProto.from_single_dict(collate_fn([dataset[0], dataset[1]]))

    async def rollout() -> Any:
        worker = AgentLoopWorker(
            config, llm_client=TinyServerManager(ModelGenerator(model, tokenizer, first_legal))
        )
        return await worker.generate_sequences(batch)

    output = asyncio.run(rollout())
    expected = []
    for seed in seeds:
        generator = ModelGenerator(model, tokenizer, first_legal)
        task = RlvrTask(ENV_ID, seed, dict(KWARGS))
        expected.append(asyncio.run(run_episode(task, tokenizer, generator, {}, response_length=1024)))
    returns = [episode.reward_score for episode in expected]
    assert returns == [1.0, -1.0]
    assert output.batch["rm_scores"].sum(-1).tolist() == returns
    assert output.non_tensor_batch["rlvr_return"].tolist() == returns
    assert output.non_tensor_batch["__num_turns__"].tolist() == [episode.num_turns for episode in expected]
    for row, episode in enumerate(expected):
        mask = output.batch["response_mask"][row].tolist()
        responses = output.batch["responses"][row].tolist()
        logprobs = output.batch["rollout_log_probs"][row].tolist()
        model_tokens = [token for token, bit in zip(responses, mask, strict=True) if bit]
        assert model_tokens == [
            t for t, bit in zip(episode.response_ids, episode.response_mask, strict=True) if bit
        ]
        assert all(logprob == 0.0 for logprob, bit in zip(logprobs, mask, strict=True) if not bit)
        assert sum(mask) == sum(episode.response_mask)
