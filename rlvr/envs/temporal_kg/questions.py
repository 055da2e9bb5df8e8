"""MultiTQ-style questions generated from any ``TKGStore``, with answers computed by the store.

Why generate: a benchmark's questions fix one graph, and a model may have seen them; questions made
from the graph at hand (the synthetic one, or a user's ICEWS dump) are fresh, unlimited and verified
by construction. Every answer is computed by store queries, never written by hand, and a question is
kept only when its answer set is small (``max_answers``), so "Who was the first to ...?" with a tie
on that day lists every tied entity as gold instead of pretending one is right.

Semantics, exactly (``t`` is a fact's start day; "before"/"after" are strict, on days):

``equal``
    Whom did S r in P? (all objects of (S, r, ., t) with t in the day/month/year P); who r O in P?
    (all subjects); on which day / in which month / in which year did S r O? (kept only when every
    (S, r, O) fact falls in one such period; a time answer at that granularity).
``before`` / ``after``
    Who r O before / after S did? (S r O exactly once, at t0: every subject other than S of an
    (., r, O) fact before / after t0); whom else did S r before / after doing so to O? (objects).
``first`` / ``last``
    Who was the first / last to r O? (every subject of (., r, O) on its earliest / latest day: ties
    all count); whom did S r first / last? (objects); when (which day, month or year) did S first /
    last r O?
``between``
    Whom did S r between A and B? Who r O between A and B? (both ends inclusive; A and B are days or
    months).
``equal_multi``
    Who else r O on the same day / in the same month as S did? (all of S's (S, r, O) facts in one
    period P; every other subject of (., r, O) in P); whom did S r2 in the same day / month as S r O?
``after_first`` / ``before_last``
    After S first r O, which other entity was the first to do so? (the subjects other than S on the
    earliest day after S's first (S, r, O)); before S last r O, which other entity was the last to do
    so?; and the object-side forms "whom else did S r first / last".
``multi_entity``
    Whom did both S1 and S2 r in P? (objects shared by both subjects' r facts in the month/year P).

Answers are computed on start days, so interval facts (YAGO, Wikidata) are asked about when they began.
MultiTQ's ``before_after`` and ``first_last`` are split in two here so results can be broken down by
direction; ``between`` and ``multi_entity`` are additions of ours.

``generate_questions`` draws a fact (a uniform entity, then one of its facts) and the picks of a
``Choice`` (which end is asked, the period's granularity, the window) per question, taking operators
in turn; ``ask`` makes the question for a given fact and ``Choice``, which is how the tests pin each
operator down by hand. Every question's ``meta`` records what it was made from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rlvr.envs.temporal_kg.questions_io import KGQuestion
from rlvr.envs.temporal_kg.store import Fact, TKGStore
from rlvr.envs.temporal_kg.timeutil import Granularity, Period, format_day

OPERATORS = (
    "equal",
    "before",
    "after",
    "first",
    "last",
    "between",
    "equal_multi",
    "after_first",
    "before_last",
    "multi_entity",
)
"""Operator labels of generated questions (``KGQuestion.operator``)."""

_TRIES = 300
"""Consecutive failed draws after which an operator is given up on this store."""


@dataclass(frozen=True)
class Draft:
    """A question before it gets an id: text, gold answers and how to judge them."""

    operator: str
    question: str
    answers: tuple[str, ...]
    answer_type: str
    granularity: Granularity | None = None
    meta: Mapping[str, object] = field(default_factory=dict)


class Graph:
    """The handful of derived queries the generator needs, built on the store's public API only."""

    def __init__(self, store: TKGStore) -> None:
        self.store = store
        self.entities = store.entities

    def random_fact(self, rng: np.random.Generator) -> Fact | None:
        """A uniformly drawn entity's uniformly drawn outgoing fact (``None`` when it has none)."""
        if not self.entities:
            return None
        entity = self.entities[int(rng.integers(len(self.entities)))]
        total = self.store.count(entity, direction="out")
        if total == 0:
            return None
        position = int(rng.integers(total))
        return self.store.neighbours(entity, direction="out", limit=position + 1)[position]

    def objects(self, subject: str, relation: str, **filters: object) -> set[str]:
        facts = self.store.neighbours(subject, relation=relation, direction="out", **filters)  # type: ignore[arg-type]
        return {fact.object for fact in facts if fact.subject == subject}

    def subjects(self, obj: str, relation: str, **filters: object) -> set[str]:
        facts = self.store.neighbours(obj, relation=relation, direction="in", **filters)  # type: ignore[arg-type]
        return {fact.subject for fact in facts if fact.object == obj}

    def pair_days(self, subject: str, relation: str, obj: str) -> list[int]:
        """Start days of every (subject, relation, obj) fact, ascending."""
        facts = self.store.connection(subject, obj, relation=relation)
        return sorted({fact.start for fact in facts if fact.subject == subject and fact.object == obj})

    def extreme_day(
        self, entity: str, relation: str, direction: str, *, last: bool, **filters: object
    ) -> int | None:
        """The earliest (latest) start day of ``entity``'s r-facts in ``direction``, after filters."""
        facts = self.store.neighbours(
            entity,
            relation=relation,
            direction=direction,  # type: ignore[arg-type]
            order="desc" if last else "asc",
            limit=1,
            **filters,  # type: ignore[arg-type]
        )
        return facts[0].start if facts else None


