"""Learner throughput: tokens/s of one PPO-clip optimizer step (``policy_gradient_step``) on a model of
the Qwen2 architecture with random weights, against a bare transformers step on the same batch (the
model's own ``labels=`` cross-entropy, backward, AdamW) as the peer in the same run.

The default is Qwen2.5-0.5B's shape (24 layers, hidden 896, vocabulary 151,936) in bf16 autocast on
CUDA. ``--tiny`` shrinks it to a two-layer model so the script can be checked on a CPU.

Each sample is ``--length`` tokens of which the last ``--generated`` are the policy's (the rest is the
multi-turn prompt, masked), the shape of a late turn of an agentic episode. Tokens/s counts every
token through the forward and backward passes (prompt included), as the learner must process them.

    python benchmarks/learner_throughput.py                # GPU, Qwen2.5-0.5B shape
    python benchmarks/learner_throughput.py --tiny --device cpu
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import transformers

from rlvr.runners.learner.losses import PPOConfig
from rlvr.runners.learner.sequences import TrainingSample
from rlvr.runners.learner.update import autocast_for, policy_gradient_step

QWEN_05B = dict(
    vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
    num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768, tie_word_embeddings=True,
)  # fmt: skip
TINY = dict(
    vocab_size=151936, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=True,
)  # fmt: skip


def make_samples(count: int, length: int, generated: int, vocab: int, seed: int) -> list[TrainingSample]:
    generator = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(count):
        ids = torch.randint(0, vocab, (length,), generator=generator).tolist()
        mask = [0] * (length - generated) + [1] * generated
        old = [(-2.0 if m else 0.0) for m in mask]
        advantage = float(torch.randn(1, generator=generator))
        samples.append(TrainingSample(ids, mask, old, [advantage * m for m in mask]))
    return samples


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(step, repeats: int, device: torch.device) -> list[float]:
    step()  # warm-up: kernels, allocator, Adam state
    synchronize(device)
    durations = []
    for _ in range(repeats):
        began = time.perf_counter()
        step()
        synchronize(device)
        durations.append(time.perf_counter() - began)
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="a 2-layer model (check the script on a CPU)")
    parser.add_argument("--batch", type=int, default=16, help="samples per optimizer step")
    parser.add_argument("--minibatch", type=int, default=8, help="samples per backward pass")
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--generated", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--precision", default="auto", choices=("auto", "bf16", "fp32"))
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    config = transformers.Qwen2Config(**(TINY if args.tiny else QWEN_05B))
    model = transformers.Qwen2ForCausalLM(config).to(device)  # float32 master weights
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    samples = make_samples(args.batch, args.length, args.generated, config.vocab_size, seed=0)

    def ours() -> None:
        policy_gradient_step(
            model, optimizer, samples, PPOConfig(), minibatch_size=args.minibatch, precision=args.precision
        )

    ids = torch.tensor([s.input_ids for s in samples], device=device)
    labels = ids.clone()
    labels[:, : args.length - args.generated] = -100

    def bare() -> None:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        for start in range(0, args.batch, args.minibatch):
            with autocast_for(model, args.precision):
                loss = model(
                    input_ids=ids[start : start + args.minibatch],
                    labels=labels[start : start + args.minibatch],
                ).loss
            (loss * args.minibatch / args.batch).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    tokens = args.batch * args.length
    results = {}
    for name, step in (("bare transformers step", bare), ("policy_gradient_step", ours)):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        durations = time_steps(step, args.repeats, device)
        median = statistics.median(durations)
        results[name] = {
            "median_s": median,
            "tokens_per_s": tokens / median,
            "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30
            if device.type == "cuda"
            else None,
        }
    ratio = (
        results["policy_gradient_step"]["tokens_per_s"] / results["bare transformers step"]["tokens_per_s"]
    )
    report = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "model": "Qwen2 tiny (2 layers)" if args.tiny else "Qwen2.5-0.5B shape, random weights",
        "parameters": parameters, "precision": args.precision, "batch": args.batch,
        "minibatch": args.minibatch, "length": args.length, "generated": args.generated,
        "torch": torch.__version__, "results": results, "ours_over_bare": ratio,
    }  # fmt: skip
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
