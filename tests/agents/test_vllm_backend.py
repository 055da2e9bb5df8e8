"""``VLLMPolicy`` on a real in-process vLLM engine, serving SmolLM2 with no network.

vLLM cannot read the embedded GGUF's tokenizer offline, so the fixture dequantizes it (through the
transformers backend) into a plain Hugging Face directory under ``tmp_path`` and serves that. The
transformers model it came from doubles as the reference: vLLM's logprobs must match its
teacher-forced ``log_softmax``. These tests skip unless ``vllm`` imports and a CUDA GPU is present
(neither is required in CI); only the "vLLM is missing" behaviour runs everywhere else.
"""

from __future__ import annotations

import copy
import importlib.util
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rlvr.agents.base import Completion, PolicyUnavailable, SamplingParams
from rlvr.agents.embedded import missing_embedded_requirements
from rlvr.agents.vllm_backend import VLLMPolicy
from tests.conftest import teacher_forced_logprobs as _teacher_forced

pytestmark = pytest.mark.xdist_group("vllm")

HI = [{"role": "user", "content": "Say hi"}]
MATH = [{"role": "user", "content": "What is 2+2?"}]
COLOR = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Name a color."}]
BATCH = [HI, MATH, COLOR]
GREEDY = SamplingParams(temperature=0, max_tokens=12)


def test_missing_vllm_is_unavailable_with_the_fix() -> None:
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    with pytest.raises(PolicyUnavailable, match=r"vLLM is not installed.*rlvr-gym\[vllm\]"):
        VLLMPolicy("HuggingFaceTB/SmolLM2-135M-Instruct")


def test_embedded_gguf_is_refused_with_an_alternative() -> None:
    with pytest.raises(PolicyUnavailable, match="SmolLM2-135M-Instruct"):
        VLLMPolicy("smollm2")


# ----- a real engine (GPU) -----


def hf_directory(reference: Any, target: Path) -> Path:
    """Save the dequantized GGUF model as a plain transformers directory vLLM can load."""
    import torch
    from transformers import AutoModelForCausalLM

    config = copy.deepcopy(reference.model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the GGUF quantizer refuses save_pretrained
    plain = AutoModelForCausalLM.from_config(config).to(torch.float32)
    plain.load_state_dict(reference.model.state_dict())
    plain.generation_config = copy.deepcopy(reference.model.generation_config)
    plain.save_pretrained(target)
    reference.tokenizer.save_pretrained(target)
    return target


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[VLLMPolicy, Any]]:
    pytest.importorskip("vllm", reason="vLLM is not installed (pip install 'rlvr-gym[vllm]')")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU and none is available")
    missing = missing_embedded_requirements()
    if missing:
        pytest.skip(f"the SmolLM2 weights for the vLLM test need {', '.join(missing)}")
    from rlvr.agents.transformers_backend import TransformersPolicy

    reference = TransformersPolicy("smollm2", device="cpu")
    directory = hf_directory(reference, tmp_path_factory.mktemp("smollm2-hf"))
    policy = VLLMPolicy(
        str(directory),
        dtype="float32",
        gpu_memory_utilization=0.3,
        max_model_len=2048,
        llm_kwargs={"enforce_eager": True},
    )
    yield policy, reference
    policy.close()
    reference.close()


def teacher_forced_logprobs(reference: Any, completion: Completion) -> list[float]:
    return _teacher_forced(reference.model, completion)


def test_vllm_greedy_records_tokens_and_raw_logprobs(engine: tuple[VLLMPolicy, Any]) -> None:
    policy, reference = engine
    tokenizer = reference.tokenizer
    completions = policy.generate(BATCH, GREEDY)
    assert len(completions) == len(BATCH)
    for conversation, c in zip(BATCH, completions, strict=True):
        assert c.error is None and c.prompt_token_ids and c.completion_token_ids and c.completion_logprobs
        template = tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        assert tokenizer.decode(c.prompt_token_ids) == template
        assert len(c.completion_logprobs) == len(c.completion_token_ids)
        assert all(math.isfinite(x) and x <= 0 for x in c.completion_logprobs)
        if c.finish_reason == "length":
            assert len(c.completion_token_ids) == 12
        else:
            assert c.finish_reason == "stop" and c.completion_token_ids[-1] == tokenizer.eos_token_id
        assert c.text == tokenizer.decode(c.completion_token_ids, skip_special_tokens=True)
        # Raw (untempered) logprobs, the same definition as the transformers backend.
        expected = teacher_forced_logprobs(reference, c)
        assert c.completion_logprobs == pytest.approx(expected, abs=0.02)
    again = policy.generate(BATCH, GREEDY)
    assert [c.completion_token_ids for c in again] == [c.completion_token_ids for c in completions]


