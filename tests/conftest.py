"""Shared fixtures; tests never touch the network."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


def require_model_packages(missing: list[str]) -> None:
    """Skip when something the embedded SmolLM2 needs is ``missing``, or fail under ``$CI``, where
    the test command installs it all."""
    from rlvr.agents.embedded import INSTALL_HINT

    if not missing:
        return
    reason = f"the embedded SmolLM2 needs {', '.join(missing)}: {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_embedded_model() -> None:
    from rlvr.agents.embedded import missing_embedded_requirements

    require_model_packages(missing_embedded_requirements())


def teacher_forced_logprobs(model: Any, completion: Any) -> list[float]:
    """log_softmax of one plain forward pass over prompt + completion, at the completion's tokens:
    the reference a backend's reported logprobs must match."""
    import torch

    prompt, ids = completion.prompt_token_ids, completion.completion_token_ids
    assert prompt is not None and ids is not None
    with torch.no_grad():
        logits = model(torch.tensor([prompt + ids])).logits[0].float()
    table = torch.log_softmax(logits, dim=-1)
    return [table[len(prompt) - 1 + k, token].item() for k, token in enumerate(ids)]


@pytest.fixture(scope="session")
def smollm2() -> Iterator[Any]:
    """The real SmolLM2-135M-Instruct, loaded once per worker straight from its GGUF file.

    Modules that use it are marked ``xdist_group("smollm2")`` so that, under ``--dist loadgroup``,
    one worker loads it once. Tests that change its weights must restore them.
    """
    require_embedded_model()
    import torch

    from rlvr.agents.embedded import embedded_gguf
    from rlvr.agents.transformers_backend import TransformersPolicy

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        # Each xdist worker would otherwise run one torch thread per core; oversubscribed, OpenMP
        # threads spin against each other and generation gets several times slower.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    loaded = TransformersPolicy(
        os.path.join(*embedded_gguf()), device="cpu", max_batch_size=8, default_max_tokens=16
    )
    yield loaded
    loaded.close()
