"""The warm start on the real SmolLM2: teacher demonstrations, reply tokens exactly as the model would
generate them, and behaviour cloning that makes those replies more likely."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="the warm start needs torch (pip install 'rlvr-gym[torch]')")
from rlvr.agents.base import SamplingParams  # noqa: E402
from rlvr.runners.learner.losses import sequence_logprobs, token_mean  # noqa: E402
from rlvr.runners.learner.sequences import pad_batch  # noqa: E402
from rlvr.runners.learner.warm_start import cloning_samples, demonstrations, warm_start  # noqa: E402

pytestmark = pytest.mark.xdist_group("smollm2")

MOVE = [{"role": "user", "content": "Your card: K.\nYour move. Legal moves: [check], [bet]."}]


def test_reply_tokens_are_the_template_s_assistant_turn_and_prompts_match_generation(smollm2: Any):
    tokenizer = smollm2.tokenizer
    prompt, reply = smollm2.encode_prompt(MOVE), smollm2.encode_reply(MOVE, "[bet]")
    assert tokenizer.decode(reply) == "[bet]<|im_end|>"
    full = tokenizer.apply_chat_template([*MOVE, {"role": "assistant", "content": "[bet]"}], tokenize=False)
    assert full.startswith(tokenizer.decode(prompt + reply))
    [completion] = smollm2.generate([MOVE], SamplingParams(temperature=0, max_tokens=2))
    assert completion.prompt_token_ids == prompt


def nll(model: Any, samples: list) -> float:
    tensors = pad_batch(samples)
    with torch.no_grad():
        logprobs = sequence_logprobs(model, tensors["input_ids"], tensors["attention_mask"])
    return -token_mean(logprobs, tensors["loss_mask"]).item()


def test_cloning_random_legal_moves_makes_them_likelier(smollm2: Any):
    turns = demonstrations(
        ["rlvr/KuhnPoker-v0"], episodes=6, seed=5, env_kwargs={"rounds": 1}, env_instructions=False
    )
    assert turns and all(turn.action in turn.info["legal_actions"] for turn in turns)
    assert all(turn.prompt[0]["role"] == "user" for turn in turns)  # the rules were left out
    samples = cloning_samples(smollm2, turns)
    for sample, turn in zip(samples, turns, strict=True):
        targets = [t for t, m in zip(sample.input_ids, sample.loss_mask, strict=True) if m]
        assert smollm2.tokenizer.decode(targets) == turn.action + "<|im_end|>"
    saved = {name: tensor.detach().clone() for name, tensor in smollm2.model.state_dict().items()}
    try:
        before = nll(smollm2.model, samples)
        history = warm_start(smollm2, samples, epochs=2, batch_size=8, minibatch_size=8, learning_rate=5e-5)
        assert len(history) == 2 * -(-len(samples) // 8)
        assert nll(smollm2.model, samples) < before / 2
    finally:
        smollm2.load_weights(saved)
