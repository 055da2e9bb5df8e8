"""``rlvr/TKGForecast-v0``: splits, gold sets, F1 and time-aware filtered ranking by hand, no leakage
of the query day, and the context-window mode, on the hand-made graph."""

from __future__ import annotations

import json

import pytest
from gymnasium.utils.env_checker import check_env

from rlvr.envs.temporal_kg.forecast_env import (
    Query,
    TKGForecastEnv,
    forecast_scores,
    list_queries,
    split_days,
)
from rlvr.envs.temporal_kg.store import Fact, TKGStore
from rlvr.envs.temporal_kg.timeutil import day_of
from tests.envs.temporal_kg.handmade import (
    ALDOVIA,
    CITIZEN,
    CORVIN,
    DALMAR,
    ENTITIES,
    ESKER,
    FACTS,
    MINISTRY,
    handmade_store,
)

SECOND = Fact(ALDOVIA, "Make statement", ESKER, day_of("2014-01-31"))
"""With e06, Aldovia made statements to two entities on 2014-01-31: a two-object gold set."""
QUERY = (ALDOVIA, "Make statement", "2014-01-31")


@pytest.fixture(scope="module")
def store() -> TKGStore:
    return TKGStore.from_facts([*FACTS, SECOND])


def make(store: TKGStore, **kwargs) -> TKGForecastEnv:
    return TKGForecastEnv(store, **kwargs)


def answer(env: TKGForecastEnv, text: str) -> dict[str, float]:
    env.reset(options={"query": QUERY})
    return env.step(f"<answer>{text}</answer>")[4]["metrics"]


def test_splits_cut_the_timeline_by_days() -> None:
    store = handmade_store()
    # 2013-06-01 .. 2015-12-31 is 944 days; 80% of them end on 2015-06-25.
    assert split_days(store, "test", 0.8) == (day_of("2015-06-26"), day_of("2015-12-31"))
    assert split_days(store, "train", 0.8) == (day_of("2013-06-01"), day_of("2015-06-25"))
    test = list_queries(store, *split_days(store, "test", 0.8))
    assert test == [
        Query(DALMAR, "Criticize or denounce", day_of("2015-08-10")),
        Query(MINISTRY, "Sign formal agreement", day_of("2015-12-31")),
    ]
    train = list_queries(store, *split_days(store, "train", 0.8))
    # e01-e23 are train facts; a subject needs a fact (either role) before the query day, which rules
    # out e01 (Brenna's first), e09 (Esker's first) and e14 (the Ministry's first).
    assert len(list_queries(store, *split_days(store, "train", 0.8), min_history=0)) == 23
    assert len(train) == 20
    assert Query(ESKER, "Make statement", day_of("2014-02-28")) not in train
    assert Query(ESKER, "Consult", day_of("2014-03-01")) in train
    assert Query(CORVIN, "Provide aid", day_of("2014-02-01")) in train  # Corvin was an object on 01-31


def test_the_gold_set_is_every_object_of_the_query(store: TKGStore) -> None:
    everything = list_queries(store, day_of("2014-01-31"), day_of("2014-01-31"))
    assert everything == [
        Query(ALDOVIA, "Consult", day_of("2014-01-31")),
        Query(ALDOVIA, "Make statement", day_of("2014-01-31")),
        Query(DALMAR, "Criticize or denounce", day_of("2014-01-31")),
    ]
    env = make(store)
    observation, info = env.reset(options={"query": QUERY})
    assert observation.startswith('Forecast: on 2014-01-31, whom will Aldovia "Make statement"?')
    assert "Query: 2014-01-31: Aldovia | Make statement | ?" in observation
    assert (
        info["query_id"] == "Aldovia | Make statement | ? | 2014-01-31" and info["query_time"] == "2014-01-31"
    )
    assert "before 2014-01-31" in info["instructions"]
    info = env.step(f"<answer>{CORVIN}; {ESKER}</answer>")[4]
    assert sorted(info["golden_answers"]) == [CORVIN, ESKER]
    assert info["metrics"]["f1"] == info["metrics"]["mrr"] == info["metrics"]["hits@1"] == 1.0


