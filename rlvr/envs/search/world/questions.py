"""Questions whose answers are computed from the world, with the passages that support each hop.

A chain question walks functional relations from a start entity ("the founder of X" -> "where was
that person born"), so its answer is unique by construction; a comparison asks which of two entities
has the larger or earlier value. Every candidate is checked before it is kept: the answer must not be
readable off the question, no entity may repeat along the chain, and every golden answer, like every
intermediate entity's title, must occur in the passages cited for it. A candidate that fails is
dropped rather than repaired, so what comes out is verifiable by the same string test a reward uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rlvr.envs.search.answers import normalize_answer
from rlvr.envs.search.world.articles import dmy, mdy
from rlvr.envs.search.world.model import KINDS
from rlvr.envs.search.world.relations import BY_DOMAIN, BY_KEY, Relation

if TYPE_CHECKING:
    from rlvr.envs.search.world.world import World


@dataclass(frozen=True)
class Question:
    """One question, FlashRAG-style, with what a grader or an analysis needs to know about it."""

    id: str
    question: str
    golden_answers: tuple[str, ...]
    """Every acceptable surface form (a date in two orders, a number with and without separators)."""
    hops: int
    kind: str
    """The template: a relation name ("birthplace"), a chain read outwards
    ("capital_of_country_of_birthplace"),
    or a comparison ("who_was_born_first")."""
    supporting_ids: tuple[str, ...]
    """Ids of the passages that state the facts needed, in hop order."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "golden_answers": list(self.golden_answers),
            "metadata": {"hops": self.hops, "kind": self.kind, "supporting_ids": list(self.supporting_ids)},
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Question:
        meta = record.get("metadata", {})
        return cls(
            id=str(record["id"]),
            question=record["question"],
            golden_answers=tuple(record["golden_answers"]),
            hops=int(meta.get("hops", 1)),
            kind=str(meta.get("kind", "")),
            supporting_ids=tuple(meta.get("supporting_ids", ())),
        )


