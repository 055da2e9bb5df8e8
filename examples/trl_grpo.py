"""A few TRL GRPO steps on the CPU: the embedded SmolLM2 learns Kuhn Poker moves against the random bot.

Our env is TRL's *reward function* (``rlvr.runners.integrations.trl``): each prompt is a seeded
Kuhn Poker deal's first observation, and each sampled completion is replayed as the first move in a
fresh env with the same seed; the rest of the hand is finished by random legal moves. The settings are
tiny so that it runs in a minute or two on a laptop; scale ``max_steps``, ``num_generations`` and
``max_completion_length`` up for a real run (and ``use_vllm=True`` on a GPU).

    python examples/trl_grpo.py [--steps 2] [--out runs/trl_grpo]
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from typing import Any

from rlvr.runners.integrations.trl import env_dataset, env_reward_func

ENV_ID = "rlvr/KuhnPoker-v0"
ENV_KWARGS = {"rounds": 1}
"""One hand per episode, so the trained first move decides most of the return."""


def load_smollm2() -> tuple[Any, Any]:
    """The embedded SmolLM2-135M-Instruct, de-quantized from its GGUF (as ``TransformersPolicy`` does)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.agents.embedded import embedded_gguf

    directory, gguf = embedded_gguf()
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf, local_files_only=True)
    loaded = AutoModelForCausalLM.from_pretrained(
        directory, gguf_file=gguf, local_files_only=True, dtype="float32"
    )
    # A GGUF-loaded model keeps its quantizer, and the HF Trainer refuses to fine-tune a "quantized"
    # model; the weights are already de-quantized, so copy them into a plain model of the same class
    # (as rlvr.agents.serving does before saving).
    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = type(loaded)(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return model, tokenizer


def cpu_grpo_settings(out: str, steps: int, max_completion_length: int) -> dict[str, Any]:
    """``GRPOConfig`` fields for a few steps on a CPU (shared with ``trl_grpo_multiturn.py``)."""
    return {
        "output_dir": out,
        "max_steps": steps,
        "num_generations": 2,
        "per_device_train_batch_size": 2,
        "max_completion_length": max_completion_length,
        "learning_rate": 1e-6,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": "none",
        "use_vllm": False,
        "bf16": False,
        "use_cpu": True,
        # TRL turns activation checkpointing on by default; for short completions it only costs time.
        "gradient_checkpointing": False,
        "dataloader_num_workers": 0,
        "seed": 0,
    }


def build_trainer(
    model: Any, tokenizer: Any, out: str, *, steps: int = 2, seeds: range = range(8), **config: Any
) -> Any:
    """A ``GRPOTrainer`` with tiny CPU settings; ``config`` overrides any ``GRPOConfig`` field."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl import GRPOConfig, GRPOTrainer

    settings = {**cpu_grpo_settings(out, steps, max_completion_length=8), **config}
    return GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        reward_funcs=env_reward_func(ENV_ID, **ENV_KWARGS),
        args=GRPOConfig(**settings),
        train_dataset=env_dataset(ENV_ID, seeds, **ENV_KWARGS),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--out", default="runs/trl_grpo")
    args = parser.parse_args()
    model, tokenizer = load_smollm2()
    trainer = build_trainer(model, tokenizer, args.out, steps=args.steps)
    started = time.perf_counter()
    trainer.train()
    print(f"{args.steps} GRPO steps in {time.perf_counter() - started:.1f} s")
    for entry in trainer.state.log_history:
        print({key: entry[key] for key in ("step", "reward", "loss") if key in entry})


if __name__ == "__main__":
    main()