def test_vllm_seeded_samples_are_reproducible_and_grouped(engine: tuple[VLLMPolicy, Any]) -> None:
    policy, reference = engine
    params = SamplingParams(temperature=1.0, max_tokens=8, seed=3, n=2)
    first = policy.generate([HI, MATH], params)
    second = policy.generate([HI, MATH], params)
    assert len(first) == 4
    assert [c.completion_token_ids for c in first] == [c.completion_token_ids for c in second]
    assert first[0].prompt_token_ids == first[1].prompt_token_ids != first[2].prompt_token_ids
    assert first[2].prompt_token_ids == first[3].prompt_token_ids
    sampled = first[2]
    assert sampled.completion_logprobs == pytest.approx(teacher_forced_logprobs(reference, sampled), abs=0.02)


def test_vllm_stop_strings_and_max_tokens(engine: tuple[VLLMPolicy, Any]) -> None:
    policy, reference = engine
    [full] = policy.generate([HI], GREEDY)
    assert full.completion_token_ids is not None
    stop = full.text.split()[3]
    [cut] = policy.generate([HI], GREEDY.with_overrides(stop=(stop,)))
    assert cut.finish_reason == "stop" and cut.text == full.text[: full.text.index(stop)]
    assert cut.completion_token_ids is not None
    assert cut.completion_token_ids == full.completion_token_ids[: len(cut.completion_token_ids)]
    assert stop in reference.tokenizer.decode(cut.completion_token_ids)

    [short] = policy.generate([HI], SamplingParams(temperature=0, max_tokens=3))
    assert short.finish_reason == "length" and short.completion_token_ids == full.completion_token_ids[:3]


def test_vllm_load_weights_round_trip(engine: tuple[VLLMPolicy, Any]) -> None:
    policy, reference = engine
    name = "model.norm.weight"
    original = reference.model.state_dict()[name].detach().clone()
    params = SamplingParams(temperature=0, max_tokens=6)
    [baseline] = policy.generate([HI], params)
    try:
        assert policy.load_weights({name: -original}) == 1
        assert policy.generate([HI], params)[0].completion_token_ids != baseline.completion_token_ids
    finally:
        policy.load_weights([(name, original)])
    assert policy.generate([HI], params)[0].completion_token_ids == baseline.completion_token_ids


def test_trainer_syncs_its_update_into_the_vllm_rollout_engine(
    engine: tuple[VLLMPolicy, Any], tmp_path
) -> None:
    """One RL iteration with vLLM generating and the transformers model learning: afterwards vLLM's
    logprobs are the *updated* learner's, i.e. the weights went across in process."""
    from rlvr.runners.learner.trainer import TrainConfig, Trainer

    policy, reference = engine
    saved = {name: tensor.detach().clone() for name, tensor in reference.model.state_dict().items()}
    config = TrainConfig(
        env_ids=["rlvr/TicTacToe-v0"], opponent="bot:random", iterations=1, tasks_per_iteration=2,
        group_size=2, max_tokens=6, learning_rate=1e-4, checkpoint_every=10,
    )  # fmt: skip
    try:
        trainer = Trainer(config, reference, tmp_path, rollout_engine=policy)
        metrics = trainer.train()[0]
        assert metrics["failed"] == 0 and metrics["samples"] > 0
        [after] = policy.generate([HI], SamplingParams(temperature=1.0, max_tokens=8, seed=5))
        assert after.completion_logprobs == pytest.approx(teacher_forced_logprobs(reference, after), abs=0.02)
        assert any(not (saved[n] == t).all() for n, t in reference.model.state_dict().items())
    finally:
        reference.load_weights(saved)
        policy.load_weights(saved)