def test_f1_and_filtered_ranks_by_hand(store: TKGStore) -> None:
    env = make(store)
    # Wrong Dalmar first: each gold has one wrong item above it; the other gold is filtered out.
    metrics = answer(env, f"1. {DALMAR}\n2. {ESKER}\n3. {CORVIN}")
    assert metrics["precision"] == pytest.approx(2 / 3) and metrics["recall"] == 1.0
    assert metrics["f1"] == pytest.approx(0.8) and metrics["return"] == pytest.approx(0.8)
    assert (metrics["mrr"], metrics["hits@1"], metrics["hits@3"]) == (0.5, 0.0, 1.0)
    # Both golds first, in either order: rank 1 each (filtered), whatever follows.
    metrics = answer(env, f"{ESKER}; {CORVIN}; {DALMAR}")
    assert (metrics["mrr"], metrics["hits@1"], metrics["f1"]) == (1.0, 1.0, pytest.approx(0.8))
    # One gold only: precision 1, recall 1/2. Corvin has rank 1. The missing gold (Esker) comes after
    # the list, at random among the entities nobody listed: L = 0 wrong items, U = 6 (Aldovia, Brenna,
    # Citizen, Dalmar, Esker, Ministry; Corvin is listed) -> ranks 1..6 equally likely.
    metrics = answer(env, CORVIN)
    assert metrics["f1"] == pytest.approx(2 / 3)
    expected_rr = (1 + (1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 1 / 6) / 6) / 2
    assert metrics["mrr"] == pytest.approx(expected_rr)
    assert metrics["hits@1"] == pytest.approx((1 + 1 / 6) / 2)
    assert metrics["hits@3"] == pytest.approx((1 + 3 / 6) / 2) and metrics["hits@10"] == 1.0


def test_wrong_answers_score_like_a_random_guess_below_the_list(store: TKGStore) -> None:
    # Only Dalmar, wrong. Each gold: L = 1, U = 7 - 1 (Dalmar) - 1 (the other gold) = 5, ranks 2..6.
    metrics = answer(make(store), DALMAR)
    assert (metrics["f1"], metrics["precision"], metrics["recall"]) == (0.0, 0.0, 0.0)
    assert metrics["mrr"] == pytest.approx((1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 1 / 6) / 5)
    assert (metrics["hits@1"], metrics["hits@3"], metrics["hits@10"]) == (0.0, pytest.approx(0.4), 1.0)
    # Names that are no entity at all still push the golds down.
    metrics = answer(make(store), "; ".join(f"Nobody {i}" for i in range(12)))
    assert (metrics["hits@10"], metrics["f1"]) == (0.0, 0.0)
    assert forecast_scores([], ["a"], {"a", "b"}) == {
        "f1": 0.0,
        "precision": 0.0,
        "recall": 0.0,
        "mrr": pytest.approx(0.75),
        "hits@1": 0.5,
        "hits@3": 1.0,
        "hits@10": 1.0,
    }


def test_answers_by_id_and_by_loose_name(store: TKGStore) -> None:
    assert ENTITIES.index(CORVIN) == 3 and ENTITIES.index(ESKER) == 5
    assert answer(make(store), "#3\n5")["f1"] == 1.0
    assert answer(make(store), "corvin league; ESKER VANCE")["f1"] == 1.0
    assert answer(make(store), "#99")["f1"] == 0.0


def test_no_tool_sees_the_query_day_or_later(store: TKGStore) -> None:
    env = make(store)
    env.reset(options={"query": QUERY})
    calls = [
        {"name": "events", "within": "2014-01-31"},
        {"name": "events", "within": "2014"},
        {"name": "neighbours", "entity": ALDOVIA, "after": "2014-01-30", "order": "desc"},
        {"name": "timeline", "entity": ALDOVIA, "within": "2015"},
        {"name": "connection", "entity": ALDOVIA, "other": CORVIN},
        {"name": "search_entities", "query": "Citizen (Dalmar)"},
    ]
    results = [env.step(f"<tool>{json.dumps(call)}</tool>")[0] for call in calls]
    assert results[0].startswith("<result>No facts match (only facts before 2014-01-31 are available).")
    assert results[1].startswith("<result>2014-01-01: Aldovia | Make statement | Dalmar\n2014-01-01")
    assert "2014-01-31" not in results[1].split("</result>")[0].replace("before 2014-01-31", "")
    assert results[2].startswith("<result>No facts match") and results[3].startswith("<result>No facts match")
    assert results[4].startswith("<result>Error: Unknown entity 'Corvin League'")  # first seen that day
    assert CITIZEN not in results[5]


