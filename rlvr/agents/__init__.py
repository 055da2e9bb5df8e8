"""Policies: one interface (``Policy``: a batch of chats in, completions out) and the pieces around
it — prompt building from env steps, answer extraction, wrappers, and scripted policies.

Model backends (``TransformersPolicy``, ``VLLMPolicy``) are attributes too, but load on first access:
they import torch or vLLM, and ``import rlvr.agents`` must stay light for envs, the CLI and bots."""

import importlib
from typing import Any

from rlvr.agents.base import Completion, Policy, PolicyError, PolicyUnavailable, SamplingParams
from rlvr.agents.conversation import Conversation
from rlvr.agents.extraction import (
    EXTRACTORS,
    ActionExtractor,
    extractor_for,
    identity,
    last_boxed,
    last_bracket_tag,
    last_fenced_block,
    strip_think,
)
from rlvr.agents.opponents import PolicyOpponent, as_opponent
from rlvr.agents.scripted import BotSeat, CallablePolicy, HumanPolicy, RandomLegalPolicy, legal_moves_in
from rlvr.agents.wrappers import (
    FewShotPolicy,
    PolicyWrapper,
    SamplingPolicy,
    SystemPromptPolicy,
    with_few_shot,
    with_sampling,
    with_system_prompt,
)

__all__ = [
    "EXTRACTORS",
    "ActionExtractor",
    "BotSeat",
    "CallablePolicy",
    "Completion",
    "Conversation",
    "FewShotPolicy",
    "HumanPolicy",
    "Policy",
    "PolicyError",
    "PolicyOpponent",
    "PolicyUnavailable",
    "PolicyWrapper",
    "RandomLegalPolicy",
    "SamplingParams",
    "SamplingPolicy",
    "SystemPromptPolicy",
    "as_opponent",
    "extractor_for",
    "identity",
    "last_boxed",
    "last_bracket_tag",
    "last_fenced_block",
    "legal_moves_in",
    "strip_think",
    "with_few_shot",
    "with_sampling",
    "with_system_prompt",
]

_LAZY_BACKENDS = {
    "TransformersPolicy": "rlvr.agents.transformers_backend",
    "VLLMPolicy": "rlvr.agents.vllm_backend",
    "OpenAIPolicy": "rlvr.agents.openai_backend",
    "LocalServer": "rlvr.agents.serving",
}
"""Lazily imported names -> their module; kept out of ``__all__`` so ``import *`` never pulls in torch."""


def __getattr__(name: str) -> Any:
    module = _LAZY_BACKENDS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY_BACKENDS])