def write_questions(questions: Iterable[Question], path: str | Path) -> int:
    """Write FlashRAG's JSONL (``id``, ``question``, ``golden_answers``, ``metadata``); returns the count."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for question in questions:
            out.write(json.dumps(question.to_json(), ensure_ascii=False) + "\n")
            count += 1
    return count


def normalize(text: str) -> str:
    """SQuAD's normalisation (the env's, so a checked answer is one the reward accepts), padded with
    spaces so that ``normalize(answer) in normalize(text)`` matches whole words."""
    return f" {normalize_answer(text)} "


@dataclass(frozen=True)
class Comparison:
    """Which of two entities of one kind has the earlier (or larger) value of a relation."""

    kind: str
    domains: tuple[str, ...]
    relation: str
    larger_wins: bool
    asks: tuple[str, ...]


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("who_was_born_first", ("person",), "birth_date", False,
               ("Who was born first, {a} or {b}?", "Which of {a} and {b} was born earlier?")),
    Comparison("which_was_founded_first", ("company", "university", "band", "city", "country"),
               "founding_year", False,
               ("Which was founded first, {a} or {b}?", "Which is older, {a} or {b}?")),
    Comparison("which_city_is_larger", ("city",), "population", True,
               ("Which city has the larger population, {a} or {b}?",
                "Which has more inhabitants, {a} or {b}?")),
    Comparison("which_mountain_is_higher", ("mountain",), "height", True,
               ("Which mountain is higher, {a} or {b}?", "Which is taller, {a} or {b}?")),
    Comparison("which_river_is_longer", ("river",), "length", True, ("Which river is longer, {a} or {b}?",)),
    Comparison("which_came_out_first", ("book", "film", "album"), "release_year", False,
               ("Which came out first, {a} or {b}?", "Which was released earlier, {a} or {b}?")),
)  # fmt: skip

_CHAIN_STARTS = tuple(kind for kind in KINDS if BY_DOMAIN[kind])
_LINK_STARTS = tuple(kind for kind in KINDS if any(r.links for r in BY_DOMAIN[kind]))


def answers_for(world: World, relation: Relation, value: int | str) -> tuple[str, ...]:
    """Every surface form of ``value`` that the articles print (and a grader should accept)."""
    target = relation.target
    if isinstance(value, str):
        return (value,)
    if target in KINDS:
        return (world.model.table(target).name[value],)
    if target == "date":
        return (dmy(value), mdy(value))
    if target == "year":
        return (str(value),)
    unit = {"metres": " metres", "kilometres": " kilometres"}.get(target)
    if unit is not None:
        return (f"{value:,}{unit}", f"{value:,}")
    return (f"{value:,}", str(value)) if value >= 1000 else (str(value),)


class QuestionSampler:
    """Draws verified questions from one world with one generator."""

    def __init__(self, world: World, rng: np.random.Generator) -> None:
        self.world = world
        self.model = world.model
        self.rng = rng
        self._normalized: dict[str, str] = {}

    def _choose(self, options: Sequence[Any]) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def _mention(self, kind: str, index: int) -> str:
        title = self.model.table(kind).name[index]
        return "the " + title if kind in ("river", "award") else title

    def _tense(self, kind: str, index: int) -> dict[str, str]:
        dead = kind == "person" and self.model.people.death[index] >= 0
        return {"be": "was" if dead else "is", "did": "did" if dead else "does"}

    def _support(self, kind: str, index: int, tag: str) -> list[str] | None:
        _, facts = self.world.passages(kind, index)
        found = facts.get(tag)
        if not found:
            return None
        slug = self.world.slug(kind, index)
        return [f"{slug}#{n}" for n in found]

    def chain(self, hops: int) -> Question | None:
        """A question walking ``hops`` relations from a random entity, or None when the walk fails."""
        kind = self._choose(_LINK_STARTS if hops > 1 else _CHAIN_STARTS)
        index = int(self.rng.integers(self.model.count(kind)))
        path = [(kind, index)]
        relations: list[Relation] = []
        value: int | str = -1
        for step in range(hops):
            last = step == hops - 1
            options = [r for r in BY_DOMAIN[kind] if last or r.links]
            order = self.rng.permutation(len(options)).tolist()
            chosen = None
            for k in order:
                relation = options[k]
                value = relation.get(self.model, index)
                if value == -1 or value == "":
                    continue
                if relation.links and (relation.target, value) in path:
                    continue
                chosen = relation
                break
            if chosen is None:
                return None
            relations.append(chosen)
            if chosen.links:
                assert isinstance(value, int)
                path.append((chosen.target, value))
                kind, index = chosen.target, value
        final = relations[-1]
        answers = answers_for(self.world, final, value)
        text = self._mention(*path[0])
        for relation, (kind, index) in zip(relations[:-1], path, strict=False):
            text = self._choose(relation.phrases).format_map({"x": text, **self._tense(kind, index)})
        asked = path[len(relations) - 1]
        question = self._choose(final.asks).format_map({"x": text, **self._tense(*asked)})
        question = question[0].upper() + question[1:]
        support: list[list[str]] = []
        for relation, (kind, index) in zip(relations, path, strict=False):
            ids = self._support(kind, index, relation.name)
            if ids is None:
                return None
            support.append(ids)
        normalized_question = normalize(question)
        if any(normalize(a) in normalized_question for a in answers):
            return None
        if not self._verified(support, answers, [self.model.table(k).name[i] for k, i in path[1:]]):
            return None
        name = "_of_".join(r.name for r in reversed(relations))
        start_kind, start = path[0]
        return Question(
            id=f"{name}/{self.world.slug(start_kind, start)}",
            question=question,
            golden_answers=answers,
            hops=hops,
            kind=name,
            supporting_ids=_flatten(support),
        )

    def comparison(self) -> Question | None:
        """A two-hop comparison of two entities of one kind, or None when the draw fails."""
        spec: Comparison = self._choose(COMPARISONS)
        kind = self._choose(spec.domains)
        relation = BY_KEY[(kind, spec.relation)]
        count = self.model.count(kind)
        if count < 2:
            return None
        a, b = (int(v) for v in self.rng.choice(count, size=2, replace=False))
        value_a, value_b = relation.get(self.model, a), relation.get(self.model, b)
        if value_a == -1 or value_b == -1 or value_a == value_b:
            return None
        assert isinstance(value_a, int) and isinstance(value_b, int)
        winner = a if (value_a > value_b) == spec.larger_wins else b
        question = self._choose(spec.asks).format(a=self._mention(kind, a), b=self._mention(kind, b))
        ids_a, ids_b = self._support(kind, a, relation.name), self._support(kind, b, relation.name)
        if ids_a is None or ids_b is None:
            return None
        answers = (self.model.table(kind).name[winner],)
        facts_a = answers_for(self.world, relation, value_a)[:1]
        facts_b = answers_for(self.world, relation, value_b)[:1]
        if not (
            self._verified([ids_a], facts_a, [])
            and self._verified([ids_b], facts_b, [])
            and self._verified([ids_a if winner == a else ids_b], answers, [])
        ):
            return None
        first, second = sorted((self.world.slug(kind, a), self.world.slug(kind, b)))
        return Question(
            id=f"{spec.kind}/{first}/{second}",
            question=question,
            golden_answers=answers,
            hops=2,
            kind=spec.kind,
            supporting_ids=_flatten([ids_a, ids_b]),
        )

    def _verified(self, support: list[list[str]], answers: Sequence[str], titles: Sequence[str]) -> bool:
        """The answers occur in the cited passages, and hop k's passages name the entity hop k+1 is about."""
        texts = [" ".join(self._normalized_passage(pid) for pid in ids) for ids in support]
        everything = " ".join(texts)
        if not all(normalize(a) in everything for a in answers):
            return False
        return all(normalize(title) in texts[k] for k, title in enumerate(titles))

    def _normalized_passage(self, passage_id: str) -> str:
        text = self._normalized.get(passage_id)
        if text is None:
            text = self._normalized[passage_id] = normalize(self.world.passage_text(passage_id))
        return text


def _flatten(groups: Sequence[Sequence[str]]) -> tuple[str, ...]:
    out: list[str] = []
    for group in groups:
        for pid in group:
            if pid not in out:
                out.append(pid)
    return tuple(out)


def sample_questions(
    world: World,
    n: int,
    *,
    seed: int,
    hops: Sequence[int],
    comparison_share: float = 0.25,
) -> list[Question]:
    """``n`` distinct verified questions cycling through ``hops`` (fewer if the world runs out)."""
    rng = np.random.default_rng([world.seed, seed, 0x9E57])
    sampler = QuestionSampler(world, rng)
    out: list[Question] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < n and attempts < 40 * n + 200:
        attempts += 1
        hop = hops[len(out) % len(hops)]
        if hop == 2 and rng.random() < comparison_share:
            question = sampler.comparison()
        else:
            question = sampler.chain(hop)
        if question is not None and question.id not in seen:
            seen.add(question.id)
            out.append(question)
    return out
