r"""What the env is given out of a model's reply: think-stripping, then an optional answer extractor.

Reasoning models write ``<think>...</think>`` before answering. The trajectory keeps the full text (the
learner trains on every token), but the env should judge only the answer, so by default it gets
``strip_think(completion.text)``. Some env families want a narrower cut of that answer (the last
``\boxed{}`` of a math reply); ``ActionExtractor`` names that choice and ``extractor_for`` picks a
default per env family.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)
_BRACKET_TAG = re.compile(r"\[[^\[\]\n]+\]")
_FENCED_BLOCK = re.compile(r"^[ \t]*```[^\n`]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
_BOXED = "\\boxed{"


def strip_think(text: str) -> str:
    """The answer part of ``text``: every ``<think>...</think>`` block removed, whitespace trimmed.

    Two unbalanced cases come up in practice and both count as thinking:

    * an orphan ``</think>`` (chat templates such as Qwen3's or DeepSeek-R1's put the opening
      ``<think>`` in the prompt, so the completion starts mid-thought): everything up to and
      including the last orphan ``</think>`` is dropped;
    * an unclosed ``<think>`` (the model ran out of tokens while reasoning): everything from it to
      the end is dropped, so a reply that never stopped thinking gives an empty answer, which the env
      treats as an invalid move rather than mistaking reasoning for a move.

    Nested-looking blocks (``<think>a <think>b</think> c</think> d``) reduce to ``d``: the innermost
    pairing removes ``<think>a <think>b</think>``, and the leftover ``</think>`` is an orphan.
    Tags are matched case-insensitively.
    """
    answer = _THINK_BLOCK.sub("", text)
    closes = list(_THINK_CLOSE.finditer(answer))
    if closes:
        answer = answer[closes[-1].end() :]
    opening = _THINK_OPEN.search(answer)
    if opening:
        answer = answer[: opening.start()]
    return answer.strip()


def last_bracket_tag(text: str) -> str | None:
    """The last ``[x]`` on one line, brackets included (``"[4]"``), as the games' moves are written."""
    tags = _BRACKET_TAG.findall(text)
    return tags[-1] if tags else None


def last_boxed(text: str) -> str | None:
    r"""The content of the last ``\boxed{...}``, with nested braces (``\boxed{\frac{1}{2}}``).

    An unbalanced last box (a truncated reply) is skipped in favour of the previous complete one.
    """
    start = text.rfind(_BOXED)
    while start != -1:
        depth = 0
        for index in range(start + len(_BOXED) - 1, len(text)):
            if text[index] == "{":
                depth += 1
            elif text[index] == "}":
                depth -= 1
                if depth == 0:
                    return text[start + len(_BOXED) : index].strip()
        start = text.rfind(_BOXED, 0, start)
    return None


def last_fenced_block(text: str) -> str | None:
    """The body of the last complete fenced block (```` ```lang ... ``` ````), without the fences."""
    blocks = _FENCED_BLOCK.findall(text)
    return blocks[-1] if blocks else None


def identity(text: str) -> str:
    """The whole text: for envs that parse the answer themselves."""
    return text


@dataclass(frozen=True)
class ActionExtractor:
    """Completion text -> the action string the env receives.

    Arguments:
        name: for logs and reports.
        find: picks the answer out of the (think-stripped) text; ``None`` means nothing found.
        strip_think: drop reasoning first (see ``strip_think``); off for envs that grade reasoning.
        fallback_to_text: when ``find`` finds nothing, give the env the whole text (so it can reply
            with its own "no move found" message) rather than an empty string.
    """

    name: str
    find: Callable[[str], str | None]
    strip_think: bool = True
    fallback_to_text: bool = True

    def __call__(self, completion_text: str) -> str:
        text = strip_think(completion_text) if self.strip_think else completion_text
        found = self.find(text)
        if found is not None:
            return found
        return text if self.fallback_to_text else ""


IDENTITY = ActionExtractor("identity", identity)
LAST_BRACKET_TAG = ActionExtractor("last_bracket_tag", last_bracket_tag)
LAST_BOXED = ActionExtractor("last_boxed", last_boxed)
LAST_FENCED_BLOCK = ActionExtractor("last_fenced_block", last_fenced_block)

EXTRACTORS: dict[str, ActionExtractor] = {
    extractor.name: extractor for extractor in (IDENTITY, LAST_BRACKET_TAG, LAST_BOXED, LAST_FENCED_BLOCK)
}

_BY_TAG: tuple[tuple[str, ActionExtractor], ...] = (
    # Games parse moves tolerantly themselves (last [x] or \boxed{x}, or a bare move; see
    # rlvr.core.parsing) and explain a bad reply to the model, so they get the whole answer.
    ("game", IDENTITY),
    # CodeJudge extracts the fenced program itself and reports "no code block" as feedback.
    ("code", IDENTITY),
    # Math-style envs grade the final boxed answer.
    ("math", LAST_BOXED),
)


def extractor_for(env_id_or_tags: str | Iterable[str]) -> ActionExtractor:
    """The default extractor for an env id (looked up in the registry) or a set of its tags.

    The first matching tag in the table above decides; an env with none of them gets ``identity``
    (think-stripped), the safe choice for any env that parses its own input.
    """
    if isinstance(env_id_or_tags, str):
        from rlvr.core.registry import get_entry

        tags = set(get_entry(env_id_or_tags).tags)
    else:
        tags = set(env_id_or_tags)
    for tag, extractor in _BY_TAG:
        if tag in tags:
            return extractor
    return IDENTITY
