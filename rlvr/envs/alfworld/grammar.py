"""Command text -> ``Command``.

ALFWorld matches a command only if it is character for character one of the admissible commands, and
its 0.4 release renamed ``put X in/on Y`` to ``move X to Y``, which silently broke prompts written for
the old wording. A model should be judged on what it does, not on such spelling, so parsing here is
tolerant: case, surrounding quotes, a leading ``>``, repeated spaces and a trailing full stop are
ignored, ``apple1`` reads as ``apple 1``, an article before a name is dropped, and both the old and
the new placing verbs are accepted. The names themselves must still be exact (``the apple 1`` is
fine, ``the red apple`` is not).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Command(NamedTuple):
    verb: str
    """One of ``VERBS``."""
    subject: str = ""
    """The first name: what is acted on (an object or receptacle)."""
    tool: str = ""
    """The second name: the receptacle taken from or put into, the appliance, or the knife."""


VERBS = ("look", "inventory", "help", "goto", "open", "close", "take", "put", "use", "heat", "clean", "cool")
VERBS += ("slice", "examine")

_SPACES = re.compile(r"\s+")
_GLUED_NUMBER = re.compile(r"(?<=[a-z])(?=\d+\b)")
_EDGES = " \t\n\r\"'`>*.!;:,"
_ARTICLE = re.compile(r"^(?:the|a|an) ")

_NAME = r"([a-z][a-z ]*?(?: \d+)?)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), verb)
    for pattern, verb in (
        (r"look(?: around)?", "look"),
        (r"(?:inventory|inv|i)", "inventory"),
        (r"help", "help"),
        (rf"go ?to {_NAME}", "goto"),
        (rf"open {_NAME}", "open"),
        (rf"close {_NAME}", "close"),
        (rf"(?:take|pick up|get) {_NAME} from {_NAME}", "take"),
        (rf"(?:move|put|place) {_NAME} (?:to|in/on|in / on|in|on|into|onto|inside) {_NAME}", "put"),
        (rf"(?:use|toggle) {_NAME}", "use"),
        (rf"heat {_NAME} (?:with|using|in) {_NAME}", "heat"),
        (rf"clean {_NAME} (?:with|using|in) {_NAME}", "clean"),
        (rf"cool {_NAME} (?:with|using|in) {_NAME}", "cool"),
        (rf"slice {_NAME} (?:with|using) {_NAME}", "slice"),
        (rf"(?:examine|look at|inspect|x) {_NAME}", "examine"),
    )
)


def normalize(text: str) -> str:
    """The canonical spelling of a command: what is compared for ``stop_on_repeat`` too."""
    text = _SPACES.sub(" ", text.lower()).strip(_EDGES)
    return _GLUED_NUMBER.sub(" ", text)


def parse(text: str) -> Command | None:
    """The command ``text`` spells, or ``None`` when it is not one (ALFWorld then says "Nothing happens.")."""
    line = normalize(text)
    if not line or len(line) > 200:
        return None
    for pattern, verb in _PATTERNS:
        match = pattern.fullmatch(line)
        if match is not None:
            groups = match.groups()
            return Command(verb, *(_ARTICLE.sub("", name.strip()) for name in groups))
    return None
