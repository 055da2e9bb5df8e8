"""The advisor half of OmniReflect: a policy (often a stronger model than the actor) turns the
reflections of a calibration run into a constitution, which env instances then read from the store.

It lives among the runners because it calls a policy, and envs may not import agents: the env side
(``rlvr.envs.reflection``) only reads and writes the store, and both sides parse replies with the same
``parse_principles``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rlvr.agents.base import Policy, PolicyError, SamplingParams
from rlvr.core.records import Message
from rlvr.envs.reflection.store import DEFAULT_SCOPE, ReflectionStore
from rlvr.envs.reflection.text import DEFAULT_MAX_PRINCIPLES, format_constitution, parse_principles

ADVISOR_SYSTEM_PROMPT = (
    "You advise an agent that solves tasks over several steps. You read the reflections it wrote "
    "after its attempts and distil them into a constitution: a few general principles that, followed "
    "from the first step of a new task, would have prevented the failures they describe."
)

ADVISOR_PROMPT = (
    "{current}Reflections from the agent's attempts:\n{reflections}\n\n"
    "Write the constitution. Prefer lessons that recur across reflections or would transfer to other "
    "tasks of the same kind; leave out details that only fit a single task; merge overlapping ones. "
    "Reply with a numbered list of at most {max_principles} principles, one short instruction each, "
    "and nothing else."
)
"""Fields: ``current`` (an existing constitution to revise, or empty), ``reflections``, ``max_principles``."""


def advisor_messages(
    reflections: Sequence[str],
    *,
    max_principles: int = DEFAULT_MAX_PRINCIPLES,
    current: Sequence[str] = (),
    system_prompt: str = ADVISOR_SYSTEM_PROMPT,
    prompt: str = ADVISOR_PROMPT,
) -> list[Message]:
    """The chat sent to the advisor: numbered reflections, and the constitution to revise, if any."""
    listed = "\n".join(
        f"{index}) {' '.join(text.split())}" for index, text in enumerate(reflections, start=1)
    )
    revise = f"The current constitution, to revise:\n{format_constitution(current)}\n\n" if current else ""
    user = prompt.format(current=revise, reflections=listed, max_principles=max_principles)
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": user}]


def build_constitution(
    policy: Policy,
    reflections: Sequence[str] | ReflectionStore,
    *,
    max_principles: int = DEFAULT_MAX_PRINCIPLES,
    sampling: SamplingParams | None = None,
    store: ReflectionStore | None = None,
    scope: str = DEFAULT_SCOPE,
    max_reflections: int | None = 200,
    current: Sequence[str] = (),
    only_successful: bool = False,
) -> list[str]:
    """Ask ``policy`` for a constitution built from ``reflections`` and save it with source "advisor".

    Arguments:
        reflections: the calibration set: texts, or a store whose reflections of ``scope`` are read
            (the newest ``max_reflections``; with ``only_successful``, only those after which the
            task was solved, where the store knows).
        store: where to save the result; defaults to ``reflections`` when that is a store. ``None``
            with a list of texts returns the principles without saving them.
        current: an existing constitution for the advisor to revise instead of starting afresh.

    Raises ``ValueError`` when there are no reflections or the reply holds no list (nothing is saved,
    so envs keep the last good version), and ``PolicyError`` when the policy reports a failed call.
    """
    if isinstance(reflections, ReflectionStore):
        store = reflections if store is None else store
        records = reflections.reflections(scope=scope, limit=max_reflections)
        texts = [record.reflection for record in records if not only_successful or record.success]
    else:
        texts = list(reflections)
    texts = [text for text in texts if text.strip()]
    if not texts:
        raise ValueError("no reflections to build a constitution from")
    messages = advisor_messages(texts, max_principles=max_principles, current=current)
    (completion, *_) = policy.generate([messages], sampling or SamplingParams(n=1))
    if completion.error is not None:
        raise PolicyError(f"the advisor's call failed: {completion.error}")
    principles = parse_principles(completion.text, max_principles)
    if not principles:
        excerpt = " ".join(completion.text.split())[:200]
        raise ValueError(f"the advisor's reply holds no numbered or bulleted principles: {excerpt!r}")
    if store is not None:
        store.save_constitution(principles, source="advisor", scope=scope)
    return principles
