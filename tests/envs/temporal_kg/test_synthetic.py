"""The generated TKG: deterministic, exactly sized, ICEWS-shaped (bursts, ties, recurring pairs)."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from rlvr.envs.temporal_kg.synthetic import MIRRORED, RELATIONS, generate_fact_list, generate_tkg
from rlvr.envs.temporal_kg.timeutil import Period, day_of


@pytest.fixture(scope="module")
def small():
    return generate_tkg(seed=3, facts=5_000)


def test_same_seed_same_graph_other_seed_other_graph(small) -> None:
    again = generate_tkg(seed=3, facts=5_000)
    assert again.entities == small.entities
    for name, column in small.columns().items():
        assert np.array_equal(column, again.columns()[name]), name
    other = generate_tkg(seed=4, facts=5_000)
    assert other.entities != small.entities
    assert generate_fact_list(seed=3, facts=5_000) == list(small)


def test_exact_size_span_and_relations(small) -> None:
    assert len(small) == 5_000
    first, last = small.time_span()
    assert day_of("2014-01-01") <= first and last <= day_of("2015-12-31")
    assert set(small.relations) == {name for name, _, _ in RELATIONS}
    shifted = generate_tkg(seed=3, facts=500, start="2020-02-01", days=10)
    assert len(shifted) == 500
    span = shifted.time_span()
    assert span is not None and day_of("2020-02-01") <= span[0] and span[1] <= day_of("2020-02-10")


def test_names_are_unique_and_look_like_icews_actors(small) -> None:
    names = small.entities
    assert len(set(names)) == len(names)
    shape = re.compile(r"(?:[A-Z][a-z]+|of)(?: (?:[A-Z][a-z]+|of))*(?: \([A-Z][a-z]+\))?")
    assert [name for name in names if not shape.fullmatch(name)] == []
    assert any(name.startswith("Government (") for name in names)
    assert any(name.startswith("Citizen (") for name in names)
    assert sum(" (" not in name and len(name.split()) == 2 for name in names) > len(names) // 3  # people


def test_icews_like_shape(small) -> None:
    facts = list(small)
    degrees = sorted((small.count(entity) for entity in small.entities), reverse=True)
    assert degrees[0] > 20 * np.median(degrees)  # a few hubs, a long tail
    assert all(degree > 0 for degree in degrees)  # unused actors are dropped
    same_day = Counter((fact.subject, fact.start) for fact in facts)
    assert max(same_day.values()) >= 3  # one actor busy on one day
    pairs = Counter(frozenset((fact.subject, fact.object)) for fact in facts)
    assert sum(count >= 5 for count in pairs.values()) > 50  # recurring relationships
    assert all(fact.subject != fact.object and fact.end is None for fact in facts)
    relations = Counter(fact.relation for fact in facts)
    assert relations.most_common(1)[0][0] == "Make statement"
    keyed = {(f.subject, f.relation, f.object, f.start) for f in facts}
    mirrored = sum(
        (f.object, MIRRORED[f.relation], f.subject, f.start) in keyed for f in facts if f.relation in MIRRORED
    )
    assert mirrored > 200  # "Consult", visits, agreements recorded from both sides on one day
    busiest = max(Counter(fact.start for fact in facts).values())
    assert busiest > 3 * len(facts) / 730  # crisis days


def test_small_and_custom_sizes() -> None:
    tiny = generate_tkg(seed=0, facts=50, entities=30)
    assert len(tiny) == 50 and len(tiny.entities) <= 30
    assert tiny.events(Period.parse("2014"))  # queries work on it
    with pytest.raises(ValueError):
        generate_tkg(facts=0)
    with pytest.raises(ValueError):
        generate_tkg(facts=10, entities=5)


def test_generated_store_answers_queries(small, tmp_path) -> None:
    hub = max(small.entities, key=small.count)
    latest = small.timeline(hub, order="desc", limit=5)
    assert len(latest) == 5 and latest[0].start >= latest[-1].start
    assert small.search_entities(hub.lower())[0] == (hub, 1.0)
    small.save(tmp_path / "kg")
    assert list(type(small).load(tmp_path / "kg")) == list(small)
