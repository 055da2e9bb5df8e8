"""The agent's TKG tools on the hand-made graph: results by hand, error messages, and no leakage past
``until`` whatever the agent tries."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest

from rlvr.envs.temporal_kg.store import TKGStore
from rlvr.envs.temporal_kg.timeutil import day_of, format_day
from rlvr.envs.temporal_kg.tools import TOOL_NAMES, ToolBox, describe_tools, parse_tool_call
from tests.envs.temporal_kg.handmade import (
    ALDOVIA,
    CITIZEN,
    DALMAR,
    ESKER,
    FACTS,
    LABELLED,
    MINISTRY,
    handmade_store,
)


@pytest.fixture(scope="module")
def store() -> TKGStore:
    return handmade_store()


def rendered(*labels: str) -> str:
    return "\n".join(LABELLED[label].render() for label in labels)


def test_neighbours_filters_by_relation_and_direction(store: TKGStore) -> None:
    box = ToolBox(store)
    out = box.call("neighbours", {"entity": ALDOVIA, "relation": "Consult", "direction": "out"})
    assert out == rendered("e05", "e22")
    into = box.call("neighbours", {"entity": ALDOVIA, "relation": "consult", "direction": "in"})
    assert into == rendered("e03", "e23")  # relation names are matched case-insensitively


def test_time_filters_take_days_months_and_years(store: TKGStore) -> None:
    box = ToolBox(store)
    # "after" a month is after its last day; "before" a month is before its first day.
    assert box.call("timeline", {"entity": DALMAR, "after": "2014-12"}) == rendered("e19", "e24")
    assert box.call("timeline", {"entity": DALMAR, "before": "2014-02"}) == rendered("e02", "e05", "e07")
    assert box.call("timeline", {"entity": DALMAR, "within": 2015}) == rendered("e19", "e24")
    assert box.call("events", {"within": "2014-01-31"}) == rendered("e05", "e06", "e07")
    assert box.call("events", {"within": "2014-01", "relation": "Make statement"}) == rendered("e02", "e06")
    link = box.call("connection", {"entity": DALMAR, "other": ALDOVIA, "relation": "Sign formal agreement"})
    assert link == rendered("e12", "e13")


def test_order_limit_and_the_note_on_what_is_not_shown(store: TKGStore) -> None:
    box = ToolBox(store, max_results=3)
    # Aldovia appears in 14 facts: e01-e07, e12, e13, e16, e19, e20, e22, e23.
    note = "(11 more not shown; narrow the query with a time filter or limit)"
    assert box.call("timeline", {"entity": ALDOVIA}) == rendered("e01", "e02", "e03") + "\n" + note
    limited = box.call("timeline", {"entity": ALDOVIA, "limit": 2, "order": "desc"})
    # Newest first; the two facts of 2015-05-20 keep their name order.
    assert (
        limited
        == rendered("e22", "e23") + "\n(12 more not shown; narrow the query with a time filter or limit)"
    )
    assert box.call("events", {"within": "2014", "limit": "1"}).startswith(
        LABELLED["e02"].render() + "\n(15 more"
    )
    assert box.call("timeline", {"entity": ESKER, "within": "2013"}) == "No facts match."


def test_search_entities_finds_exact_names(store: TKGStore) -> None:
    box = ToolBox(store)
    assert box.call("search_entities", {"query": "dalmar"}).splitlines()[0] == DALMAR
    assert box.call("search_entities", {"query": "Ministry Trade", "limit": 1}) == MINISTRY
    assert box.call("search_entities", {"query": "zzzzqqq"}) == "No entity names look like that."


def test_names_differing_in_case_or_punctuation_resolve(store: TKGStore) -> None:
    box = ToolBox(store)
    assert box.call("neighbours", {"entity": "citizen dalmar"}) == box.call("neighbours", {"entity": CITIZEN})


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("neighbours", {"entity": "Aldova"}, "Error: Unknown entity 'Aldova'. Closest names: Aldovia"),
        (
            "timeline",
            {"entity": ALDOVIA, "relation": "Consulting"},
            "Unknown relation 'Consulting'. Closest: Consult",
        ),
        (
            "timeline",
            {"entity": ALDOVIA, "after": "2014-13"},
            'Write a day "2014-05-03", a month "2014-05" or a',
        ),
        ("events", {"within": "yesterday"}, '"within" is not a date'),
        ("events", {"within": ["2014"]}, '"within" must be a date'),
        ("timeline", {}, "timeline needs 'entity'. Usage: "),
        ("connection", {"entity": ALDOVIA}, "connection needs 'other'"),
        (
            "timeline",
            {"entity": ALDOVIA, "colour": "red"},
            "timeline takes no 'colour'; its arguments are entity,",
        ),
        ("teleport", {}, "Unknown tool 'teleport'; the tools are search_entities, neighbours,"),
        ("neighbours", {"entity": ALDOVIA, "direction": "up"}, '"direction" must be "out", "in" or "both".'),
        ("neighbours", {"entity": ALDOVIA, "order": "random"}, '"order" must be "asc"'),
        ("neighbours", {"entity": ALDOVIA, "limit": 0}, '"limit" must be a whole number >= 1.'),
        ("neighbours", {"entity": ALDOVIA, "limit": True}, '"limit" must be a whole number >= 1.'),
        ("neighbours", {"entity": 42}, '"entity" must be an entity name (text).'),
        ("search_entities", {"query": "  "}, '"query" must be some text'),
    ],
)
def test_mistakes_are_explained_not_raised(store: TKGStore, name: str, args: dict, expected: str) -> None:
    answer = ToolBox(store).call(name, args)
    assert answer.startswith("Error: ") and expected in answer, answer


def test_the_neighbors_spelling_is_accepted(store: TKGStore) -> None:
    box = ToolBox(store)
    assert box.call("neighbors", {"entity": ESKER}) == box.call("neighbours", {"entity": ESKER})


def test_tool_json_parsing(store: TKGStore) -> None:
    assert parse_tool_call('{"name": "timeline", "entity": "X"}') == ("timeline", {"entity": "X"})
    assert parse_tool_call('```json\n{"name": "events", "arguments": {"within": "2014"}}\n```') == (
        "events",
        {"within": "2014"},
    )
    box = ToolBox(store)
    assert box.call_json("{not json")[1].startswith("Error: The <tool> content is not valid JSON")
    assert box.call_json("[1, 2]")[1].startswith("Error: The <tool> content must be a JSON object")
    assert box.call_json('{"entity": "Dalmar"}')[1].startswith('Error: The call has no "name"')
    assert box.call_json('{"name": "timeline", "arguments": 3}')[1] == (
        'Error: "arguments", when given, must be a JSON object.'
    )
    name, result = box.call_json(json.dumps({"name": "connection", "entity": ALDOVIA, "other": ESKER}))
    assert name == "connection" and result == rendered("e22", "e23")


def test_describe_tools_names_every_tool_and_the_cut_off() -> None:
    text = describe_tools(max_results=7, until=day_of("2015-01-01"))
    assert all(name in text for name in TOOL_NAMES)
    assert "at most 7 facts" in text and "before 2015-01-01" in text


def test_interval_facts_running_at_the_cut_off_lose_their_end(store: TKGStore) -> None:
    assert (
        ToolBox(store)
        .call("timeline", {"entity": "Brenna Kast", "limit": 1})
        .startswith("2013-06-01 .. 2015-06-30: Brenna Kast | Hold office | Aldovia")
    )
    cut = ToolBox(store, until=day_of("2014-07-01"))
    assert cut.call("timeline", {"entity": "Brenna Kast", "limit": 1}).startswith(
        "2013-06-01: Brenna Kast | Hold office | Aldovia\n"
    )


def test_entities_first_seen_after_the_cut_off_do_not_exist(store: TKGStore) -> None:
    box = ToolBox(store, until=day_of("2014-02-01"))  # Citizen (Dalmar) first appears that day
    assert CITIZEN not in box.call("search_entities", {"query": "Citizen (Dalmar)"})
    answer = box.call("neighbours", {"entity": CITIZEN})
    assert answer.startswith(f"Error: Unknown entity '{CITIZEN}'. Closest names: Dalmar.")
    suggestions = answer.split("Closest names:")[1]
    assert CITIZEN not in suggestions and ESKER not in suggestions and MINISTRY not in suggestions


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ECHO = re.compile(r"Unknown entity (['\"]).*?\1\.")
"""The agent's own unknown name, echoed back: not a leak."""


