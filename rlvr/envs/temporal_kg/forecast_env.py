"""``rlvr/TKGForecast-v0``, temporal KG forecasting as an agent task (ReaL-TG); its manual is
``TKGForecastEnv``'s docstring.

Forecasting is link prediction with a hard rule: nothing at or after the query time may reach the
agent. The tools are a ``ToolBox`` built with ``until=t`` for each query, so that rule is enforced
in one place for every tool and filter (and tested adversarially), never by the env remembering to
filter.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rlvr.envs.search.answers import normalize_answer
from rlvr.envs.temporal_kg.env import KGToolEnv, parse_answer_list
from rlvr.envs.temporal_kg.store import TKGStore
from rlvr.envs.temporal_kg.timeutil import Period, day_of, format_day
from rlvr.envs.temporal_kg.tools import ToolBox

SPLITS = ("train", "test", "all")
CONTEXTS = ("tools", "window", "both")
_ID = re.compile(r"#?(\d{1,9})")


@dataclass(frozen=True)
class Query:
    """``(subject, relation, ?, day)``: which objects does ``subject`` ``relation`` on ``day``?"""

    subject: str
    relation: str
    day: int

    @property
    def id(self) -> str:
        return f"{self.subject} | {self.relation} | ? | {format_day(self.day)}"


def time_span(store: TKGStore) -> tuple[int, int] | None:
    """First and last start day of the store (the store's own ``time_span`` when it has one)."""
    own = getattr(store, "time_span", None)
    if own is not None:
        return own()
    firsts = [f[0].start for e in store.entities if (f := store.neighbours(e, limit=1))]
    lasts = [f[0].start for e in store.entities if (f := store.neighbours(e, order="desc", limit=1))]
    return (min(firsts), max(lasts)) if firsts else None


def split_days(store: TKGStore, split: str, split_at: float) -> tuple[int, int]:
    """The inclusive day range queries are drawn from: ``train`` the first ``split_at`` of the
    timeline's days, ``test`` the rest, ``all`` everything."""
    span = time_span(store)
    if span is None:
        raise ValueError("the store has no facts")
    first, last = span
    cut = first + int(split_at * (last - first + 1))
    if split == "train":
        return first, cut - 1
    if split == "test":
        return cut, last
    return first, last


def list_queries(store: TKGStore, first: int, last: int, *, min_history: int = 1) -> list[Query]:
    """Every distinct ``(subject, relation, day)`` with a fact in ``first..last`` whose subject has at
    least ``min_history`` facts (either role) before that day, in the store's fact order."""
    queries: dict[Query, None] = {}
    first_year = int(format_day(first, "year"))
    for year in range(first_year, int(format_day(last, "year")) + 1):
        for fact in store.events(Period.parse(f"{year:04d}")):
            if first <= fact.start <= last:
                queries.setdefault(Query(fact.subject, fact.relation, fact.start), None)
    if min_history <= 0:
        return list(queries)
    # A subject has enough history on day t when its ``min_history``-th fact came before t: one
    # look-up per subject rather than a count per query.
    ready: dict[str, int | None] = {}
    for query in queries:
        if query.subject not in ready:
            earliest = store.timeline(query.subject, limit=min_history)
            ready[query.subject] = earliest[-1].start if len(earliest) == min_history else None
    return [q for q in queries if (day := ready[q.subject]) is not None and day < q.day]


def entity_key(name: str) -> str:
    """How forecast answers are compared: SQuAD normalisation (case, punctuation, articles)."""
    return normalize_answer(name)


def forecast_scores(predicted: Sequence[str], golds: Sequence[str], candidates: set[str]) -> dict[str, float]:
    """Set F1 and time-aware filtered ranking metrics of a ranked prediction list (keys, deduplicated).

    ``candidates`` are the keys of every entity that could be ranked (the store's entities).
    Per gold target ``g``: the other golds are filtered out of the list, so its rank is 1 + the number
    of non-gold items listed before it. A gold not listed at all counts as placed uniformly at random
    among the candidates nobody listed (minus the other golds), after the whole list: with ``L``
    non-gold items listed and ``U`` such candidates (``g`` included), its reciprocal rank is the
    expectation ``(H(L+U) - H(L)) / U`` and Hits@k is ``P(rank <= k) = clip(k - L, 0, U) / U``. So a
    wrong item costs every gold below it a place (ReaL-TG's rank penalty for wrong answers), an empty
    or all-wrong list scores what a random guess would, and metrics are averaged over the golds.
    """
    gold_set = set(golds)
    listed = set(predicted)
    true_positives = len(listed & gold_set)
    precision = true_positives / len(listed) if listed else 0.0
    recall = true_positives / len(gold_set) if gold_set else 0.0
    f1 = 2 * precision * recall / (precision + recall) if true_positives else 0.0
    wrong = [item not in gold_set for item in predicted]
    total_wrong = sum(wrong)
    sums = {"mrr": 0.0, "hits@1": 0.0, "hits@3": 0.0, "hits@10": 0.0}
    for gold in gold_set:
        if gold in listed:
            rank = 1 + sum(wrong[: predicted.index(gold)])
            sums["mrr"] += 1 / rank
            for k in (1, 3, 10):
                sums[f"hits@{k}"] += float(rank <= k)
            continue
        unlisted = len((candidates | {gold}) - listed - (gold_set - {gold}))
        sums["mrr"] += (_harmonic(total_wrong + unlisted) - _harmonic(total_wrong)) / unlisted
        for k in (1, 3, 10):
            sums[f"hits@{k}"] += min(max(k - total_wrong, 0), unlisted) / unlisted
    count = max(len(gold_set), 1)
    metrics = {name: value / count for name, value in sums.items()}
    return {"f1": f1, "precision": precision, "recall": recall, **metrics}


def _harmonic(n: int) -> float:
    return sum(1 / i for i in range(1, n + 1))


class TKGForecastEnv(KGToolEnv):
    """``rlvr/TKGForecast-v0``: forecast the objects of a future event from a temporal KG's history.

    Task
        Each episode is a query ``(subject, relation, ?, t)`` taken from the facts of day ``t``
        (ReaL-TG's link forecasting on temporal graphs): which entities will ``subject``
        ``relation`` on day ``t``? The gold set is every object of ``(subject, relation, ., t)``.
        Only the past is available: every tool is cut off at ``t`` (no fact dated ``t`` or later,
        no entity first seen then, no end date of an interval still running). Query days come from a
        ``split`` of the timeline (``test``: the last ``1 - split_at`` of its days, default 20%;
        ``train``: the rest), and the subject must have ``min_history`` facts before ``t``. By
        default the graph is the embedded synthetic ICEWS-like TKG (``synthetic.generate_tkg``).

    Action
        Text with exactly one call (``<think>`` blocks are ignored; the first complete tag counts):

        - ``<tool>{"name": ..., ...}</tool>``: the temporal KG tools of ``rlvr/TemporalKGQA-v0``
          (``search_entities``, ``neighbours``, ``connection``, ``timeline``, ``events``, with time
          filters), answering from facts before ``t`` only; off with ``context="window"``.
        - ``<answer>...</answer>``: ends the episode. The predicted objects as a set or a ranked list,
          best first: one per line (``1. A`` / ``- A``) or ``A; B; C``; entity names (compared after
          SQuAD normalisation) or ids (``#12`` or ``12``: the position in ``store.entities``, read
          as an id only when no entity has that name).

        Anything else is an invalid action: the observation explains the protocol, the turn is used
        up, and the episode goes on.

    Reward
        F1 of the predicted set against the gold set, paid once at the end (0 without an answer).

    Episode end
        Terminated by an answer. After ``max_turns`` replies without one, the agent gets one last
        turn in which only ``<answer>`` counts; without an answer there the episode is truncated.

    Info
        ``turn``, ``player``, ``role``, ``invalid_action``, ``invalid_reason``, ``tool``,
        ``tool_error``, ``tool_output_spans``, ``query_id``, ``query_time``, and at the end
        ``answer``, ``golden_answers`` and ``metrics``: ``return``, ``f1``, ``precision``,
        ``recall``, and ``mrr``, ``hits@1``, ``hits@3``, ``hits@10`` in the time-aware filtered
        setting (per gold target, the other true objects of ``(subject, relation, ., t)`` do not
        count against its rank; averaged over the golds). A wrong item listed above a gold costs it a
        place; a gold not listed at all is ranked as if placed at random among the entities nobody
        listed, after the list (``forecast_scores`` has the formula), so leaving golds out scores
        like guessing. Also ``golds``, ``predicted``, ``answered``, ``well_formed``, ``tool_calls``,
        ``tool_errors``, ``invalid_actions``, ``turns``.

    Arguments
        store: ``None`` (the embedded synthetic TKG), a ``TKGStore`` or a saved store directory.
        tkg_seed: which synthetic TKG when ``store`` is ``None``.
        split, split_at: ``"test"`` (default), ``"train"`` or ``"all"`` days, cut at ``split_at``
            of the timeline.
        context: ``"tools"`` (default: history through the tools), ``"window"`` (the last
            ``context_facts`` facts about the subject before ``t`` in the first observation, no
            tools) or ``"both"``.
        context_facts: size of that window (default 30).
        min_history: facts the subject needs before ``t`` to be queried (default 1).
        max_turns, max_results, max_action_length: as in ``rlvr/TemporalKGQA-v0``.

    ``reset(options={"query": (subject, relation, day)})`` poses a given query (``day`` a day number
    or ``"YYYY-MM-DD"``); otherwise it is drawn with ``np_random``, so a seed fixes the episode.

    Version history
        v0: first version.
    """

    _ANSWER_RULES = (
        "Finish with <answer>...</answer>: the entities you predict as the missing object, exact names, "
        "best first, one per line (1. A, 2. B) or separated by semicolons. Every true object you list "
        "raises your score and every wrong one lowers it."
    )

    def __init__(
        self,
        store: TKGStore | str | os.PathLike[str] | None = None,
        *,
        tkg_seed: int = 0,
        split: str = "test",
        split_at: float = 0.8,
        context: str = "tools",
        context_facts: int = 30,
        min_history: int = 1,
        max_turns: int = 10,
        max_results: int = 20,
        render_mode: str | None = None,
        max_action_length: int = 16_384,
    ) -> None:
        super().__init__(
            store=store,
            tkg_seed=tkg_seed,
            max_turns=max_turns,
            max_results=max_results,
            render_mode=render_mode,
            max_action_length=max_action_length,
        )
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}")
        if context not in CONTEXTS:
            raise ValueError(f"context must be one of {CONTEXTS}")
        if not 0.0 < split_at < 1.0 or context_facts < 1 or min_history < 0:
            raise ValueError("split_at must lie in (0, 1), context_facts >= 1 and min_history >= 0")
        self.split, self.split_at, self.min_history = split, split_at, min_history
        self.context, self.context_facts = context, context_facts
        self.tools_enabled = context != "window"
        self._queries: tuple[Query, ...] | None = None
        self._candidates: set[str] | None = None
        self.query: Query | None = None
        self._golds: tuple[str, ...] = ()

    @property
    def queries(self) -> tuple[Query, ...]:
        """The split's queries, listed on first use."""
        if self._queries is None:
            first, last = split_days(self.store, self.split, self.split_at)
            found = list_queries(self.store, first, last, min_history=self.min_history)
            if not found:
                raise ValueError(f"no {self.split} queries with min_history={self.min_history}")
            self._queries = tuple(found)
        return self._queries

    # -- episodes ----------------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        pool = self.queries
        drawn = pool[int(self.np_random.integers(len(pool)))]
        self.query = self._given_query(options["query"]) if "query" in options else drawn
        query = self.query
        facts = self.store.neighbours(
            query.subject, relation=query.relation, direction="out", within=Period.containing(query.day)
        )
        self._golds = tuple(dict.fromkeys(f.object for f in facts if f.subject == query.subject))
        if not self._golds:
            raise ValueError(f"no fact answers the query {query.id}")
        self._toolbox = ToolBox(self.store, until=query.day, max_results=self.max_results)
        return self._begin(self._observation())

    def _given_query(self, given: Any) -> Query:
        if isinstance(given, Query):
            return given
        subject, relation, day = given
        if isinstance(day, str):
            day = day_of(day)
        if not self.store.has_entity(str(subject)):
            raise ValueError(f"unknown subject {subject!r}")
        return Query(str(subject), str(relation), int(day))

    def _observation(self) -> str:
        assert self.query is not None
        query = self.query
        date = format_day(query.day)
        lines = [
            f'Forecast: on {date}, whom will {query.subject} "{query.relation}"?',
            f"Query: {date}: {query.subject} | {query.relation} | ?",
        ]
        if self.context != "tools":
            history = self.store.timeline(
                query.subject, until=query.day, order="desc", limit=self.context_facts
            )
            history = [fact for fact in history if fact.start < query.day][::-1]
            assert self._toolbox is not None
            rendered = "\n".join(self._toolbox.clip(fact).render() for fact in history) or "(none)"
            lines.append(f"The last {len(history)} facts about {query.subject} before {date}:\n{rendered}")
        return "\n".join(lines)

    def _intro(self) -> str:
        assert self.query is not None
        date = format_day(self.query.day)
        where = "the facts shown" if not self.tools_enabled else "the tools"
        return (
            "You forecast events in a temporal knowledge graph of time-stamped facts "
            '"date: subject | relation | object". Given a query "date: subject | relation | ?", predict '
            f"which entities will be the object on that date, from what happened before {date} "
            f"({where}; nothing on or after {date} is available)."
        )

    # -- scoring -----------------------------------------------------------------------------------

    def _resolve(self, item: str) -> str:
        """An answer item as an entity name: ids (``#12``/``12``) map to ``store.entities``."""
        match = _ID.fullmatch(item)
        if match is not None and not self.store.has_entity(item):
            index = int(match.group(1))
            if index < len(self.store.entities):
                return self.store.entities[index]
        return item

    def _score(self, answer: str) -> tuple[float, dict[str, float]]:
        if self._candidates is None:
            self._candidates = {entity_key(name) for name in self.store.entities}
        keys = [entity_key(self._resolve(item)) for item in parse_answer_list(answer)]
        predicted = [key for key in dict.fromkeys(keys) if key]
        golds = [entity_key(gold) for gold in self._golds]
        metrics = forecast_scores(predicted, golds, self._candidates)
        metrics.update(golds=float(len(set(golds))), predicted=float(len(predicted)))
        return metrics["f1"], metrics

    def _unanswered_metrics(self) -> dict[str, float]:
        zero = dict.fromkeys(("f1", "precision", "recall", "mrr", "hits@1", "hits@3", "hits@10"), 0.0)
        return {**zero, "golds": float(len(self._golds)), "predicted": 0.0}

    def _task_info(self) -> dict[str, Any]:
        assert self.query is not None
        return {"query_id": self.query.id, "query_time": format_day(self.query.day)}

    def _final_info(self) -> dict[str, Any]:
        return {"golden_answers": list(self._golds)}
