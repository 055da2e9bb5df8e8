"""Text spaces that accept what an LLM can actually emit.

``gymnasium.spaces.Text`` only admits characters from a fixed charset (alphanumerics by default), so a
model's reply with brackets, newlines or emoji would fall outside the declared space. ``UnicodeText``
keeps ``Text`` as its base class (tools that special-case text spaces still recognise it) but admits
any Unicode string up to ``max_length`` characters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.spaces import Text

DEFAULT_MAX_LENGTH = 1_000_000
"""Long enough for a reasoning model's whole reply; longer actions are treated as invalid moves."""

_SAMPLE_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 []{}<>\\/.,:;!?-_'\"\n\téüßøΩЖ中文字🙂"
)


class UnicodeText(Text):
    """Any ``str`` of at most ``max_length`` characters (empty included)."""

    def __init__(self, max_length: int = DEFAULT_MAX_LENGTH, *, seed: Any = None) -> None:
        super().__init__(max_length=max_length, min_length=0, charset=_SAMPLE_ALPHABET, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A short random string: good for fuzzing, almost never a legal move."""
        length = int(self.np_random.integers(0, min(self.max_length, 64) + 1))
        indices = self.np_random.integers(0, len(_SAMPLE_ALPHABET), size=length)
        return "".join(_SAMPLE_ALPHABET[i] for i in np.asarray(indices, dtype=int))

    def __repr__(self) -> str:
        return f"UnicodeText(max_length={self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnicodeText) and other.max_length == self.max_length

    def __hash__(self) -> int:
        return hash(("UnicodeText", self.max_length))


class TextObservation(str):
    """A ``str`` that also answers ``.dtype`` like the ``Text`` space it belongs to.

    PettingZoo's ``api_test`` assumes numpy observations and compares ``observation.dtype`` with the
    space's ``dtype``; a plain ``str`` has none. Everything else sees an ordinary string.
    """

    __slots__ = ()
    dtype = np.dtype(str)