# -- wording -------------------------------------------------------------------------------------------


def _when(period: Period) -> str:
    return f"on {period}" if period.granularity == "day" else f"in {period}"


def _same(granularity: Granularity) -> str:
    return "on the same day as" if granularity == "day" else f"in the same {granularity} as"


def _which(granularity: Granularity) -> str:
    return {"day": "On which day", "month": "In which month", "year": "In which year"}[granularity]


def _choose(rng: np.random.Generator, options: Sequence[str], weights: Sequence[float] | None = None) -> str:
    if weights is None:
        return options[int(rng.integers(len(options)))]
    probabilities = np.asarray(weights, dtype=float) / float(sum(weights))
    return options[int(rng.choice(len(options), p=probabilities))]


def _granularity(rng: np.random.Generator, weights: Sequence[float] = (0.5, 0.3, 0.2)) -> Granularity:
    return _choose(rng, ("day", "month", "year"), weights)  # type: ignore[return-value]


def _entities(
    operator: str,
    text: str,
    answers: Iterable[str],
    max_answers: int,
    granularity: Granularity,
    meta: dict[str, object],
) -> Draft | None:
    """An entity question, kept only with 1..``max_answers`` golds; ``granularity`` is the time level it
    is about (MultiTQ's ``time_level``: the period asked about, or "day" for orderings of days)."""
    golds = tuple(sorted(set(answers)))
    if not 1 <= len(golds) <= max_answers:
        return None
    return Draft(operator, text, golds, "entity", granularity, meta)


def _time(operator: str, text: str, day: int, granularity: Granularity, meta: dict[str, object]) -> Draft:
    return Draft(operator, text, (format_day(day, granularity),), "time", granularity, meta)


def _shift_months(day: int, months: int) -> Period:
    date = dt.date.fromordinal(day)
    index = date.year * 12 + date.month - 1 + months
    return Period.parse(f"{index // 12:04d}-{index % 12 + 1:02d}")


# -- operators: (graph, fact, choice, max_answers) -> Draft | None ------------------------------------


@dataclass(frozen=True)
class Choice:
    """The random picks behind one question, explicit so a test (or a user) can ask a given one."""

    variant: str = "object"
    """Which end is asked for: ``"object"`` / ``"subject"`` (the entity), ``"time"`` (equal, first,
    last), ``"others"`` / ``"pivot"`` (equal_multi)."""
    granularity: Granularity = "day"
    """The period of ``equal``/``equal_multi``/``multi_entity``/``between``, or a time answer's."""
    back: int = 0
    """``between``: the window starts this many days (months) before the fact's day (month)."""
    ahead: int = 1
    """``between``: the window ends this many days (months) after it."""
    pick: int = 0
    """``equal_multi`` pivot relation / ``multi_entity`` partner: index (mod count) in sorted order."""


