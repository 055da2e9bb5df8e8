"""TKGStore on the hand-made graph: every query and filter against results worked out by hand."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from rlvr.envs.temporal_kg.store import Fact, TKGStore, UnknownNameError
from rlvr.envs.temporal_kg.timeutil import Period, day_of
from tests.envs.temporal_kg.handmade import (
    ALDOVIA,
    BRENNA,
    CITIZEN,
    CORVIN,
    DALMAR,
    ENTITIES,
    ESKER,
    FACTS,
    LABELLED,
    MINISTRY,
    RELATIONS,
    handmade_store,
    labels_of,
)


@pytest.fixture(scope="module")
def store() -> TKGStore:
    return handmade_store()


def labels(*numbers: int) -> list[str]:
    return [f"e{n:02d}" for n in numbers]


def test_build_sorts_names_and_facts(store: TKGStore) -> None:
    assert len(store) == 25
    assert store.entities == ENTITIES
    assert store.relations == RELATIONS
    assert labels_of(list(store)) == sorted(LABELLED)
    assert store.time_span() == (day_of("2013-06-01"), day_of("2015-12-31"))
    assert store.has_entity(ALDOVIA) and not store.has_entity("aldovia")
    assert store.has_relation("Consult") and not store.has_relation("consult")


def test_fact_render() -> None:
    assert LABELLED["e02"].render() == "2014-01-01: Aldovia | Make statement | Dalmar"
    assert LABELLED["e01"].render() == "2013-06-01 .. 2015-06-30: Brenna Kast | Hold office | Aldovia"


# (query, args, kwargs, expected labels), each worked out by hand from the table in handmade.py.
ALDOVIA_ALL = labels(1, 2, 3, 4, 5, 6, 7, 12, 13, 16, 19, 20, 22, 23)
CASES: list[tuple[str, tuple[Any, ...], dict[str, Any], list[str]]] = [
    # direction
    ("neighbours", (ALDOVIA,), {}, ALDOVIA_ALL),
    ("timeline", (ALDOVIA,), {}, ALDOVIA_ALL),
    ("neighbours", (ALDOVIA,), {"direction": "out"}, labels(2, 4, 5, 6, 12, 16, 20, 22)),
    ("neighbours", (ALDOVIA,), {"direction": "in"}, labels(1, 3, 7, 13, 19, 23)),
    ("neighbours", (BRENNA,), {}, labels(1, 3, 4, 11, 15, 21)),  # the self-loop e15 once
    ("neighbours", (BRENNA,), {"direction": "out"}, labels(1, 3, 15, 21)),
    ("neighbours", (BRENNA,), {"direction": "in"}, labels(4, 11, 15)),
    ("neighbours", (MINISTRY,), {"direction": "in"}, []),
    ("neighbours", (MINISTRY,), {}, labels(14, 25)),
    ("neighbours", (CITIZEN,), {}, labels(8, 18, 20)),
    ("neighbours", (CORVIN,), {}, labels(6, 8, 17, 18, 24, 25)),
    ("neighbours", (DALMAR,), {}, labels(2, 5, 7, 9, 10, 12, 13, 14, 16, 17, 19, 24)),
    ("neighbours", (ESKER,), {}, labels(9, 10, 11, 21, 22, 23)),
    # after / before are strict, on the start day
    ("neighbours", (ALDOVIA,), {"after": day_of("2014-01-31")}, labels(12, 13, 16, 19, 20, 22, 23)),
    ("neighbours", (ALDOVIA,), {"before": day_of("2014-01-31")}, labels(1, 2, 3, 4)),
    (
        "neighbours",
        (ALDOVIA,),
        {"after": day_of("2014-01-01"), "before": day_of("2014-03-15")},
        labels(4, 5, 6, 7),
    ),
    ("neighbours", (ALDOVIA,), {"after": day_of("2015-05-20")}, []),
    ("neighbours", (ALDOVIA,), {"before": day_of("2013-06-01")}, []),
    ("neighbours", (ALDOVIA,), {"after": day_of("2014-03-15"), "before": day_of("2014-03-15")}, []),
    # after/before as date texts: a month's last day for after, first day for before
    ("neighbours", (ALDOVIA,), {"after": "2014-01"}, labels(12, 13, 16, 19, 20, 22, 23)),
    ("neighbours", (ALDOVIA,), {"before": "2014-03"}, labels(1, 2, 3, 4, 5, 6, 7)),
    ("neighbours", (ALDOVIA,), {"after": "2014"}, labels(19, 20, 22, 23)),
    # within a day, a month, a year (on the start day: the 2013 interval is not "in 2014")
    ("neighbours", (ALDOVIA,), {"within": Period.parse("2014-01-31")}, labels(5, 6, 7)),
    ("neighbours", (ALDOVIA,), {"within": Period.parse("2014-01")}, labels(2, 3, 4, 5, 6, 7)),
    ("neighbours", (ALDOVIA,), {"within": Period.parse("2014")}, labels(2, 3, 4, 5, 6, 7, 12, 13, 16)),
    ("neighbours", (ALDOVIA,), {"within": Period.parse("2015")}, labels(19, 20, 22, 23)),
    ("neighbours", (ALDOVIA,), {"within": Period.parse("2013")}, labels(1)),
    ("neighbours", (ALDOVIA,), {"within": Period.parse("2014-02")}, []),
    ("neighbours", (ALDOVIA,), {"within": "2014-12-31"}, labels(16)),
    # until is exclusive
    ("neighbours", (ALDOVIA,), {"until": day_of("2014-12-31")}, labels(1, 2, 3, 4, 5, 6, 7, 12, 13)),
    ("neighbours", (ALDOVIA,), {"until": day_of("2015-01-01")}, labels(1, 2, 3, 4, 5, 6, 7, 12, 13, 16)),
    ("neighbours", (ALDOVIA,), {"until": day_of("2013-06-01")}, []),
    ("neighbours", (ALDOVIA,), {"until": day_of("2013-06-02")}, labels(1)),
    # filters combined
    (
        "neighbours",
        (ALDOVIA,),
        {"within": Period.parse("2014"), "until": day_of("2014-03-15")},
        labels(2, 3, 4, 5, 6, 7),
    ),
    (
        "neighbours",
        (ALDOVIA,),
        {"within": Period.parse("2014-01"), "after": day_of("2014-01-15")},
        labels(5, 6, 7),
    ),
    (
        "neighbours",
        (ALDOVIA,),
        {"within": Period.parse("2014-01"), "before": day_of("2014-01-15")},
        labels(2, 3),
    ),
    ("neighbours", (ALDOVIA,), {"within": Period.parse("2015"), "before": day_of("2014-06-01")}, []),
    ("neighbours", (ALDOVIA,), {"relation": "Consult"}, labels(3, 5, 22, 23)),
    ("neighbours", (ALDOVIA,), {"relation": "Consult", "direction": "out"}, labels(5, 22)),
    ("neighbours", (ALDOVIA,), {"relation": "Consult", "direction": "in"}, labels(3, 23)),
    ("neighbours", (ALDOVIA,), {"relation": "Consult", "within": Period.parse("2015")}, labels(22, 23)),
    ("neighbours", (ALDOVIA,), {"relation": "Hold office"}, labels(1)),
    ("neighbours", (ALDOVIA,), {"relation": "Hold office", "direction": "out"}, []),
    (
        "neighbours",
        (DALMAR,),
        {"relation": "Make statement", "direction": "in", "until": day_of("2014-12-31")},
        labels(2, 9),
    ),
    # order: later days first, ties on a day still in name order
    ("neighbours", (ALDOVIA,), {"order": "desc"}, labels(22, 23, 20, 19, 16, 12, 13, 5, 6, 7, 4, 2, 3, 1)),
    ("events", (Period.parse("2014-01"),), {"order": "desc"}, labels(5, 6, 7, 4, 2, 3)),
    # limit, both orders, cutting through a same-day group
    ("neighbours", (ALDOVIA,), {"limit": 5}, labels(1, 2, 3, 4, 5)),
    ("neighbours", (ALDOVIA,), {"limit": 6}, labels(1, 2, 3, 4, 5, 6)),
    ("neighbours", (ALDOVIA,), {"limit": 0}, []),
    ("neighbours", (ALDOVIA,), {"limit": 100}, ALDOVIA_ALL),
    ("neighbours", (ALDOVIA,), {"order": "desc", "limit": 3}, labels(22, 23, 20)),
    ("neighbours", (ALDOVIA,), {"order": "desc", "limit": 6}, labels(22, 23, 20, 19, 16, 12)),
    ("neighbours", (ALDOVIA,), {"order": "desc", "limit": 7}, labels(22, 23, 20, 19, 16, 12, 13)),
    ("neighbours", (ALDOVIA,), {"order": "desc", "limit": 1}, labels(22)),
    ("neighbours", (ALDOVIA,), {"within": Period.parse("2014-01-31"), "limit": 2}, labels(5, 6)),
    (
        "neighbours",
        (ALDOVIA,),
        {"within": Period.parse("2014-01-31"), "order": "desc", "limit": 2},
        labels(5, 6),
    ),
    ("neighbours", (ALDOVIA,), {"direction": "in", "order": "desc", "limit": 2}, labels(23, 19)),
    ("neighbours", (ALDOVIA,), {"until": day_of("2014-03-15"), "order": "desc", "limit": 2}, labels(5, 6)),
    ("neighbours", (BRENNA,), {"order": "desc", "limit": 3}, labels(21, 15, 11)),
    (
        "timeline",
        (DALMAR,),
        {"after": day_of("2014-03-01"), "order": "desc", "limit": 4},
        labels(24, 19, 16, 17),
    ),
    # connection
    ("connection", (ALDOVIA, DALMAR), {}, labels(2, 5, 7, 12, 13, 16, 19)),
    ("connection", (DALMAR, ALDOVIA), {}, labels(2, 5, 7, 12, 13, 16, 19)),
    ("connection", (ALDOVIA, DALMAR), {"direction": "out"}, labels(2, 5, 12, 16)),
    ("connection", (ALDOVIA, DALMAR), {"direction": "in"}, labels(7, 13, 19)),
    ("connection", (DALMAR, ALDOVIA), {"direction": "out"}, labels(7, 13, 19)),
    ("connection", (ALDOVIA, DALMAR), {"relation": "Sign formal agreement"}, labels(12, 13)),
    ("connection", (ALDOVIA, DALMAR), {"within": Period.parse("2014-03")}, labels(12, 13)),
    ("connection", (ALDOVIA, DALMAR), {"within": Period.parse("2015")}, labels(19)),
    ("connection", (ALDOVIA, DALMAR), {"until": day_of("2014-03-15")}, labels(2, 5, 7)),
    (
        "connection",
        (ALDOVIA, DALMAR),
        {"after": day_of("2014-03-15"), "before": day_of("2015-01-01")},
        labels(16),
    ),
    ("connection", (ALDOVIA, DALMAR), {"order": "desc", "limit": 2}, labels(19, 16)),
    ("connection", (ALDOVIA, DALMAR), {"order": "desc", "limit": 4}, labels(19, 16, 12, 13)),
    ("connection", (ALDOVIA, DALMAR), {"limit": 3}, labels(2, 5, 7)),
    ("connection", (ESKER, ALDOVIA), {}, labels(22, 23)),
    ("connection", (BRENNA, BRENNA), {}, labels(15)),
    ("connection", (MINISTRY, ALDOVIA), {}, []),
    ("connection", (BRENNA, ALDOVIA), {"within": Period.parse("2013")}, labels(1)),
    # events on a day, a month, a year; relation, until, order, limit
    ("events", (Period.parse("2014-01-31"),), {}, labels(5, 6, 7)),
    ("events", (Period.parse("2014-01"),), {}, labels(2, 3, 4, 5, 6, 7)),
    ("events", (Period.parse("2014-02"),), {}, labels(8, 9)),
    ("events", (Period.parse("2014-12-31"),), {}, labels(16, 17)),
    ("events", (Period.parse("2015-01-01"),), {}, labels(18, 19)),
    ("events", (Period.parse("2013"),), {}, labels(1)),
    ("events", (Period.parse("2014"),), {}, labels(*range(2, 18))),
    ("events", (Period.parse("2015"),), {}, labels(*range(18, 26))),
    ("events", (Period.parse("2016"),), {}, []),
    ("events", ("2014-06",), {}, labels(14)),
    ("events", (Period.parse("2014"),), {"relation": "Make statement"}, labels(2, 6, 9, 15, 16)),
    ("events", (Period.parse("2014"),), {"until": day_of("2014-03-01")}, labels(2, 3, 4, 5, 6, 7, 8, 9)),
    ("events", (Period.parse("2015"),), {"order": "desc", "limit": 3}, labels(25, 24, 22)),
    ("events", (Period.parse("2015"),), {"order": "desc", "limit": 4}, labels(25, 24, 22, 23)),
    ("events", (Period.parse("2015"),), {"limit": 3}, labels(18, 19, 20)),
    ("events", (Period.parse("2015-02"),), {"limit": 1}, labels(20)),
    ("events", (Period.parse("2015-02"),), {"order": "desc", "limit": 1}, labels(20)),
    ("events", (Period.parse("2014"),), {"relation": "Consult", "order": "desc", "limit": 2}, labels(14, 11)),
    ("events", (Period.parse("2014"),), {"relation": "Consult", "limit": 2}, labels(3, 5)),
    ("events", (Period.parse("2014"),), {"after": day_of("2014-12-01")}, labels(16, 17)),
]


@pytest.mark.parametrize(("query", "args", "kwargs", "expected"), CASES)
def test_query_against_hand_computed(
    store: TKGStore, query: str, args: tuple[Any, ...], kwargs: dict[str, Any], expected: list[str]
) -> None:
    found = getattr(store, query)(*args, **kwargs)
    assert all(isinstance(fact, Fact) for fact in found)
    assert labels_of(found) == expected


@pytest.mark.parametrize(("query", "args", "kwargs", "expected"), [c for c in CASES if c[0] != "events"])
def test_count_is_the_total_before_any_limit(
    store: TKGStore, query: str, args: tuple[Any, ...], kwargs: dict[str, Any], expected: list[str]
) -> None:
    unlimited = {key: value for key, value in kwargs.items() if key != "limit"}
    total = len(getattr(store, query)(*args, **unlimited))
    if query == "connection":
        assert store.count(args[0], other=args[1], **kwargs) == total
    else:
        assert store.count(*args, **kwargs) == total


def test_counts_by_hand(store: TKGStore) -> None:
    assert store.count(ALDOVIA) == 14
    assert store.count(ALDOVIA, direction="out") == 8
    assert store.count(ALDOVIA, within=Period.parse("2014-01"), limit=2) == 6
    assert store.count(ALDOVIA, other=DALMAR) == 7
    assert store.count(BRENNA) == 6
    assert store.degree(BRENNA) == 6
    assert store.count_events(Period.parse("2014")) == 16
    assert store.count_events(Period.parse("2015"), relation="Consult") == 2


def test_unknown_names_raise_key_error_with_suggestions(store: TKGStore) -> None:
    with pytest.raises(KeyError) as error:
        store.neighbours("Aldovja")
    assert isinstance(error.value, UnknownNameError)
    assert str(error.value).startswith("unknown entity 'Aldovja'")
    assert "Aldovia" in str(error.value)
    with pytest.raises(KeyError, match="Nowhere"):
        store.connection(ALDOVIA, "Nowhere")
    with pytest.raises(KeyError, match=r"unknown relation 'consult'.*Consult"):
        store.events(Period.parse("2014"), relation="consult")
    with pytest.raises(KeyError):
        store.count("nobody")


def test_bad_arguments(store: TKGStore) -> None:
    with pytest.raises(ValueError, match="direction"):
        store.neighbours(ALDOVIA, direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="order"):
        store.timeline(ALDOVIA, order="newest")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        store.timeline(ALDOVIA, limit=-1)
    with pytest.raises(ValueError):
        store.timeline(ALDOVIA, within="March 2014")


def test_resolve_entity(store: TKGStore) -> None:
    assert store.resolve_entity(ALDOVIA) == ALDOVIA
    assert store.resolve_entity("  ALDOVIA ") == ALDOVIA
    assert store.resolve_entity("citizen dalmar") == CITIZEN
    with pytest.raises(KeyError):
        store.resolve_entity("Aldo")


def test_fuzzy_search_tiers(store: TKGStore) -> None:
    exact = store.search_entities("aldovia")
    assert exact[0] == (ALDOVIA, 1.0)
    assert exact[1][0] == MINISTRY and 0.5 < exact[1][1] < 0.9  # shares the word "aldovia"
    assert store.search_entities("ALDOVIA!!")[0] == (ALDOVIA, 1.0)
    assert store.search_entities("ministry of trade, aldovia")[0] == (MINISTRY, 1.0)
    assert store.search_entities("Citizen Dalmar")[0] == (CITIZEN, 1.0)
    prefix = store.search_entities("esker")
    assert prefix[0][0] == ESKER and 0.9 < prefix[0][1] < 1.0
    typo = store.search_entities("Brena Kast")
    assert typo[0][0] == BRENNA and 0.5 < typo[0][1] < 0.9  # "kast" matches a word
    trigram_only = store.search_entities("corvn leage")
    assert trigram_only[0][0] == CORVIN and 0 < trigram_only[0][1] <= 0.5
    dalmar = store.search_entities("Dalmar")
    assert [name for name, _ in dalmar[:2]] == [DALMAR, CITIZEN]
    assert store.search_entities("zzzz") == []
    assert store.search_entities("") == []
    assert store.search_entities("a", limit=0) == []
    assert len(store.search_entities("a", limit=2)) <= 2
    scores = [score for _, score in store.search_entities("aldovia dalmar", limit=7)]
    assert scores == sorted(scores, reverse=True)
    assert store.search_relations("sign agreement")[0][0] == "Sign formal agreement"


def test_duplicates_are_kept_once_and_input_order_does_not_matter() -> None:
    doubled = TKGStore.from_facts(list(FACTS) + list(reversed(FACTS)))
    assert list(doubled) == list(handmade_store())


def test_from_facts_accepts_tuples_and_date_texts() -> None:
    store = TKGStore.from_facts(
        [
            ("B", "r", "A", day_of("2014-01-02")),
            ("A", "r", "B", "2014-01-01"),
            ("A", "holds", "B", "2010", "2012"),
            ("A", "r", "B", day_of("2014-01-01"), None),
        ]
    )
    assert len(store) == 3
    assert [fact.render() for fact in store] == [
        "2010-01-01 .. 2012-12-31: A | holds | B",
        "2014-01-01: A | r | B",
        "2014-01-02: B | r | A",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        ("A", "r", "B"),
        ("", "r", "B", 735000),
        ("A", "r", "B", "someday"),
        ("A", "r", "B", 735000, 734000),
        ("A", "r", "B", 0),
    ],
)
def test_from_facts_rejects_bad_facts(bad: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        TKGStore.from_facts([("A", "r", "B", 735000), bad])


def test_empty_store() -> None:
    store = TKGStore.from_facts([])
    assert len(store) == 0 and store.time_span() is None
    assert store.events(Period.parse("2014")) == []
    assert store.search_entities("x") == []


def test_save_load_round_trip(store: TKGStore, tmp_path) -> None:
    store.save(tmp_path / "kg")
    manifest = json.loads((tmp_path / "kg" / "manifest.json").read_text())
    assert manifest["facts"] == 25 and manifest["entities"] == list(ENTITIES)
    loaded = TKGStore.load(tmp_path / "kg")
    assert _memory_mapped(loaded.columns()["start"])
    assert list(loaded) == list(store)
    assert loaded.entities == store.entities and loaded.relations == store.relations
    for query, args, kwargs, expected in CASES:
        assert labels_of(getattr(loaded, query)(*args, **kwargs)) == expected
    assert loaded.search_entities("esker")[0][0] == ESKER
    eager = TKGStore.load(tmp_path / "kg", mmap=False)
    assert list(eager) == list(store) and not _memory_mapped(eager.columns()["start"])


def _memory_mapped(array: np.ndarray) -> bool:
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = array.base  # type: ignore[assignment]
    return False


def test_load_rejects_what_is_not_a_store(store: TKGStore, tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        TKGStore.load(tmp_path)
    store.save(tmp_path / "kg")
    manifest = json.loads((tmp_path / "kg" / "manifest.json").read_text())
    (tmp_path / "kg" / "manifest.json").write_text(json.dumps({**manifest, "version": 99}))
    with pytest.raises(ValueError, match="version"):
        TKGStore.load(tmp_path / "kg")
    (tmp_path / "kg" / "manifest.json").write_text(json.dumps({**manifest, "facts": 24}))
    with pytest.raises(ValueError, match="shape"):
        TKGStore.load(tmp_path / "kg")


def test_columns_are_read_only(store: TKGStore) -> None:
    start = store.columns()["start"]
    assert start.dtype == np.int32 and len(start) == 25
    with pytest.raises(ValueError):
        start[0] = 1


def _brute_force(every: list[Fact], query: dict[str, Any], keep: str) -> list[Fact]:
    """What a query must return, by filtering and sorting in plain Python (``every`` is in store order)."""
    entity, other, direction = query["entity"], query["other"], query["direction"]
    after, before, until, within = query["after"], query["before"], query["until"], query["within"]

    def wanted(fact: Fact) -> bool:
        if (after is not None and fact.start <= after) or (before is not None and fact.start >= before):
            return False
        if (until is not None and fact.start >= until) or (
            within is not None and not within.contains(fact.start)
        ):
            return False
        if query["relation"] is not None and fact.relation != query["relation"]:
            return False
        out = fact.subject == entity and (keep == "entity" or fact.object == other)
        back = fact.object == entity and (keep == "entity" or fact.subject == other)
        return keep == "events" or (direction != "in" and out) or (direction != "out" and back)

    chosen = [fact for fact in every if wanted(fact)]
    if query["order"] == "desc":
        chosen.sort(key=lambda fact: -fact.start)  # stable: ties stay in name order
    return chosen if query["limit"] is None else chosen[: query["limit"]]


def test_random_queries_match_a_brute_force_filter() -> None:
    """Every filter combination on a generated graph against a plain Python filter-and-sort."""
    from rlvr.envs.temporal_kg.synthetic import generate_tkg

    store = generate_tkg(seed=11, facts=2_000, entities=80)
    every = list(store)
    rng = np.random.default_rng(5)
    first, last = store.time_span()  # type: ignore[misc]

    def day_or_none() -> int | None:
        return int(rng.integers(first - 5, last + 5)) if rng.random() < 0.4 else None

    for _ in range(300):
        query: dict[str, Any] = {
            "entity": store.entities[rng.integers(len(store.entities))],
            "other": store.entities[rng.integers(len(store.entities))],
            "relation": store.relations[rng.integers(len(store.relations))] if rng.random() < 0.3 else None,
            "direction": ("out", "in", "both")[rng.integers(3)],
            "after": day_or_none(),
            "before": day_or_none(),
            "until": day_or_none(),
            "within": Period.containing(
                int(rng.integers(first, last + 1)), ("day", "month", "year")[rng.integers(3)]
            )
            if rng.random() < 0.4
            else None,
            "order": ("asc", "desc")[rng.integers(2)],
            "limit": int(rng.integers(0, 30)) if rng.random() < 0.5 else None,
        }
        kwargs = {key: value for key, value in query.items() if key not in ("entity", "other")}
        assert store.neighbours(query["entity"], **kwargs) == _brute_force(every, query, "entity")
        total = len(_brute_force(every, {**query, "limit": None}, "entity"))
        assert store.count(query["entity"], **kwargs) == total
        found = store.connection(query["entity"], query["other"], **kwargs)
        assert found == _brute_force(every, query, "connection")
        if query["within"] is not None:
            del kwargs["direction"]
            assert store.events(**kwargs) == _brute_force(every, query, "events")
