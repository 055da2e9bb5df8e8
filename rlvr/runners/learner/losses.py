r"""Token-level policy-gradient losses (torch).

All losses are token-mean over the generated tokens of the batch (sum over masked tokens / number of
masked tokens), so a long reply does not weigh more per token than a short one, and no length bias
creeps in through per-sequence means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class PPOConfig:
    clip_low: float = 0.2
    clip_high: float = 0.2
    dual_clip: float | None = 3.0
    """c in dual-clip PPO: for A < 0 the loss is capped at -c * A; ``None`` turns it off."""
    kl_coef: float = 0.0
    entropy_coef: float = 0.0
    """Weight of an entropy bonus (the loss minus ``entropy_coef`` times the token-mean entropy of the
    policy on its own tokens): a brake on the entropy collapse small models show under GRPO on games,
    where one move's probability runs to 1 within a few iterations. 0 (default) is plain PPO."""


def token_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def ppo_clip_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    config: PPOConfig = PPOConfig(),
    ref_logprobs: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    r"""PPO-clip per token, rho = exp(logp - logp_old):
    L = -min(rho * A, clip(rho, 1 - e_low, 1 + e_high) * A); with dual clip, for A < 0,
    L = min(L, -c * A). With ``kl_coef`` and ``ref_logprobs`` the k3 estimator
    KL = exp(ref - logp) - (ref - logp) - 1 is added. One update on fresh samples has rho = 1, which
    is REINFORCE: the same gradient as L = -A * logp."""
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1 - config.clip_low, 1 + config.clip_high)
    loss = torch.maximum(unclipped, clipped)
    if config.dual_clip is not None:
        loss = torch.where(advantages < 0, torch.minimum(loss, -advantages * config.dual_clip), loss)
    stats = {
        "clip_fraction": token_mean((clipped > unclipped).float(), mask).item(),
        "ratio_mean": token_mean(ratio.detach(), mask).item(),
    }
    total = token_mean(loss, mask)
    if config.kl_coef and ref_logprobs is not None:
        delta = ref_logprobs - logprobs
        kl = token_mean(torch.exp(delta) - delta - 1, mask)
        total = total + config.kl_coef * kl
        stats["kl"] = kl.item()
    stats["pg_loss"] = total.item()
    return total, stats


_PLAIN_LM_HEADS = frozenset({"llama", "mistral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "phi3"})
"""Architectures whose logits are exactly ``lm_head(decoder(...))``: no soft-capping or scaling."""


def sequence_logprobs(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    with_entropy: bool = False,
    entropy_grad: bool = False,
    only: torch.Tensor | None = None,
) -> Any:
    """log p(token_t | tokens_<t) for t >= 1, shape [batch, length] with position 0 set to 0, so it lines
    up with ``input_ids``, ``loss_mask`` and the rollout's per-token logprobs. With ``with_entropy``,
    also the entropy of each next-token distribution, the same shape and alignment: without gradient (a
    metric) unless ``entropy_grad`` (an entropy bonus in the loss).

    ``only`` (a 0/1 mask like ``loss_mask``) says which positions are needed; the others come back as
    0. For plain decoder + LM-head architectures the vocabulary projection then runs on those positions
    alone, which on a multi-turn sample (mostly prompt) saves most of the memory and much of the time:
    a [batch, length, vocabulary] float32 table is the largest tensor of a small model's step."""
    if only is not None and getattr(model.config, "model_type", None) in _PLAIN_LM_HEADS:
        return _selected_logprobs(model, input_ids, attention_mask, only.bool(), with_entropy, entropy_grad)
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits.float()
    table = torch.log_softmax(logits[:, :-1], dim=-1)
    picked = table.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    logprobs = torch.nn.functional.pad(picked, (1, 0))
    if only is not None:
        logprobs = logprobs * only.to(logprobs.dtype)
    if not with_entropy:
        return logprobs
    with torch.set_grad_enabled(entropy_grad and torch.is_grad_enabled()):
        entropy = -(table.exp() * table).sum(-1)
    return logprobs, torch.nn.functional.pad(entropy, (1, 0))


def _selected_logprobs(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    wanted: torch.Tensor,
    with_entropy: bool,
    entropy_grad: bool = False,
) -> Any:
    wanted = wanted.clone()
    wanted[:, 0] = False  # nothing predicts the first token
    hidden = model.get_decoder()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    # Token t is predicted from the hidden state at t - 1.
    predictors = torch.nn.functional.pad(wanted[:, 1:], (0, 1))
    logits = model.get_output_embeddings()(hidden[predictors]).float()
    table = torch.log_softmax(logits, dim=-1)
    picked = table.gather(-1, input_ids[wanted].unsqueeze(-1)).squeeze(-1)
    logprobs = torch.zeros(input_ids.shape, dtype=picked.dtype, device=picked.device)
    logprobs = logprobs.masked_scatter(wanted, picked)
    if not with_entropy:
        return logprobs
    with torch.set_grad_enabled(entropy_grad and torch.is_grad_enabled()):
        entropy = torch.zeros_like(logprobs).masked_scatter(wanted, -(table.exp() * table).sum(-1))
    return logprobs, entropy