Operator = Callable[[Graph, Fact, Choice, int], "Draft | None"]


def _meta(fact: Fact, choice: Choice, **extra: object) -> dict[str, object]:
    """What a question was made from, so it can be re-derived (tests check answers this way)."""
    return {
        "subject": fact.subject,
        "relation": fact.relation,
        "object": fact.object,
        "day": format_day(fact.start),
        "variant": choice.variant,
        **extra,
    }


def _equal(graph: Graph, fact: Fact, choice: Choice, most: int) -> Draft | None:
    s, r, o = fact.subject, fact.relation, fact.object
    granularity = choice.granularity
    meta = _meta(fact, choice)
    if choice.variant == "time":
        periods = {Period.containing(day, granularity) for day in graph.pair_days(s, r, o)}
        if len(periods) != 1:
            return None
        text = f'{_which(granularity)} did {s} "{r}" {o}?'
        return _time("equal", text, fact.start, granularity, meta)
    period = Period.containing(fact.start, granularity)
    meta["period"] = str(period)
    if choice.variant == "object":
        answers = graph.objects(s, r, within=period)
        return _entities("equal", f'Whom did {s} "{r}" {_when(period)}?', answers, most, granularity, meta)
    answers = graph.subjects(o, r, within=period)
    return _entities("equal", f'Who "{r}" {o} {_when(period)}?', answers, most, granularity, meta)


def _before_after(operator: str) -> Operator:
    side = "before" if operator == "before" else "after"

    def build(graph: Graph, fact: Fact, choice: Choice, most: int) -> Draft | None:
        s, r, o = fact.subject, fact.relation, fact.object
        days = graph.pair_days(s, r, o)
        if len(days) != 1:
            return None
        bound = {side: days[0]}
        meta = _meta(fact, choice)
        if choice.variant == "subject":
            answers = graph.subjects(o, r, **bound) - {s}
            return _entities(operator, f'Who "{r}" {o} {side} {s} did?', answers, most, "day", meta)
        answers = graph.objects(s, r, **bound) - {o}
        text = f'Whom else did {s} "{r}" {side} doing so to {o}?'
        return _entities(operator, text, answers, most, "day", meta)

    return build


def _first_last(operator: str) -> Operator:
    last = operator == "last"
    word = "last" if last else "first"

    def build(graph: Graph, fact: Fact, choice: Choice, most: int) -> Draft | None:
        s, r, o = fact.subject, fact.relation, fact.object
        meta = _meta(fact, choice)
        if choice.variant == "time":
            days = graph.pair_days(s, r, o)
            if not days:
                return None
            granularity = choice.granularity
            asked = "When" if granularity == "day" else _which(granularity)
            day = days[-1] if last else days[0]
            return _time(operator, f'{asked} did {s} {word} "{r}" {o}?', day, granularity, meta)
        if choice.variant == "subject":
            day = graph.extreme_day(o, r, "in", last=last)
            if day is None:  # only when ``fact`` is not in the store
                return None
            answers = graph.subjects(o, r, within=Period.containing(day))
            return _entities(operator, f'Who was the {word} to "{r}" {o}?', answers, most, "day", meta)
        day = graph.extreme_day(s, r, "out", last=last)
        if day is None:
            return None
        answers = graph.objects(s, r, within=Period.containing(day))
        return _entities(operator, f'Whom did {s} "{r}" {word}?', answers, most, "day", meta)

    return build


def _between(graph: Graph, fact: Fact, choice: Choice, most: int) -> Draft | None:
    s, r, o = fact.subject, fact.relation, fact.object
    if choice.granularity == "day":
        first, last = fact.start - choice.back, fact.start + choice.ahead
        low, high = format_day(first), format_day(last)
    else:
        start, end = _shift_months(fact.start, -choice.back), _shift_months(fact.start, choice.ahead)
        first, last, low, high = start.first, end.last, str(start), str(end)
    window = {"after": first - 1, "before": last + 1}
    meta = _meta(fact, choice, window=[low, high])
    if choice.variant == "object":
        text = f'Whom did {s} "{r}" between {low} and {high}?'
        return _entities("between", text, graph.objects(s, r, **window), most, choice.granularity, meta)
    text = f'Who "{r}" {o} between {low} and {high}?'
    return _entities("between", text, graph.subjects(o, r, **window), most, choice.granularity, meta)


