"""The tag protocol of search agents: ``<search>``, ``<open>`` (ASearcher's ``<access>``) and ``<answer>``.

Search-R1 stops generation at the first closing tool tag, so the *first* complete tag in a reply is
the call and anything after it was never meant to be seen; we keep that rule for models trained
without a stop sequence. ``<think>`` blocks are removed before looking, so a tag quoted while
reasoning is not a call.
"""

from __future__ import annotations

from rlvr.core.parsing import first_tagged_call
from rlvr.envs.tool_use import ToolCall

TOOLS = ("search", "open", "answer")
_ALIASES = {"access": "open"}
_CALLS = ("search", "open", "access", "answer")
_PROTOCOL_TAGS = (*_CALLS, "think", "information")


def parse_call(reply: str) -> ToolCall | None:
    """The first complete tool tag in ``reply``, or ``None`` when it has none."""
    found = first_tagged_call(reply, _CALLS, _PROTOCOL_TAGS)
    if found is None:
        return None
    tool, argument, well_formed = found
    return ToolCall(_ALIASES.get(tool, tool), argument, well_formed)


def describe_protocol(*, can_open: bool, top_k: int) -> str:
    """The rules as the agent reads them (the env's instructions and its reply to an invalid action)."""
    lines = [
        "You answer questions by searching. Think inside <think> and </think> whenever you like. "
        "Each reply must then make exactly one call:",
        f"- <search>query</search> searches and returns the top {top_k} results between "
        "<information> and </information>;",
    ]
    if can_open:
        lines.append(
            "- <open>N</open> reads the page behind result N of your last search (or <open>id or "
            "url</open>); a long page comes in parts, and opening it again shows the next part;"
        )
    lines.append(
        "- <answer>your answer</answer> ends the episode. Give only the answer itself, as short as "
        "possible, e.g. <answer>Lake Orvani</answer>."
    )
    return "\n".join(lines)