def _hostile_calls(store: TKGStore) -> list[tuple[str, dict]]:
    """Every tool with every filter, the cut-offs' own days and dates well past them included."""
    dates = ["2014", "2014-01", "2014-01-31", "2015-05-20", "2015-12-31", "9999"]
    orders = itertools.cycle(("asc", "desc"))
    calls: list[tuple[str, dict]] = []
    filters = [{}] + [{key: when} for key in ("after", "before", "within") for when in dates]
    for entity in (*store.entities, "citizen dalmar", "Ministry of Trade"):
        for extra in filters:
            base = {"entity": entity, "order": next(orders), **extra}
            calls += [("timeline", base), ("neighbours", {**base, "direction": "in"})]
            calls += [("neighbours", {**base, "direction": "out", "limit": 1})]
            calls += [("connection", {**base, "other": other}) for other in (ALDOVIA, CITIZEN)]
    for when, relation in itertools.product(dates, (None, *store.relations)):
        calls.append(("events", {"within": when, "relation": relation, "order": next(orders)}))
    calls += [
        ("search_entities", {"query": name}) for name in (*store.entities, "Citizen", "Ministry", "Esk")
    ]
    return calls


def test_nothing_at_or_after_until_ever_comes_back(store: TKGStore) -> None:
    calls = _hostile_calls(store)
    first_seen: dict[str, int] = {}
    for fact in FACTS:
        for name in (fact.subject, fact.object):
            first_seen[name] = min(first_seen.get(name, fact.start), fact.start)
    # The interval fact's middle, a same-day triple, an entity's first day, a mirrored pair, the end.
    cut_offs = [
        "2014-01-01",
        "2014-01-31",
        "2014-02-01",
        "2014-03-15",
        "2015-05-20",
        "2015-12-31",
        "2016-01-01",
    ]
    for until in map(day_of, cut_offs):
        box = ToolBox(store, until=until, max_results=50)
        hidden = [name for name, day in first_seen.items() if day >= until]
        allowed = f"only facts before {format_day(until)} are available"
        for name, args in calls:
            answer = box.call(name, {k: v for k, v in args.items() if v is not None})
            text = _ECHO.sub("", answer.replace(allowed, ""))
            for date in _DATE.findall(text):
                assert day_of(date) < until, (format_day(until), name, args, answer)
            for secret in hidden:
                assert secret not in text, (format_day(until), name, args, answer)


def test_hostile_input_never_raises(store: TKGStore) -> None:
    rng = np.random.default_rng(0)
    box = ToolBox(store, until=day_of("2015-01-01"))
    junk = [None, 3, -1, 1e308, float("nan"), True, [], {}, "", " ", "\x00", "é" * 500, "2014-02-30", "0000"]
    junk += ["99999", "2014-1-1", {"a": 1}, ["Aldovia"], "-5", 10**30]
    keys = [
        "entity",
        "other",
        "query",
        "within",
        "after",
        "before",
        "relation",
        "direction",
        "order",
        "limit",
    ]
    for _ in range(3000):
        args = {keys[int(i)]: junk[int(rng.integers(len(junk)))] for i in rng.integers(0, len(keys), 4)}
        name = TOOL_NAMES[int(rng.integers(len(TOOL_NAMES)))]
        assert isinstance(box.call(name, args), str)
    for content in ["", "{", "null", '"x"', "1e999", "[" * 5000, '{"name": null}', '{"name": ["x"]}']:
        assert box.call_json(content)[1].startswith("Error: ")
    assert box.call(None, None).startswith("Error: ")  # type: ignore[arg-type]
