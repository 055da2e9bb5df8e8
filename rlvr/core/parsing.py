"""Tolerant extraction of a discrete move from free text.

Models wrap moves in many ways: ``[bet]``, ``Bet``, ``\\boxed{bet}``, or a paragraph of reasoning that
mentions several moves before committing to one. The rule, shared by every game: the *last* tagged
occurrence wins (``[x]`` or ``\\boxed{x}``, case-insensitive); when there is no tag at all, a reply
that is nothing but the move (give or take quotes, spaces and final punctuation) counts too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_TAG = re.compile(r"\[\s*([^\[\]\n]{1,64}?)\s*\]|\\boxed\{\s*([^{}\n]{1,64}?)\s*\}")
_BARE_STRIP = " \t\r\n'\"`.!*"


def _canonical(text: str) -> str:
    return " ".join(text.split()).casefold()


@lru_cache(maxsize=256)
def _choice_map(choices: tuple[str, ...]) -> dict[str, str]:
    """Canonical spelling -> move; games pass the same few tuples on every move, so cache them."""
    return {_canonical(choice): choice for choice in choices}


@lru_cache(maxsize=256)
def _exact_tag_map(choices: tuple[str, ...]) -> dict[str, str]:
    return {f"[{choice}]": choice for choice in choices}


def tagged_moves(text: str) -> list[str]:
    """Every ``[x]`` / ``\\boxed{x}`` payload in order of appearance, whitespace-normalised."""
    return [" ".join((m.group(1) or m.group(2) or "").split()) for m in _TAG.finditer(text)]


def extract_choice(text: str, choices: Iterable[str]) -> str | None:
    """The move among ``choices`` that ``text`` commits to, or ``None``.

    ``choices`` are the game's move names without brackets (``"bet"``, ``"4"``); the return value is
    the matching element of ``choices`` itself, so callers can compare with ``==``.
    """
    key = choices if isinstance(choices, tuple) else tuple(choices)
    exact = _exact_tag_map(key).get(text)
    if exact is not None:  # the common, well-formed reply "[bet]": one dict look-up
        return exact
    by_key = _choice_map(key)
    if len(text) <= 66 and text[:1] == "[" and text[-1:] == "]" and text.count("[") == text.count("]") == 1:
        # The common well-formed reply, "[bet]": one tag and nothing else, so no regex needed.
        return by_key.get(_canonical(text[1:-1]))
    for payload in reversed(tagged_moves(text)):
        found = by_key.get(_canonical(payload))
        if found is not None:
            return found
    return by_key.get(_canonical(text.strip(_BARE_STRIP)))


def last_tagged_payload(text: str) -> str | None:
    """The last ``[x]`` / ``\\boxed{x}`` payload, whatever it says (for error messages)."""
    moves = tagged_moves(text)
    return moves[-1] if moves else None


_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)


def strip_think_blocks(text: str) -> str:
    """``text`` without ``<think>...</think>`` blocks (an unclosed one runs to the end).

    The env-side cut, for envs that parse tags themselves; agents' ``strip_think`` also trims and
    handles orphan ``</think>`` tags, but envs may not import agents.
    """
    return _THINK_BLOCK.sub("", text)


@lru_cache(maxsize=32)
def _call_patterns(
    calls: tuple[str, ...], protocol_tags: tuple[str, ...]
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    call = re.compile(rf"<({'|'.join(calls)})>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
    any_tag = re.compile(rf"</?({'|'.join(protocol_tags)})>", re.IGNORECASE)
    return call, any_tag


def first_tagged_call(
    reply: str, calls: tuple[str, ...], protocol_tags: tuple[str, ...]
) -> tuple[str, str, bool] | None:
    """``(tag, content, well_formed)`` of the first complete ``<tag>content</tag>`` among ``calls``
    outside ``<think>`` blocks, or ``None``.

    The first one counts because agents trained with a stop sequence never generate past it.
    ``well_formed``: nothing but whitespace outside the tag, and no ``protocol_tags`` inside it.
    The tag name comes back lowercased, the content stripped.
    """
    visible = strip_think_blocks(reply)
    call, any_tag = _call_patterns(calls, protocol_tags)
    match = call.search(visible)
    if match is None:
        return None
    outside = visible[: match.start()] + visible[match.end() :]
    well_formed = not outside.strip() and any_tag.search(match.group(2)) is None
    return match.group(1).lower(), match.group(2).strip(), well_formed
