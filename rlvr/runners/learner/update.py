"""One optimizer step over a list of samples: the policy-gradient step of the RL loop and the
supervised (next-token) step of a warm start.

Both accumulate gradients minibatch by minibatch, each minibatch's token-mean loss weighted by its
share of all masked tokens, so the step equals the one a single huge batch would take (token-mean over
the whole iteration) while memory stays bounded by ``minibatch_size``. Then the gradient norm is
clipped and the optimizer steps once.

Precision: ``"bf16"`` runs forward and backward under ``torch.autocast`` in bfloat16 while the weights
and Adam state stay in float32 (the usual mixed-precision recipe; pure-bf16 weights lose small
updates). ``"auto"`` means bf16 on CUDA and float32 on the CPU.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from rlvr.runners.learner.losses import PPOConfig, ppo_clip_loss, sequence_logprobs, token_mean
from rlvr.runners.learner.sequences import TrainingSample, pad_batch

PRECISIONS = ("auto", "fp32", "bf16")

LossFn = Callable[[dict[str, torch.Tensor]], tuple[torch.Tensor, dict[str, float]]]


def autocast_for(model: torch.nn.Module, precision: str) -> contextlib.AbstractContextManager[Any]:
    """The autocast context for ``precision`` on the model's device (a no-op for float32)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    device = next(model.parameters()).device
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _minibatches(samples: Sequence[TrainingSample], size: int) -> Iterator[Sequence[TrainingSample]]:
    # Similar lengths together: less padding per minibatch, same gradient (the step sums them all).
    ordered = sorted(samples, key=lambda sample: len(sample.input_ids))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def accumulated_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    samples: Sequence[TrainingSample],
    loss_fn: LossFn,
    *,
    minibatch_size: int = 4,
    max_grad_norm: float | None = 1.0,
    precision: str = "auto",
) -> dict[str, float]:
    """Accumulate ``loss_fn`` over minibatches, clip, step; returns the token-weighted mean of every
    statistic ``loss_fn`` reports, plus ``grad_norm`` and ``trained_tokens``."""
    if not samples:
        raise ValueError("no samples to train on")
    device = next(model.parameters()).device
    total_tokens = sum(sum(sample.loss_mask) for sample in samples)
    if total_tokens == 0:
        raise ValueError("the samples' loss masks are all zero: nothing to train on")
    model.train()
    optimizer.zero_grad(set_to_none=True)
    weighted: dict[str, float] = {}
    try:
        for batch in _minibatches(samples, minibatch_size):
            tensors = pad_batch(batch, device)
            share = tensors["loss_mask"].sum().item() / total_tokens
            with autocast_for(model, precision):
                loss, stats = loss_fn(tensors)
            (loss * share).backward()
            for name, value in {"loss": loss.item(), **stats}.items():
                weighted[name] = weighted.get(name, 0.0) + value * share
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm or float("inf"))
        optimizer.step()
    finally:
        optimizer.zero_grad(set_to_none=True)
        model.eval()
    return {**weighted, "grad_norm": float(grad_norm), "trained_tokens": float(total_tokens)}


def policy_gradient_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    samples: Sequence[TrainingSample],
    config: PPOConfig | None = None,
    *,
    reference: torch.nn.Module | None = None,
    minibatch_size: int = 4,
    max_grad_norm: float | None = 1.0,
    precision: str = "auto",
) -> dict[str, float]:
    """PPO-clip over ``samples`` (behaviour logprobs and advantages inside them). With ``reference``
    and ``config.kl_coef``, the k3 KL to that frozen model is added. Reports loss, clip fraction,
    ratio, KL (when used), the policy's mean entropy on the generated tokens, grad norm. With
    ``config.entropy_coef`` that entropy, with its gradient, is also subtracted from the loss."""

    config = config or PPOConfig()

    def loss_fn(tensors: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        logprobs, entropy = sequence_logprobs(
            model,
            tensors["input_ids"],
            tensors["attention_mask"],
            with_entropy=True,
            entropy_grad=bool(config.entropy_coef),
            only=tensors["loss_mask"],
        )
        ref_logprobs = None
        if reference is not None and config.kl_coef:
            with torch.no_grad():
                ref_logprobs = sequence_logprobs(
                    reference, tensors["input_ids"], tensors["attention_mask"], only=tensors["loss_mask"]
                )
        loss, stats = ppo_clip_loss(
            logprobs,
            tensors["old_logprobs"],
            tensors["advantages"],
            tensors["loss_mask"],
            config,
            ref_logprobs,
        )
        mean_entropy = token_mean(entropy, tensors["loss_mask"])
        if config.entropy_coef:
            loss = loss - config.entropy_coef * mean_entropy
        stats["entropy"] = mean_entropy.item()
        return loss, stats

    return accumulated_step(
        model,
        optimizer,
        samples,
        loss_fn,
        minibatch_size=minibatch_size,
        max_grad_norm=max_grad_norm,
        precision=precision,
    )


def supervised_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    samples: Sequence[TrainingSample],
    *,
    minibatch_size: int = 4,
    max_grad_norm: float | None = 1.0,
    precision: str = "auto",
) -> dict[str, float]:
    """Next-token cross-entropy on the masked tokens (token-mean): behaviour cloning."""

    def loss_fn(tensors: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        logprobs = sequence_logprobs(
            model, tensors["input_ids"], tensors["attention_mask"], only=tensors["loss_mask"]
        )
        return -token_mean(logprobs, tensors["loss_mask"]), {}

    return accumulated_step(
        model,
        optimizer,
        samples,
        loss_fn,
        minibatch_size=minibatch_size,
        max_grad_norm=max_grad_norm,
        precision=precision,
    )
