"""Agent specs as written on the command line."""

from __future__ import annotations

import pytest

from rlvr.agents import BotSeat, HumanPolicy, RandomLegalPolicy
from rlvr.agents.specs import build_policy, parse_agent_spec


@pytest.mark.parametrize(
    ("text", "name", "kind", "target", "options"),
    [
        ("smollm2", "smollm2", "hf", "smollm2", {}),
        ("hf:Qwen/Qwen2.5-0.5B-Instruct", "Qwen2.5-0.5B-Instruct", "hf", "Qwen/Qwen2.5-0.5B-Instruct", {}),
        ("base=hf:/models/ckpt-100/", "base", "hf", "/models/ckpt-100/", {}),
        ("openai:gpt-4o-mini", "gpt-4o-mini", "openai", "gpt-4o-mini", {}),
        (
            "local=openai:smol@http://127.0.0.1:8000/v1",
            "local",
            "openai",
            "smol",
            {"base_url": "http://127.0.0.1:8000/v1"},
        ),
        ("vllm:meta/llama", "llama", "vllm", "meta/llama", {}),
        ("bot:optimal", "optimal", "bot", "optimal", {}),
        ("bot:optimal:alpha=0.25", "optimal-alpha-0.25", "bot", "optimal", {"alpha": 0.25}),
        ("random-legal", "random-legal", "random-legal", "", {}),
        ("me=human", "me", "human", "", {}),
    ],
)
def test_specs_parse(text, name, kind, target, options):
    spec = parse_agent_spec(text)
    assert (spec.name, spec.kind, spec.target, spec.options) == (name, kind, target, options)
    named = text.startswith(("base=", "local=", "me="))
    assert spec.text == (text.partition("=")[2] if named else text)


@pytest.mark.parametrize("text", ["", "gpt4", "bot:", "hf:", "foo:bar", "bot:optimal:alpha"])
def test_malformed_specs_say_what_is_accepted(text):
    with pytest.raises(ValueError):
        parse_agent_spec(text)


def test_scripted_specs_build_without_any_model():
    assert build_policy(parse_agent_spec("bot:optimal:alpha=0.5")) == BotSeat("optimal", {"alpha": 0.5})
    assert isinstance(build_policy(parse_agent_spec("random-legal"), seed=1), RandomLegalPolicy)
    assert isinstance(build_policy(parse_agent_spec("human")), HumanPolicy)
