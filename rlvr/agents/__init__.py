"""Policies: one interface (``Policy``: a batch of chats in, completions out) and the pieces around
it — prompt building from env steps, answer extraction, wrappers, and scripted policies."""

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
    "PolicyUnavailable",
    "PolicyWrapper",
    "RandomLegalPolicy",
    "SamplingParams",
    "SamplingPolicy",
    "SystemPromptPolicy",
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
