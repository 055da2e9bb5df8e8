"""A procedurally generated encyclopedia of a fictional world, with questions answered from it.

``generate_world(seed)`` invents a world of countries, cities, rivers and mountains, people (birth and
death dates and places, parents, spouses, schooling, employers, offices), companies, universities and
bands, and the books, films and albums they made and the prizes those won. Names come from syllable
generators, so nothing in it exists anywhere else and no model can answer from memory, and the facts
are kept consistent: people are born in cities that already exist, to parents alive at the birth;
founders are adults at the founding; a capital lies in its country; office holders are alive. Each
entity has a Wikipedia-style article in varied template prose that names linked entities by their
exact titles and mixes in facts about neighbours (a father's birthplace, a nearby city's founding
year, a namesake), so that only the right passage answers a question. ``World.documents()`` streams
the articles cut into passages of at most 120 words (ids ``"<slug>#<n>"``): the offline default
corpus of ``rlvr/WebSearch-v0``. ``World.article(slug, title or url)`` returns a whole article, as
fetching its URL would, and ``World.write_corpus(path)`` writes the ``{id, title, contents, url}``
JSONL that the local index and FlashRAG read.

``World.questions(n, seed=..., hops=...)`` draws questions whose answers are computed from the world:
one hop ("In which city was Teawyn Wyprai born?"), chains of two or three ("How many people live in
the place of death of the author of Island of Praillow?") and comparisons ("Who was born first, A or
B?"). A ``Question`` carries every accepted surface form of its answer (``"25 June 1957"`` and
``"June 25, 1957"``), its hop count, its template (``kind``, e.g. ``"founder_of_employer"``) and the
ids of the passages that support each hop; each one is checked to be unambiguous, not answerable
from its own wording, and to have its answers in those passages. ``write_questions`` saves them as
FlashRAG JSONL. Everything is a pure function of the seeds, with no hash-order or platform-dependent
arithmetic: the same seed gives byte-identical passages and questions. Sizes: ``"tiny"`` (~200
passages, for tests), ``"default"`` (~3,000), or an int for about that many passages (a million
takes one to two minutes on one core).
"""

from __future__ import annotations

from rlvr.envs.search.world.model import WorldConfig
from rlvr.envs.search.world.questions import Question, write_questions
from rlvr.envs.search.world.world import URL_PREFIX, World, generate_world

WORLD_VERSION = 1
"""Bumped whenever generation changes what a seed produces, so cached indexes of old worlds are rebuilt."""

__all__ = [
    "URL_PREFIX",
    "WORLD_VERSION",
    "Question",
    "World",
    "WorldConfig",
    "generate_world",
    "write_questions",
]
