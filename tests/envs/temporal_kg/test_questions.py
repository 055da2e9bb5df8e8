"""The question generator: every operator's answers worked out by hand on the hand-made graph (ties,
same-day events, granularity), and every generated question re-derived by brute force."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from rlvr.envs.temporal_kg.questions import OPERATORS, Choice, ask, generate_questions
from rlvr.envs.temporal_kg.questions_io import KGQuestion
from rlvr.envs.temporal_kg.store import Fact, TKGStore
from rlvr.envs.temporal_kg.synthetic import generate_tkg
from rlvr.envs.temporal_kg.timeutil import Period, day_of, format_day
from tests.envs.temporal_kg.handmade import (
    ALDOVIA,
    BRENNA,
    CORVIN,
    DALMAR,
    ESKER,
    FACTS,
    LABELLED,
    MINISTRY,
    handmade_store,
)

TIE = Fact(CORVIN, "Make statement", DALMAR, day_of("2014-01-01"))
"""Ties e02 (Aldovia | Make statement | Dalmar) on 2014-01-01."""
SAME_DAY = Fact(ALDOVIA, "Make statement", ESKER, day_of("2014-01-31"))
"""A second "Make statement" object for Aldovia on 2014-01-31, next to e06 (Corvin League)."""


@pytest.fixture(scope="module")
def store() -> TKGStore:
    return handmade_store()


@pytest.fixture(scope="module")
def tie_store() -> TKGStore:
    return TKGStore.from_facts([*FACTS, TIE, SAME_DAY])


# (operator, fact, choice, expected answers (None: no question), expected text)
HAND_MADE = [
    # equal: the period is the fact's day / month / year; entity answers are the whole set.
    ("equal", "e02", Choice("object", "day"), [DALMAR], 'Whom did Aldovia "Make statement" on 2014-01-01?'),
    (
        "equal",
        "e02",
        Choice("object", "year"),
        [CORVIN, DALMAR],
        'Whom did Aldovia "Make statement" in 2014?',
    ),
    ("equal", "e05", Choice("subject", "month"), [ALDOVIA], 'Who "Consult" Dalmar in 2014-01?'),
    ("equal", "e05", Choice("subject", "year"), [ALDOVIA, MINISTRY], None),
    # equal, time answers: only when every (s, r, o) fact falls in one period of that granularity.
    (
        "equal",
        "e10",
        Choice("time", "day"),
        ["2014-03-01"],
        'On which day did Dalmar "Host a visit" Esker Vance?',
    ),
    ("equal", "e02", Choice("time", "day"), None, None),  # 2014-01-01 and 2014-12-31
    ("equal", "e02", Choice("time", "month"), None, None),
    ("equal", "e02", Choice("time", "year"), ["2014"], 'In which year did Aldovia "Make statement" Dalmar?'),
    # before / after: the reference happened once; strict on days.
    ("before", "e09", Choice("subject"), [ALDOVIA], 'Who "Make statement" Dalmar before Esker Vance did?'),
    ("after", "e09", Choice("subject"), [ALDOVIA], None),  # e16, 2014-12-31
    ("after", "e05", Choice("object"), [ESKER], 'Whom else did Aldovia "Consult" after doing so to Dalmar?'),
    ("before", "e05", Choice("object"), None, None),  # Aldovia consulted nobody before 2014-01-31
    ("before", "e02", Choice("subject"), None, None),  # the reference happened twice
    ("before", "e06", Choice("object"), [DALMAR], None),
    # first / last.
    ("first", "e09", Choice("subject"), [ALDOVIA], 'Who was the first to "Make statement" Dalmar?'),
    ("last", "e09", Choice("subject"), [ALDOVIA], None),
    ("first", "e03", Choice("subject"), [BRENNA], None),  # Consult Aldovia: e03 before e23
    ("last", "e03", Choice("subject"), [ESKER], None),
    ("first", "e05", Choice("object"), [DALMAR], 'Whom did Aldovia "Consult" first?'),
    ("last", "e05", Choice("object"), [ESKER], 'Whom did Aldovia "Consult" last?'),
    (
        "first",
        "e02",
        Choice("time", "day"),
        ["2014-01-01"],
        'When did Aldovia first "Make statement" Dalmar?',
    ),
    (
        "last",
        "e02",
        Choice("time", "month"),
        ["2014-12"],
        'In which month did Aldovia last "Make statement" Dalmar?',
    ),
    ("last", "e02", Choice("time", "year"), ["2014"], None),
    # between: both ends inclusive (2014-06-30 - 149 days = 2014-02-01, - 150 days = 2014-01-31).
    ("between", "e14", Choice("subject", "day", back=149, ahead=1), [MINISTRY], None),
    ("between", "e14", Choice("subject", "day", back=150, ahead=1), [ALDOVIA, MINISTRY], None),
    ("between", "e02", Choice("object", "month", back=0, ahead=2), [CORVIN, DALMAR], None),
    ("between", "e05", Choice("object", "day", back=0, ahead=1), [DALMAR], None),
    # equal_multi.
    ("equal_multi", "e05", Choice("pivot", "day"), [CORVIN], None),
    ("equal_multi", "e05", Choice("pivot", "month", pick=0), [BRENNA], None),  # Host a visit, e04
    ("equal_multi", "e05", Choice("pivot", "month", pick=1), [CORVIN, DALMAR], None),  # Make statement
    ("equal_multi", "e02", Choice("others", "month"), None, None),  # e02 and e16: two months
    (
        "equal_multi",
        "e02",
        Choice("others", "year"),
        [ESKER],
        'Who else "Make statement" Dalmar in the same year as Aldovia did?',
    ),
    ("equal_multi", "e05", Choice("others", "day"), None, None),  # nobody else consulted Dalmar that day
    # after_first / before_last.
    (
        "after_first",
        "e02",
        Choice("subject"),
        [ESKER],
        'After Aldovia first "Make statement" Dalmar, which other entity was the first to do so?',
    ),
    ("before_last", "e02", Choice("subject"), [ESKER], None),
    ("after_first", "e05", Choice("object"), [ESKER], None),
    (
        "before_last",
        "e22",
        Choice("object"),
        [DALMAR],
        'Before Aldovia last "Consult" Esker Vance, whom else did Aldovia "Consult" last?',
    ),
    ("after_first", "e16", Choice("subject"), [ESKER], None),  # the reference is the FIRST time, e02
    ("after_first", "e24", Choice("subject"), None, None),  # nobody criticised Corvin after 2015-08-10
    # multi_entity.
    (
        "multi_entity",
        "e02",
        Choice(granularity="year"),
        [DALMAR],
        'Whom did both Aldovia and Esker Vance "Make statement" in 2014?',
    ),
    ("multi_entity", "e02", Choice(granularity="month"), None, None),
]


@pytest.mark.parametrize(("operator", "label", "choice", "expected", "text"), HAND_MADE)
def test_operators_by_hand(
    store: TKGStore, operator: str, label: str, choice: Choice, expected: list[str] | None, text: str | None
) -> None:
    question = ask(store, operator, LABELLED[label], choice)
    if expected is None:
        assert question is None
        return
    assert question is not None and list(question.answers) == expected
    assert question.operator == operator
    if text is not None:
        assert question.question == text
    if choice.variant == "time":
        assert question.answer_type == "time" and question.granularity == choice.granularity
    else:
        assert question.answer_type == "entity"


def test_ties_on_a_day_all_count(tie_store: TKGStore) -> None:
    first = ask(tie_store, "first", LABELLED["e09"], Choice("subject"))
    assert first is not None and first.answers == (ALDOVIA, CORVIN)  # both on 2014-01-01
    same_day = ask(tie_store, "equal", LABELLED["e06"], Choice("object", "day"))
    assert same_day is not None and same_day.answers == (CORVIN, ESKER)
    first_objects = ask(tie_store, "last", LABELLED["e06"], Choice("object"))
    assert first_objects is not None and first_objects.answers == (DALMAR,)  # e16 is later than the tie


def test_before_and_after_are_strict_on_days(tie_store: TKGStore) -> None:
    # Corvin and Aldovia both made a statement to Dalmar on 2014-01-01: neither was before the other.
    assert ask(tie_store, "before", TIE, Choice("subject")) is None
    after = ask(tie_store, "after", TIE, Choice("subject"))
    assert after is not None and after.answers == (ALDOVIA, ESKER)  # e16 and e09, not e02
    others = ask(tie_store, "equal_multi", TIE, Choice("others", "day"))
    assert others is not None and others.answers == (ALDOVIA,)
    # after_first skips the same-day tie and takes the next day: Esker on 2014-02-28.
    next_one = ask(tie_store, "after_first", LABELLED["e02"], Choice("subject"))
    assert next_one is not None and next_one.answers == (ESKER,)


def test_max_answers_drops_large_sets(store: TKGStore) -> None:
    assert ask(store, "equal", LABELLED["e02"], Choice("object", "year"), max_answers=1) is None


def test_unknown_operator_is_an_error(store: TKGStore) -> None:
    with pytest.raises(ValueError, match="unknown operator"):
        ask(store, "sideways", LABELLED["e02"])
    with pytest.raises(ValueError, match="unknown operators"):
        generate_questions(store, 3, operators=["sideways"])


# -- brute force: every generated question re-derived from the fact list --------------------------------


def _oracle(facts: Iterable[Fact], question: KGQuestion) -> set[str]:
    """The answers of a generated question, recomputed over a plain fact list from its ``meta``."""
    facts = list(facts)
    meta = question.meta
    s, r, o, variant = meta["subject"], meta["relation"], meta["object"], meta["variant"]
    granularity = question.granularity

    def objects(subject: str, relation: str, keep: Callable[[int], bool]) -> set[str]:
        return {f.object for f in facts if (f.subject, f.relation) == (subject, relation) and keep(f.start)}

    def subjects(obj: str, relation: str, keep: Callable[[int], bool]) -> set[str]:
        return {f.subject for f in facts if (f.object, f.relation) == (obj, relation) and keep(f.start)}

    pair_days = sorted({f.start for f in facts if (f.subject, f.relation, f.object) == (s, r, o)})
    operator = question.operator
    if variant == "time":
        assert granularity is not None
        if operator == "equal":
            times = {format_day(day, granularity) for day in pair_days}
            assert len(times) == 1
            return times
        return {format_day(pair_days[-1] if operator == "last" else pair_days[0], granularity)}
    if operator in ("equal", "equal_multi", "multi_entity"):
        period = Period.parse(meta["period"])
        if operator == "multi_entity":
            return objects(s, r, period.contains) & objects(meta["partner"], r, period.contains)
        if variant == "pivot":
            return objects(s, meta["other_relation"], period.contains)
        if operator == "equal_multi":
            assert {Period.containing(day, period.granularity) for day in pair_days} == {period}
            return subjects(o, r, period.contains) - {s}
        return objects(s, r, period.contains) if variant == "object" else subjects(o, r, period.contains)
    if operator in ("before", "after"):
        (reference,) = pair_days
        keep = (lambda day: day < reference) if operator == "before" else (lambda day: day > reference)
        return subjects(o, r, keep) - {s} if variant == "subject" else objects(s, r, keep) - {o}
    if operator in ("first", "last"):
        pick = max if operator == "last" else min
        if variant == "subject":
            day = pick(f.start for f in facts if (f.relation, f.object) == (r, o))
            return subjects(o, r, lambda d: d == day)
        day = pick(f.start for f in facts if (f.subject, f.relation) == (s, r))
        return objects(s, r, lambda d: d == day)
    if operator == "between":
        low, high = (Period.parse(text) for text in meta["window"])
        keep = lambda day: low.first <= day <= high.last  # noqa: E731
        return objects(s, r, keep) if variant == "object" else subjects(o, r, keep)
    assert operator in ("after_first", "before_last")
    reference = day_of(meta["reference_day"])
    assert reference == (pair_days[-1] if operator == "before_last" else pair_days[0])
    later = operator == "after_first"
    if variant == "subject":
        pairs = [(f.start, f.subject) for f in facts if (f.relation, f.object) == (r, o) and f.subject != s]
    else:
        pairs = [(f.start, f.object) for f in facts if (f.subject, f.relation) == (s, r) and f.object != o]
    pairs = [(day, name) for day, name in pairs if (day > reference if later else day < reference)]
    day = (min if later else max)(day for day, _ in pairs)
    return {name for when, name in pairs if when == day}


def test_generated_questions_on_the_hand_made_graph_are_right(store: TKGStore) -> None:
    questions = generate_questions(store, 60, seed=3)
    assert len({q.question for q in questions}) == len(questions) >= 30
    assert {q.operator for q in questions} == set(OPERATORS)
    for question in questions:
        assert set(question.answers) == _oracle(FACTS, question), question


def test_generated_questions_on_a_synthetic_graph_are_right() -> None:
    synthetic = generate_tkg(seed=1, facts=3000)
    facts = list(synthetic)
    questions = generate_questions(synthetic, 200, seed=1)
    assert len(questions) == 200
    counts = {op: sum(q.operator == op for q in questions) for op in OPERATORS}
    assert counts == dict.fromkeys(OPERATORS, 20)  # operators in turn
    assert {q.answer_type for q in questions} == {"entity", "time"}
    assert {q.granularity for q in questions if q.answer_type == "time"} == {"day", "month", "year"}
    for question in questions:
        assert 1 <= len(question.answers) <= 10 and question.id.startswith("tkg-1-")
        assert set(question.answers) == _oracle(facts, question), question


def test_generation_is_deterministic_and_seeded(store: TKGStore) -> None:
    synthetic = generate_tkg(seed=2, facts=2000)
    first = generate_questions(synthetic, 50, seed=7)
    assert first == generate_questions(synthetic, 50, seed=7)
    assert [q.question for q in first] != [q.question for q in generate_questions(synthetic, 50, seed=8)]
    only = generate_questions(synthetic, 10, seed=7, operators=["first", "last"])
    assert {q.operator for q in only} == {"first", "last"}


def test_a_store_too_small_for_n_gives_what_it_can() -> None:
    tiny = TKGStore.from_facts([("A", "r", "B", day_of("2014-01-01"))])
    questions = generate_questions(tiny, 50, seed=0, operators=["first", "last", "before"])
    # Per operator: who was the first, whom did A r first, and when (day, month, year); no "before".
    assert len(questions) == 10 and {q.operator for q in questions} == {"first", "last"}
