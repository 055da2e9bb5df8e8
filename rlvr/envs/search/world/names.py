"""Pronounceable fictional names, drawn in bulk from a few syllable "languages".

Each country speaks one of ``PHONOLOGIES``, and the people and places born there take their names from
it, so a reader can tell a Kelmish town from an Oskari one the way one tells Dutch from Italian names.
Names are assembled from onset, vowel and coda inventories rather than picked from a list, which gives
hundreds of thousands of distinct names without shipping any, and none of them is a real person or
place that a model could know.

Uniqueness is the caller's business through ``Registry``: titles must be unique across the whole
world (questions name their subject by title), so every title is claimed there before it is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Phonology:
    """The sound inventory of one fictional language, plus the endings its names take."""

    onsets: tuple[str, ...]
    nuclei: tuple[str, ...]
    codas: tuple[str, ...]
    place_endings: tuple[str, ...]
    country_endings: tuple[str, ...]
    language_endings: tuple[str, ...]
    feminine_endings: tuple[str, ...]
    masculine_endings: tuple[str, ...]
    surname_endings: tuple[str, ...]


PHONOLOGIES: tuple[Phonology, ...] = (
    Phonology(  # harsh, northern: Kelmar, Brodsten, Varnholt
        onsets=(
            "b",
            "d",
            "g",
            "k",
            "l",
            "m",
            "n",
            "r",
            "s",
            "t",
            "v",
            "br",
            "dr",
            "gr",
            "kr",
            "st",
            "sk",
            "th",
        ),
        nuclei=("a", "e", "i", "o", "u", "a", "ei", "y"),
        codas=("n", "r", "l", "s", "k", "rn", "nd", "st", "m", "th"),
        place_endings=("holt", "mar", "sten", "vik", "dal", "by", "gard", ""),
        country_endings=("land", "mark", "heim", "ria"),
        language_endings=("ish", "ic"),
        feminine_endings=("a", "e", "ild", "ny"),
        masculine_endings=("", "ar", "ulf", "en"),
        surname_endings=("sen", "son", "berg", "strom", ""),
    ),
    Phonology(  # soft, southern: Belassa, Corvino, Ferada
        onsets=("b", "c", "d", "f", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "g"),
        nuclei=("a", "e", "i", "o", "u", "ia", "io", "ea"),
        codas=("n", "r", "l", "s"),
        place_endings=("ssa", "no", "ra", "zia", "etto", ""),
        country_endings=("ia", "ora", "ana", "esca"),
        language_endings=("ese", "an"),
        feminine_endings=("a", "ina", "etta", "ella"),
        masculine_endings=("o", "io", "ano", "ello"),
        surname_endings=("i", "ini", "ari", "one", ""),
    ),
    Phonology(  # clipped, eastern: Tsomar, Kashiro, Yunzek
        onsets=("k", "kh", "t", "ts", "s", "sh", "m", "n", "r", "y", "z", "d", "h"),
        nuclei=("a", "i", "o", "u", "e", "ai"),
        codas=("n", "m", "r", "sh", "k"),
        place_endings=("abad", "ek", "iro", "an", "oy", ""),
        country_endings=("istan", "ai", "esh", "ura"),
        language_endings=("i", "ese"),
        feminine_endings=("a", "i", "ya", "eni"),
        masculine_endings=("", "an", "ur", "ek"),
        surname_endings=("ov", "ani", "ek", "uri", ""),
    ),
    Phonology(  # lilting, western: Wenlow, Halloran, Merryth
        onsets=("w", "h", "l", "m", "n", "r", "s", "t", "g", "br", "gl", "pr", "c", "f"),
        nuclei=("a", "e", "o", "y", "ou", "ea", "ai"),
        codas=("n", "ll", "th", "r", "wyn", "dd", "s"),
        place_endings=("low", "ford", "mere", "wick", "ton", ""),
        country_endings=("ydd", "aven", "oria", "ester"),
        language_endings=("ish", "ic"),
        feminine_endings=("a", "wen", "eth", "y"),
        masculine_endings=("", "an", "ry", "wyn"),
        surname_endings=("", "s", "ley", "more", "ock"),
    ),
)

_SOFT_CODAS = ("n", "l", "r", "s")
"""Codas allowed inside a word; heavier clusters only close it, so names stay sayable."""

FORBIDDEN = frozenset({"the", "and", "an", "a", "of", "in", "on", "or", "is", "was"})
"""Words a name must not be: answer normalisation (SQuAD) drops articles, and a name that vanished
there would break the check that an answer appears in its passage."""


def stems(rng: np.random.Generator, phonology: Phonology, n: int, syllables: tuple[int, int]) -> list[str]:
    """``n`` lower-case word stems of ``syllables`` (min, max) syllables each, drawn in one batch."""
    low, high = syllables
    counts = rng.integers(low, high + 1, size=n).tolist()
    onsets = rng.integers(0, len(phonology.onsets), size=(n, high)).tolist()
    nuclei = rng.integers(0, len(phonology.nuclei), size=(n, high)).tolist()
    medial = (rng.random(size=(n, high)) < 0.25).tolist()
    medial_codas = rng.integers(0, len(_SOFT_CODAS), size=(n, high)).tolist()
    finals = rng.integers(0, len(phonology.codas) * 2, size=n).tolist()
    on, nu, co = phonology.onsets, phonology.nuclei, phonology.codas
    words = []
    for k in range(n):
        parts = []
        count = counts[k]
        for s in range(count):
            parts.append(on[onsets[k][s]])
            parts.append(nu[nuclei[k][s]])
            if s < count - 1 and medial[k][s]:
                parts.append(_SOFT_CODAS[medial_codas[k][s]])
        final = finals[k]
        if final < len(co):  # about half the words end on a consonant
            parts.append(co[final])
        words.append("".join(parts))
    return words


def with_endings(rng: np.random.Generator, words: Sequence[str], endings: Sequence[str]) -> list[str]:
    """Each word with one of ``endings`` appended (vowel clashes merged) and capitalised."""
    picks = rng.integers(0, len(endings), size=len(words)).tolist()
    out = []
    for word, pick in zip(words, picks, strict=True):
        ending = endings[pick]
        if ending and word and (word[-1] == ending[0] or (word[-1] in "aeiouy" and ending[0] in "aeiouy")):
            word = word[:-1]
        out.append((word + ending).capitalize())
    return out


class Registry:
    """Every name in use, so that titles (and the words answers are made of) never repeat.

    Membership only: the registry is never iterated, which keeps generation independent of hash order.
    """

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._taken

    def claim(self, name: str) -> bool:
        """Take ``name`` if it is free and usable; False when it is not (the caller tries another)."""
        key = name.lower()
        if key in self._taken or key in FORBIDDEN or len(key) < 3:
            return False
        self._taken.add(key)
        return True

    def unique(self, n: int, draw: Callable[[int], list[str]]) -> list[str]:
        """``n`` fresh names from repeated batches of ``draw(size)``, claimed in draw order."""
        out: list[str] = []
        attempts = 0
        while len(out) < n:
            attempts += 1
            if attempts > 60:
                raise RuntimeError(f"ran out of distinct names after {len(out)} of {n}")
            for name in draw(max(8, (n - len(out)) * 5 // 4)):
                if len(out) < n and self.claim(name):
                    out.append(name)
        return out


# Words for the English-looking titles of works, bands and awards; combined with generated names
# and places they give far more titles than any world needs.
ADJECTIVES = (
    "Silent",
    "Golden",
    "Broken",
    "Northern",
    "Last",
    "Hollow",
    "Crimson",
    "Distant",
    "Quiet",
    "Burning",
    "Hidden",
    "Pale",
    "Endless",
    "Iron",
    "Lonely",
    "Velvet",
    "Wild",
    "Bitter",
    "Frozen",
    "Secret",
    "Scarlet",
    "Gentle",
    "Restless",
    "Forgotten",
    "Narrow",
    "Bright",
    "Salt",
    "Silver",
    "Winter",
    "Amber",
    "Drowned",
    "Painted",
    "Sleeping",
    "Western",
    "Little",
    "Glass",
    "Copper",
    "Falling",
    "Open",
    "Long",
)
NOUNS = (
    "Harbour",
    "Lantern",
    "Orchard",
    "Tide",
    "Garden",
    "Mirror",
    "Bridge",
    "Meadow",
    "Tower",
    "Shore",
    "Engine",
    "Compass",
    "Season",
    "Letter",
    "Voyage",
    "Island",
    "Kingdom",
    "Archive",
    "Forest",
    "Anchor",
    "Window",
    "Feather",
    "Harvest",
    "Crown",
    "Station",
    "Summer",
    "Valley",
    "Chorus",
    "Ember",
    "Horizon",
    "Signal",
    "Cathedral",
    "Ledger",
    "Frontier",
    "Lighthouse",
    "Carnival",
    "Requiem",
    "Atlas",
    "Orbit",
    "Gate",
)
PLURALS = (
    "Lanterns",
    "Foxes",
    "Ravens",
    "Engines",
    "Sparrows",
    "Tides",
    "Mirrors",
    "Wolves",
    "Comets",
    "Bells",
    "Orchards",
    "Sailors",
    "Shadows",
    "Kites",
    "Hounds",
    "Pilgrims",
    "Echoes",
    "Owls",
    "Clocks",
    "Storms",
)
