"""Agent specs: the short strings that name an agent on the command line and in the results database.

    smollm2                         the embedded SmolLM2-135M-Instruct (transformers, CPU or GPU)
    hf:MODEL                        any transformers model: a hub id or a local directory
    openai:MODEL[@BASE_URL]         an OpenAI-compatible endpoint (BASE_URL defaults to $OPENAI_BASE_URL)
    vllm:MODEL                      in-process vLLM (GPU)
    bot:NAME[:key=value,...]        the env's own scripted player, e.g. bot:optimal, bot:optimal:alpha=0.2
    random-legal                    uniform over the moves an env lists (any env that prints "Legal moves:")
    human                           you, at the terminal

Prefix ``NAME=`` to choose the name results are stored under (``base=hf:Qwen/Qwen2.5-0.5B-Instruct``);
otherwise the name is derived from the spec. The spec string itself is stored with the name, so a
leaderboard row always says exactly what played.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rlvr.agents.base import Policy
from rlvr.agents.embedded import EMBEDDED_MODEL
from rlvr.agents.scripted import BotSeat, HumanPolicy, RandomLegalPolicy

_NAME = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)=(?P<spec>.+)$")
KINDS = ("hf", "openai", "vllm", "bot")


@dataclass(frozen=True)
class AgentSpec:
    """A parsed spec: which backend, which model or bot, and the name to store results under."""

    name: str
    kind: str
    """``hf``, ``openai``, ``vllm``, ``bot``, ``random-legal`` or ``human``."""
    target: str = ""
    """The model id, path or bot name."""
    options: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    """The spec as written (without the ``NAME=`` prefix)."""

    @property
    def is_bot(self) -> bool:
        return self.kind == "bot"


def _parse_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-") or "agent"


def parse_agent_spec(text: str) -> AgentSpec:
    """Parse one spec; a malformed one is a ``ValueError`` that shows the accepted forms."""
    text = text.strip()
    name = None
    named = _NAME.match(text)
    if named and ":" not in named["name"]:
        name, text = named["name"], named["spec"].strip()
    if not text:
        raise ValueError("empty agent spec")
    if text in (EMBEDDED_MODEL, "random-legal", "human"):
        kind = {"random-legal": "random-legal", "human": "human"}.get(text, "hf")
        target = EMBEDDED_MODEL if kind == "hf" else ""
        return AgentSpec(name or text, kind, target, text=text)
    kind, sep, rest = text.partition(":")
    if not sep or kind not in KINDS or not rest:
        raise ValueError(
            f"unknown agent spec {text!r}; use one of: smollm2, hf:MODEL, openai:MODEL[@BASE_URL], "
            "vllm:MODEL, bot:NAME[:key=value,...], random-legal, human (optionally NAME=SPEC)"
        )
    options: dict[str, Any] = {}
    if kind == "bot":
        target, _, option_text = rest.partition(":")
        for item in filter(None, option_text.split(",")):
            key, eq, value = item.partition("=")
            if not eq or not key:
                raise ValueError(f"bot option {item!r} in {text!r} must be key=value")
            options[key.strip()] = _parse_value(value.strip())
        default_name = target + "".join(f"-{k}={v}" for k, v in options.items())
    elif kind == "openai":
        target, at, base_url = rest.partition("@")
        if at:
            options["base_url"] = base_url
        default_name = target.rsplit("/", 1)[-1]
    else:
        target = rest
        default_name = target.rstrip("/").rsplit("/", 1)[-1]
    return AgentSpec(name or _slug(default_name), kind, target, options, text=text)


def build_policy(spec: AgentSpec, **backend_options: Any) -> Policy | BotSeat:
    """The player a spec names: a ``Policy`` for models and scripted policies, a ``BotSeat`` for bots.

    ``backend_options`` go to the model backend's constructor (``device=``, ``max_concurrency=``...)
    and are ignored by scripted agents.
    """
    if spec.kind == "bot":
        return BotSeat(spec.target, dict(spec.options))
    if spec.kind == "random-legal":
        return RandomLegalPolicy(seed=backend_options.get("seed"))
    if spec.kind == "human":
        return HumanPolicy()
    if spec.kind == "hf":
        from rlvr.agents.transformers_backend import TransformersPolicy

        return TransformersPolicy(spec.target, **_known(TransformersPolicy, backend_options))
    if spec.kind == "openai":
        from rlvr.agents.openai_backend import OpenAIPolicy

        options = {**_known(OpenAIPolicy, backend_options), **spec.options}
        return OpenAIPolicy(spec.target, **options)
    if spec.kind == "vllm":
        from rlvr.agents.vllm_backend import VLLMPolicy

        return VLLMPolicy(spec.target, **_known(VLLMPolicy, backend_options))
    raise ValueError(f"no backend for agent kind {spec.kind!r}")


def _known(cls: type, options: dict[str, Any]) -> dict[str, Any]:
    """The options ``cls``'s constructor accepts, so one set of CLI flags can serve every backend."""
    import inspect

    parameters = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(options)
    return {key: value for key, value in options.items() if key in parameters}