def _equal_multi(graph: Graph, fact: Fact, choice: Choice, most: int) -> Draft | None:
    s, r, o = fact.subject, fact.relation, fact.object
    granularity = choice.granularity
    periods = {Period.containing(day, granularity) for day in graph.pair_days(s, r, o)}
    if len(periods) != 1:
        return None
    (period,) = periods
    same = _same(granularity)
    if choice.variant == "others":
        answers = graph.subjects(o, r, within=period) - {s}
        meta = _meta(fact, choice, period=str(period))
        text = f'Who else "{r}" {o} {same} {s} did?'
        return _entities("equal_multi", text, answers, most, granularity, meta)
    others = sorted({f.relation for f in graph.store.neighbours(s, direction="out", within=period)} - {r})
    if not others:
        return None
    other = others[choice.pick % len(others)]
    meta = _meta(fact, choice, period=str(period), other_relation=other)
    text = f'Whom did {s} "{other}" {same} {s} "{r}" {o}?'
    return _entities("equal_multi", text, graph.objects(s, other, within=period), most, granularity, meta)


def _after_first_before_last(operator: str) -> Operator:
    last = operator == "before_last"

    def build(graph: Graph, fact: Fact, choice: Choice, most: int) -> Draft | None:
        s, r, o = fact.subject, fact.relation, fact.object
        days = graph.pair_days(s, r, o)
        if not days:
            return None
        reference = days[-1] if last else days[0]
        bound = {"before": reference} if last else {"after": reference}
        if choice.variant == "subject":
            candidates = graph.store.neighbours(o, relation=r, direction="in", **bound)  # type: ignore[arg-type]
            pairs = [(f.start, f.subject) for f in candidates if f.object == o and f.subject != s]
            if last:
                text = f'Before {s} last "{r}" {o}, which other entity was the last to do so?'
            else:
                text = f'After {s} first "{r}" {o}, which other entity was the first to do so?'
        else:
            candidates = graph.store.neighbours(s, relation=r, direction="out", **bound)  # type: ignore[arg-type]
            pairs = [(f.start, f.object) for f in candidates if f.subject == s and f.object != o]
            if last:
                text = f'Before {s} last "{r}" {o}, whom else did {s} "{r}" last?'
            else:
                text = f'After {s} first "{r}" {o}, whom else did {s} "{r}" first?'
        if not pairs:
            return None
        day = max(p[0] for p in pairs) if last else min(p[0] for p in pairs)
        answers = (name for when, name in pairs if when == day)
        meta = _meta(fact, choice, reference_day=format_day(reference))
        return _entities(operator, text, answers, most, "day", meta)

    return build


def _multi_entity(graph: Graph, fact: Fact, choice: Choice, most: int) -> Draft | None:
    s, r, o = fact.subject, fact.relation, fact.object
    period = Period.containing(fact.start, choice.granularity)
    partners = sorted(graph.subjects(o, r, within=period) - {s})
    if not partners:
        return None
    partner = partners[choice.pick % len(partners)]
    shared = graph.objects(s, r, within=period) & graph.objects(partner, r, within=period)
    meta = _meta(fact, choice, period=str(period), partner=partner)
    text = f'Whom did both {s} and {partner} "{r}" {_when(period)}?'
    return _entities("multi_entity", text, shared, most, choice.granularity, meta)


OPERATOR_FUNCTIONS: dict[str, Operator] = {
    "equal": _equal,
    "before": _before_after("before"),
    "after": _before_after("after"),
    "first": _first_last("first"),
    "last": _first_last("last"),
    "between": _between,
    "equal_multi": _equal_multi,
    "after_first": _after_first_before_last("after_first"),
    "before_last": _after_first_before_last("before_last"),
    "multi_entity": _multi_entity,
}


