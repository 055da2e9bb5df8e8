"""One optimizer step on a crafted batch, on a tiny randomly initialised Llama (no weights to load):
the step pushes positively-advantaged action tokens up and negative ones down, masked tokens get no
gradient, accumulation equals one big batch, and the bf16 path runs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the learner needs torch (pip install 'rlvr-gym[torch]')")
transformers = pytest.importorskip("transformers", reason="needs transformers")

from rlvr.runners.learner.losses import PPOConfig, ppo_clip_loss, sequence_logprobs  # noqa: E402
from rlvr.runners.learner.sequences import TrainingSample, pad_batch  # noqa: E402
from rlvr.runners.learner.update import policy_gradient_step, supervised_step  # noqa: E402

VOCAB = 64


def tiny_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )  # fmt: skip
    return transformers.LlamaForCausalLM(config).eval()


def sample(model: torch.nn.Module, prompt: list[int], action: list[int], advantage: float) -> TrainingSample:
    """A one-turn sample whose behaviour logprobs are the model's own (fresh, on-policy)."""
    ids = prompt + action
    with torch.no_grad():
        logprobs = sequence_logprobs(model, torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long))[0]
    mask = [0] * len(prompt) + [1] * len(action)
    return TrainingSample(
        input_ids=ids,
        loss_mask=mask,
        old_logprobs=[float(lp) * m for lp, m in zip(logprobs, mask, strict=True)],
        advantages=[advantage * m for m in mask],
    )


def action_logprob(model: torch.nn.Module, s: TrainingSample) -> float:
    tensors = pad_batch([s])
    with torch.no_grad():
        logprobs = sequence_logprobs(model, tensors["input_ids"], tensors["attention_mask"])
    return float((logprobs * tensors["loss_mask"]).sum())


def crafted_batch(model: torch.nn.Module) -> list[TrainingSample]:
    return [
        sample(model, [1, 5, 9, 13], [20, 21, 2], advantage=+1.0),
        sample(model, [1, 5, 9, 13, 17, 4], [30, 31], advantage=-1.0),
        sample(model, [1, 6, 7], [40, 41, 42, 2], advantage=+0.5),
    ]


def test_one_update_moves_positive_actions_up_and_negative_ones_down():
    model = tiny_model()
    batch = crafted_batch(model)
    before = [action_logprob(model, s) for s in batch]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    stats = policy_gradient_step(model, optimizer, batch, PPOConfig(), minibatch_size=2)
    after = [action_logprob(model, s) for s in batch]
    assert after[0] > before[0] and after[2] > before[2], (before, after)
    assert after[1] < before[1], (before, after)
    assert stats["trained_tokens"] == 9 and stats["grad_norm"] > 0
    assert stats["ratio_mean"] == pytest.approx(1.0, abs=1e-5)  # fresh samples: on-policy
    assert 0 < stats["entropy"] <= torch.log(torch.tensor(float(VOCAB))).item() + 1e-4


def test_masked_tokens_get_exactly_zero_gradient():
    model = tiny_model()
    tensors = pad_batch(crafted_batch(model))
    logprobs = sequence_logprobs(model, tensors["input_ids"], tensors["attention_mask"])
    logprobs.retain_grad()
    loss, _ = ppo_clip_loss(logprobs, tensors["old_logprobs"], tensors["advantages"], tensors["loss_mask"])
    loss.backward()
    masked = tensors["loss_mask"] == 0  # prompt tokens and right padding
    assert masked.any() and (logprobs.grad[masked] == 0).all()
    assert (logprobs.grad[~masked] != 0).all()
    # Padding beyond a row's end changes nothing in that row's loss: padded logits are never read.
    alone = pad_batch([crafted_batch(model)[0]])
    alone_logprobs = sequence_logprobs(model, alone["input_ids"], alone["attention_mask"])
    width = alone["input_ids"].shape[1]
    assert torch.allclose(alone_logprobs[0], logprobs[0, :width].detach(), atol=1e-5)


def test_accumulated_minibatches_take_the_same_step_as_one_batch():
    results = []
    for minibatch_size in (1, 3):
        model = tiny_model()
        batch = crafted_batch(model)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        policy_gradient_step(model, optimizer, batch, minibatch_size=minibatch_size, max_grad_norm=None)
        results.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.allclose(results[0], results[1], atol=1e-6)


