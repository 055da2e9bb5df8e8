"""The prompts of the reflection turns, and the parsing of what the agent answers to them.

Kept apart from the env so that the advisor in ``rlvr.runners.constitution`` (which may not be imported
by envs, but may import them) reads constitutions with exactly the parser the self-curating env uses:
a principle list that parses one way offline and another way online would be two different rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rlvr.core.parsing import strip_think_blocks

DEFAULT_MAX_PRINCIPLES = 10
MAX_PRINCIPLE_CHARS = 400
"""A principle is one sentence of advice; a longer item is a model rambling, and it would be shown at
the start of every task from then on."""

REFLECTION_PROMPT = (
    "Trial {trial} of {max_trials} is over: {outcome}\n\n"
    "Before the next attempt, reflect on this one. In a few sentences, work out what most likely made "
    "it fail, then write a short, high-level plan that avoids that mistake next time, naming the "
    "concrete actions you should take differently. Do not retell what happened; state the lesson. "
    "Reply with the reflection only: it will be shown to you when you try again."
)
"""The default reflection turn. Fields: ``trial``, ``max_trials``, ``trials_left``, ``outcome``."""

CURATION_PROMPT = (
    "Before the next task, update your constitution: the short list of principles you are shown at the "
    "start of every task.\n\n"
    "{constitution}\n\n"
    "Reflections written after recent trials:\n{reflections}\n\n"
    "Rewrite the constitution. Keep the principles these reflections support, correct or drop the ones "
    "they contradict, and add lessons that would help on other tasks of this kind, not only on the task "
    "they came from. Reply with a numbered list of at most {max_principles} principles, one short "
    "instruction each, and nothing else."
)
"""The default self-curation turn. Fields: ``constitution``, ``reflections``, ``max_principles``."""

_ITEM = re.compile(
    r"""^\s*(?:\*\*|__)?             # a bold marker: **1.** text
    (?: \(?\d{1,3}[.):\]]            # 1.  1)  (1)  1:  1]
      | [-*•+‣▪–]                    # bullets
      | (?:principle|rule)\s*\#?\d{1,3}\s*[.:)\-–]?   # Principle 3:
    )(?:\*\*|__)?(?:\s+(?P<text>.*))?$""",
    re.IGNORECASE | re.VERBOSE,
)
_EMPHASIS = re.compile(r"^(\*\*|__)(.+?)\1")


def strip_think(text: str) -> str:
    """Drop ``<think>`` blocks (an unclosed one runs to the end): reasoning is not a principle."""
    return strip_think_blocks(text)


def _clean(item: str, limit: int) -> str:
    item = " ".join(item.split())
    item = _EMPHASIS.sub(r"\2", item).strip()
    if len(item) > limit:
        item = item[: limit - 3].rstrip() + "..."
    return item


def parse_principles(
    text: str, max_principles: int = DEFAULT_MAX_PRINCIPLES, *, max_chars: int = MAX_PRINCIPLE_CHARS
) -> list[str]:
    """The principles of a numbered or bulleted list in ``text``, in order, at most ``max_principles``.

    Only list items count: a reply without any (a refusal, a paragraph of prose) gives ``[]``, which
    callers read as "keep the old constitution", rather than promoting chatter to a rule shown on
    every task. Lines before the first item (a "Here is the list:" preamble) are skipped; a non-item
    line after an item continues it, up to a blank line. Duplicates (case-insensitive) are dropped.
    """
    if max_principles < 1:
        raise ValueError(f"max_principles must be >= 1, got {max_principles}")
    items: list[str] = []
    open_item = False
    for line in strip_think(text).splitlines():
        match = _ITEM.match(line)
        if match is not None:
            items.append(match["text"] or "")
            open_item = True
        elif not line.strip() or line.lstrip().startswith("#"):
            open_item = False
        elif open_item:
            items[-1] = f"{items[-1]} {line.strip()}"
    principles: list[str] = []
    seen: set[str] = set()
    for item in items:
        cleaned = _clean(item, max_chars)
        key = cleaned.casefold()
        if cleaned and key not in seen:
            seen.add(key)
            principles.append(cleaned)
        if len(principles) == max_principles:
            break
    return principles


def format_constitution(principles: Iterable[str]) -> str:
    """``1. ...`` lines; what ``parse_principles`` reads back unchanged. Empty for no principles."""
    return "\n".join(f"{index}. {principle}" for index, principle in enumerate(principles, start=1))


def format_memory(reflections: Sequence[str], *, first_trial: int = 1) -> str:
    """Reflexion's memory block: ``Your memory:`` then ``Trial k: <reflection>`` per reflection.

    ``first_trial`` numbers the first one, so that a window over the last few reflections still names
    the trials they were written after. Empty for no reflections.
    """
    if not reflections:
        return ""
    lines = ["Your memory (your reflections after earlier trials of this task):"]
    for offset, reflection in enumerate(reflections):
        lines.append(f"Trial {first_trial + offset}: {reflection.strip() or '(no reflection given)'}")
    return "\n".join(lines)


def constitution_block(principles: Sequence[str]) -> str:
    """The constitution as shown to the agent at the start of a task."""
    if not principles:
        return ""
    return (
        "Your constitution (principles learned from earlier tasks; follow them):\n"
        f"{format_constitution(principles)}"
    )