def draw_choice(operator: str, rng: np.random.Generator) -> Choice:
    """The random picks for one ``operator`` question (the generator's distribution over variants)."""
    pick = int(rng.integers(1 << 30))
    if operator in ("equal", "first", "last"):
        # Time questions are asked twice as often as either entity side: they are rejected more often
        # (``equal`` needs every occurrence in one period) and MultiTQ has many of them.
        variant = _choose(rng, ("object", "subject", "time"), (1.0, 1.0, 2.0))
        return Choice(variant, _granularity(rng), pick=pick)
    if operator == "between":
        granularity: Granularity = _choose(rng, ("day", "month"))  # type: ignore[assignment]
        span = 15 if granularity == "day" else 3
        back, ahead = int(rng.integers(0, span)), int(rng.integers(1, span))
        return Choice(_choose(rng, ("object", "subject")), granularity, back, ahead, pick)
    if operator == "equal_multi":
        return Choice(_choose(rng, ("others", "pivot")), _choose(rng, ("day", "month")), pick=pick)  # type: ignore[arg-type]
    if operator == "multi_entity":
        return Choice("object", _choose(rng, ("month", "year")), pick=pick)  # type: ignore[arg-type]
    return Choice(_choose(rng, ("subject", "object")), pick=pick)


def ask(
    store: TKGStore | Graph, operator: str, fact: Fact, choice: Choice | None = None, *, max_answers: int = 10
) -> KGQuestion | None:
    """The ``operator`` question about ``fact`` with the given picks, or ``None`` when it has no
    well-defined answer (or more than ``max_answers``). ``fact`` must be one of the store's facts."""
    if operator not in OPERATOR_FUNCTIONS:
        raise ValueError(f"unknown operator {operator!r}; choose from {', '.join(OPERATORS)}")
    graph = store if isinstance(store, Graph) else Graph(store)
    draft = OPERATOR_FUNCTIONS[operator](graph, fact, choice or Choice(), max_answers)
    return None if draft is None else to_question(draft, f"{operator}-asked")


def generate_questions(
    store: TKGStore,
    n: int,
    *,
    seed: int = 0,
    operators: Sequence[str] | None = None,
    max_answers: int = 10,
) -> list[KGQuestion]:
    """``n`` distinct questions, operators taken in turn (``operators``: default all of ``OPERATORS``).

    Deterministic for a store and a seed. An operator the store cannot support (no fact passes its
    checks in ``_TRIES`` draws in a row) is dropped, so a small store may yield fewer than ``n``.
    """
    chosen = tuple(OPERATORS if operators is None else operators)
    unknown = [op for op in chosen if op not in OPERATOR_FUNCTIONS]
    if unknown or not chosen:
        raise ValueError(f"unknown operators {unknown}; choose from {', '.join(OPERATORS)}")
    if n < 0 or max_answers < 1:
        raise ValueError("n must be >= 0 and max_answers >= 1")
    rng = np.random.default_rng(seed)
    graph = Graph(store)
    active = list(dict.fromkeys(chosen))
    questions: list[KGQuestion] = []
    seen: set[str] = set()
    while len(questions) < n and active:
        operator = active[len(questions) % len(active)]
        draft = _draw(graph, operator, rng, max_answers, seen)
        if draft is None:
            active.remove(operator)
            continue
        seen.add(draft.question)
        questions.append(to_question(draft, f"tkg-{seed}-{len(questions):05d}"))
    return questions


def _draw(
    graph: Graph, operator: str, rng: np.random.Generator, max_answers: int, seen: set[str]
) -> Draft | None:
    build = OPERATOR_FUNCTIONS[operator]
    for _ in range(_TRIES):
        fact = graph.random_fact(rng)
        if fact is None:
            continue
        draft = build(graph, fact, draw_choice(operator, rng), max_answers)
        if draft is not None and draft.question not in seen:
            return draft
    return None


def to_question(draft: Draft, question_id: str) -> KGQuestion:
    """The shared question record for a draft."""
    return KGQuestion(
        id=question_id,
        question=draft.question,
        answers=draft.answers,
        answer_type=draft.answer_type,
        granularity=draft.granularity,
        operator=draft.operator,
        source="generated",
        meta=dict(draft.meta),
    )