def test_supervised_step_raises_the_likelihood_of_the_targets():
    model = tiny_model()
    batch = crafted_batch(model)
    before = [action_logprob(model, s) for s in batch]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(5):
        stats = supervised_step(model, optimizer, batch, minibatch_size=2)
    after = [action_logprob(model, s) for s in batch]
    assert all(a > b for a, b in zip(after, before, strict=True)) and stats["loss"] > 0


def test_bf16_autocast_path_runs_and_keeps_float32_weights():
    model = tiny_model()
    batch = crafted_batch(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    stats = policy_gradient_step(model, optimizer, batch, precision="bf16")
    assert torch.isfinite(torch.tensor(stats["loss"])) and stats["grad_norm"] > 0
    assert all(p.dtype == torch.float32 for p in model.parameters())
    with pytest.raises(ValueError, match="precision"):
        policy_gradient_step(model, optimizer, batch, precision="fp8")


def test_kl_to_a_reference_is_reported_and_zero_at_the_start():
    model, reference = tiny_model(), tiny_model()
    batch = crafted_batch(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    stats = policy_gradient_step(model, optimizer, batch, PPOConfig(kl_coef=0.1), reference=reference)
    assert stats["kl"] == pytest.approx(0.0, abs=1e-6)


def test_nothing_to_train_on_is_a_clear_error():
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="no samples"):
        policy_gradient_step(model, optimizer, [])
    empty = TrainingSample(input_ids=[1, 2], loss_mask=[0, 0], old_logprobs=[0, 0], advantages=[0, 0])
    with pytest.raises(ValueError, match="all zero"):
        policy_gradient_step(model, optimizer, [empty])


def test_logprobs_of_selected_positions_equal_the_full_table_s():
    model = tiny_model()
    tensors = pad_batch(crafted_batch(model))
    mask = tensors["loss_mask"]
    full, full_entropy = sequence_logprobs(
        model, tensors["input_ids"], tensors["attention_mask"], with_entropy=True
    )
    fast, fast_entropy = sequence_logprobs(
        model, tensors["input_ids"], tensors["attention_mask"], with_entropy=True, only=mask
    )
    assert torch.allclose(fast, full * mask, atol=1e-5)
    assert torch.allclose(fast_entropy, full_entropy * mask, atol=1e-4)
    assert (fast[mask == 0] == 0).all()


def _entropy(model: torch.nn.Module, batch: list[TrainingSample]) -> float:
    tensors = pad_batch(batch)
    with torch.no_grad():
        _, entropy = sequence_logprobs(
            model, tensors["input_ids"], tensors["attention_mask"], with_entropy=True
        )
    mask = tensors["loss_mask"].float()
    return float((entropy * mask).sum() / mask.sum())


def test_an_entropy_bonus_raises_entropy_and_nothing_else_moves_without_it():
    """With zero advantages the policy-gradient term is zero: only the bonus can move the weights."""
    model = tiny_model()
    batch = [
        sample(model, [1, 5, 9], [20, 21, 2], advantage=0.0),
        sample(model, [1, 6], [30, 31], advantage=0.0),
    ]
    weights = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    stats = policy_gradient_step(model, optimizer, batch, PPOConfig(), minibatch_size=2)
    assert stats["grad_norm"] == 0 and all(
        torch.equal(a, b) for a, b in zip(weights, model.parameters(), strict=True)
    )
    before = _entropy(model, batch)
    for _ in range(3):
        stats = policy_gradient_step(model, optimizer, batch, PPOConfig(entropy_coef=0.5), minibatch_size=2)
        assert stats["grad_norm"] > 0
    assert _entropy(model, batch) > before


def test_entropy_carries_a_gradient_only_when_asked_on_both_logit_paths():
    model = tiny_model()
    tensors = pad_batch(crafted_batch(model))
    ids, attention, mask = tensors["input_ids"], tensors["attention_mask"], tensors["loss_mask"]
    for only in (None, mask):  # the full table, and the selected-positions path for plain LM heads
        _, metric = sequence_logprobs(model, ids, attention, with_entropy=True, only=only)
        _, bonus = sequence_logprobs(model, ids, attention, with_entropy=True, entropy_grad=True, only=only)
        assert not metric.requires_grad and bonus.requires_grad
        assert torch.allclose(metric * mask, bonus.detach() * mask, atol=1e-5)