def test_context_window_puts_the_recent_past_in_the_observation(store: TKGStore) -> None:
    env = make(store, context="window", context_facts=2)
    observation, info = env.reset(options={"query": (DALMAR, "Criticize or denounce", day_of("2015-08-10"))})
    # The last two: e19 on 2015-01-01, then the first (by name) of e16/e17 on 2014-12-31; oldest first.
    assert observation.endswith(
        "The last 2 facts about Dalmar before 2015-08-10:\n"
        "2014-12-31: Aldovia | Make statement | Dalmar\n"
        "2015-01-01: Dalmar | Make statement | Aldovia"
    )
    assert "<tool>" not in info["instructions"]
    info = env.step('<tool>{"name": "timeline", "entity": "Dalmar"}</tool>')[4]
    assert info["invalid_reason"] == "Tools are switched off in this task: answer from the facts shown."
    assert env.step(f"<answer>{CORVIN}</answer>")[1] == 1.0
    both = make(store, context="both", context_facts=1)
    observation, info = both.reset(options={"query": QUERY})
    assert (
        observation.endswith("2014-01-15: Aldovia | Host a visit | Brenna Kast")
        and "<tool>" in info["instructions"]
    )


def test_drawn_queries_come_from_the_split_and_seeds_fix_them() -> None:
    env = TKGForecastEnv(handmade_store())
    seen = set()
    for seed in range(10):
        observation, info = env.reset(seed=seed)
        assert env.reset(seed=seed)[0] == observation
        seen.add(info["query_time"])
    assert seen == {"2015-08-10", "2015-12-31"}
    with pytest.raises(ValueError, match="no train queries"):
        _ = TKGForecastEnv(
            TKGStore.from_facts([("A", "r", "B", day_of("2014-01-01"))]), split="train"
        ).queries


def test_unanswered_and_invalid(store: TKGStore) -> None:
    env = make(store, max_turns=1)
    env.reset(options={"query": QUERY})
    assert env.step("<answer></answer>")[4]["invalid_reason"] == "The <answer> tag is empty."
    *_, terminated, truncated, info = env.step("no idea")
    assert (terminated, truncated) == (False, True)
    assert info["metrics"]["f1"] == info["metrics"]["mrr"] == info["metrics"]["answered"] == 0.0


def test_bad_arguments_are_errors(store: TKGStore) -> None:
    for kwargs in ({"split": "dev"}, {"context": "memory"}, {"split_at": 1.0}, {"context_facts": 0}):
        with pytest.raises(ValueError):
            make(store, **kwargs)


def test_the_default_env_uses_the_embedded_synthetic_graph() -> None:
    env = TKGForecastEnv()
    observation, info = env.reset(seed=0)
    assert observation.startswith("Forecast: on 2015-") and info["query_time"] >= "2015-08-08"
    reply = "<answer>" + "; ".join(env._golds) + "</answer>"
    assert env.step(reply)[1] == 1.0


def test_passes_gymnasium_check_env(store: TKGStore) -> None:
    check_env(make(store, split="all"), skip_render_check=True)
    check_env(make(store, split="all", context="window"), skip_render_check=True)


def test_hostile_replies_never_raise(store: TKGStore) -> None:
    env = make(store, split="all", max_turns=3)
    replies = [
        "<answer>" + "[" * 5000 + "</answer>",
        "<answer>#999999999999</answer>",
        "<answer>;;;\n\n-</answer>",
    ]
    replies += ['<tool>{"name": "timeline", "entity": "Aldovia", "before": "0001-01-01"}</tool>', "\x00", ""]
    replies += ['<answer>["#1", 2, null]</answer>', "<answer>" + "x; " * 10_000 + "</answer>"]
    for seed, reply in enumerate(replies):
        env.reset(seed=seed)
        over = False
        while not over:
            *_, terminated, truncated, info = env.step(reply)
            over = terminated or truncated
        assert 0.0 <= info["metrics"]["f1"] <= 1.0 and 0.0 <= info["metrics"]["mrr"] <= 1.0
