"""The temporal KG store against SQLite on the same 500k generated facts, in one run.

Both sides answer the same ~1000 random queries of each kind and turn every result row into the same
``Fact`` objects (names looked up from the same tuples), so the comparison is of the look-ups, not of
what is done with their results; every pair of answers is checked to be identical. SQLite gets the
indexes a careful user would add, ``(subject, start)``, ``(object, start)`` and ``(start)``, over integer
ids assigned in name order, and ``ORDER BY start, subject, relation, object`` gives it our tie order.
Queries alternate between the two sides so a burst of load from another process hits both.

Query kinds (entities are subjects of random facts, so busy actors are asked about as often as they
act, as an agent following the news would):

* ``neighbours``: both directions, start in a random 90-day window (strict after/before), first 20;
* ``timeline``: every fact of the entity, in time order (no limit: the heaviest kind);
* ``timeline_desc20``: the 20 latest facts before a random cut-off (``until``), as forecasting asks;
* ``connection``: every fact between the entity and one of its partners, either way;
* ``events_day``: every fact on a random day; ``events_month``: the first 50 of a random month;
* ``count``: how many facts the entity has in a random year;
* ``search``: fuzzy entity search for a name as an agent might type it (lower case, a dropped letter,
  or the last word only); SQLite's peer is FTS5 with the query's words OR-ed, ranked by bm25. Also
  reported: how often each puts the intended name first.

    .venv/bin/python benchmarks/tkg_store_speed.py [--facts 500000] [--queries 1000]

Results go to benchmarks/results/tkg_store_speed.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rlvr.envs.temporal_kg.store import Fact, TKGStore, facts_from_rows
from rlvr.envs.temporal_kg.synthetic import generate_tkg
from rlvr.envs.temporal_kg.timeutil import Period

_ORDER = 'ORDER BY start, subject, relation, object, "end"'
_COLUMNS = 'subject, relation, object, start, "end"'


class SqliteTKG:
    """The same queries over an indexed SQLite table of integer ids (names in Python tuples)."""

    def __init__(self, path: Path, store: TKGStore) -> None:
        self.entities, self.relations = store.entities, store.relations
        self.ids = {name: i for i, name in enumerate(store.entities)}
        columns = store.columns()
        self.db = sqlite3.connect(path)
        self.db.execute('CREATE TABLE facts (subject INT, relation INT, object INT, start INT, "end" INT)')
        rows = zip(
            *(columns[name].tolist() for name in ("subject", "relation", "object", "start", "end")),
            strict=True,
        )
        self.db.executemany("INSERT INTO facts VALUES (?, ?, ?, ?, ?)", rows)
        self.db.execute("CREATE INDEX by_subject ON facts (subject, start)")
        self.db.execute("CREATE INDEX by_object ON facts (object, start)")
        self.db.execute("CREATE INDEX by_start ON facts (start)")
        self.db.execute("CREATE VIRTUAL TABLE names USING fts5(name)")
        self.db.executemany("INSERT INTO names (rowid, name) VALUES (?, ?)", enumerate(self.entities))
        self.db.commit()

    def _facts(self, rows: list[tuple[int, int, int, int, int]]) -> list[Fact]:
        return facts_from_rows(self.entities, self.relations, rows)  # the store's own row -> Fact path

    def neighbours(self, entity: str, after: int, before: int, limit: int) -> list[Fact]:
        e = self.ids[entity]
        sql = (
            f"SELECT {_COLUMNS} FROM facts WHERE subject = ? AND start > ? AND start < ? UNION "
            f"SELECT {_COLUMNS} FROM facts WHERE object = ? AND start > ? AND start < ? {_ORDER} LIMIT ?"
        )
        return self._facts(self.db.execute(sql, (e, after, before, e, after, before, limit)).fetchall())

    def timeline(self, entity: str) -> list[Fact]:
        e = self.ids[entity]
        sql = (
            f"SELECT {_COLUMNS} FROM facts WHERE subject = ? UNION "
            f"SELECT {_COLUMNS} FROM facts WHERE object = ? {_ORDER}"
        )
        return self._facts(self.db.execute(sql, (e, e)).fetchall())

    def timeline_desc(self, entity: str, until: int, limit: int) -> list[Fact]:
        e = self.ids[entity]
        sql = (
            f"SELECT {_COLUMNS} FROM facts WHERE subject = ? AND start < ? UNION "
            f"SELECT {_COLUMNS} FROM facts WHERE object = ? AND start < ? "
            'ORDER BY start DESC, subject, relation, object, "end" LIMIT ?'
        )
        return self._facts(self.db.execute(sql, (e, until, e, until, limit)).fetchall())

    def connection(self, a: str, b: str) -> list[Fact]:
        x, y = self.ids[a], self.ids[b]
        sql = (
            f"SELECT {_COLUMNS} FROM facts WHERE subject = ? AND object = ? UNION "
            f"SELECT {_COLUMNS} FROM facts WHERE subject = ? AND object = ? {_ORDER}"
        )
        return self._facts(self.db.execute(sql, (x, y, y, x)).fetchall())

    def events(self, period: Period, limit: int | None) -> list[Fact]:
        sql = f"SELECT {_COLUMNS} FROM facts WHERE start BETWEEN ? AND ? {_ORDER} LIMIT ?"
        return self._facts(
            self.db.execute(sql, (period.first, period.last, -1 if limit is None else limit)).fetchall()
        )

    def count(self, entity: str, period: Period) -> int:
        e = self.ids[entity]
        sql = (
            "SELECT COUNT(*) FROM (SELECT rowid FROM facts WHERE subject = ? AND start BETWEEN ? AND ? UNION "
            "SELECT rowid FROM facts WHERE object = ? AND start BETWEEN ? AND ?)"
        )
        return self.db.execute(sql, (e, period.first, period.last, e, period.first, period.last)).fetchone()[
            0
        ]

    def search(self, text: str, limit: int = 10) -> list[str]:
        words = re.findall(r"\w+", text.lower())
        if not words:
            return []
        query = " OR ".join(f'"{word}"' for word in words)
        sql = "SELECT rowid FROM names WHERE names MATCH ? ORDER BY rank LIMIT ?"
        return [self.entities[row[0]] for row in self.db.execute(sql, (query, limit))]


def _typed(name: str, rng: np.random.Generator) -> str:
    """A name as an agent might type it: lower case, a letter dropped, or only the last word."""
    roll = rng.random()
    if roll < 1 / 3:
        return name.lower()
    if roll < 2 / 3 and len(name) > 4:
        cut = int(rng.integers(1, len(name) - 1))
        return name[:cut] + name[cut + 1 :]
    return name.replace("(", " ").replace(")", " ").split()[-1]


def _stats(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000.0
    return {"median": float(np.median(ms)), "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}


def run(facts: int, queries: int, seed: int) -> dict[str, Any]:
    result: dict[str, Any] = {"facts": facts, "queries_per_kind": queries, "seed": seed}
    started = time.perf_counter()
    store = generate_tkg(seed, facts=facts)
    result["generate_s"] = time.perf_counter() - started
    result["entities"] = len(store.entities)
    fact_list = list(store)
    started = time.perf_counter()
    rebuilt = TKGStore.from_facts(fact_list)
    result["build_from_facts_s"] = time.perf_counter() - started
    columns = {name: np.asarray(column) for name, column in store.columns().items()}
    started = time.perf_counter()
    TKGStore.from_arrays(
        store.entities,
        store.relations,
        *(columns[n] for n in ("subject", "relation", "object", "start", "end")),
    )
    result["build_from_arrays_s"] = time.perf_counter() - started
    assert list(rebuilt) == fact_list
    del rebuilt, fact_list

    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "store"
        started = time.perf_counter()
        store.save(directory)
        result["save_s"] = time.perf_counter() - started
        started = time.perf_counter()
        ours = TKGStore.load(directory)
        result["load_mmap_s"] = time.perf_counter() - started
        result["store_bytes"] = sum(f.stat().st_size for f in directory.iterdir())
        started = time.perf_counter()
        ours.search_entities("warm up")
        result["search_index_build_s"] = time.perf_counter() - started

        started = time.perf_counter()
        peer = SqliteTKG(Path(scratch) / "facts.sqlite", store)
        result["sqlite_build_s"] = time.perf_counter() - started
        result["sqlite_bytes"] = os.path.getsize(Path(scratch) / "facts.sqlite")
        result["queries"], result["search_top1"] = _time_queries(ours, peer, queries, seed)
        peer.db.close()
    return result


def _time_queries(ours: TKGStore, peer: SqliteTKG, queries: int, seed: int) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed + 1)
    columns = ours.columns()
    first, last = ours.time_span()  # type: ignore[misc]
    rows = rng.integers(len(ours), size=queries)
    who = [ours.entities[i] for i in columns["subject"][rows].tolist()]
    partner = [ours.entities[i] for i in columns["object"][rows].tolist()]
    window = rng.integers(first, last - 90, size=queries)
    cut = rng.integers(first + 30, last + 1, size=queries)
    days = rng.integers(first, last + 1, size=queries)
    kinds: dict[str, tuple[Callable[[int], Any], Callable[[int], Any]]] = {
        "neighbours": (
            lambda i: ours.neighbours(who[i], after=int(window[i]), before=int(window[i]) + 91, limit=20),
            lambda i: peer.neighbours(who[i], int(window[i]), int(window[i]) + 91, 20),
        ),
        "timeline": (lambda i: ours.timeline(who[i]), lambda i: peer.timeline(who[i])),
        "timeline_desc20": (
            lambda i: ours.timeline(who[i], until=int(cut[i]), order="desc", limit=20),
            lambda i: peer.timeline_desc(who[i], int(cut[i]), 20),
        ),
        "connection": (
            lambda i: ours.connection(who[i], partner[i]),
            lambda i: peer.connection(who[i], partner[i]),
        ),
        "events_day": (
            lambda i: ours.events(Period.containing(int(days[i]))),
            lambda i: peer.events(Period.containing(int(days[i])), None),
        ),
        "events_month": (
            lambda i: ours.events(Period.containing(int(days[i]), "month"), limit=50),
            lambda i: peer.events(Period.containing(int(days[i]), "month"), 50),
        ),
        "count": (
            lambda i: ours.count(who[i], within=Period.containing(int(days[i]), "year")),
            lambda i: peer.count(who[i], Period.containing(int(days[i]), "year")),
        ),
    }
    timings: dict[str, dict[str, Any]] = {}
    for kind, (mine, theirs) in kinds.items():
        mine(0), theirs(0)  # warm caches
        my_times, their_times, sizes = [], [], []
        for i in range(queries):
            started = time.perf_counter()
            got = mine(i)
            my_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            expected = theirs(i)
            their_times.append(time.perf_counter() - started)
            if got != expected:
                raise AssertionError(f"{kind} query {i} differs: {len(got)} vs {len(expected)} facts")
            sizes.append(got if isinstance(got, int) else len(got))
        timings[kind] = _summary(my_times, their_times, sizes)

    typed = [_typed(name, rng) for name in who]
    my_times, their_times, top1 = [], [], [0, 0]
    for name, text in zip(who, typed, strict=True):
        started = time.perf_counter()
        mine_found = ours.search_entities(text, 10)
        my_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        their_found = peer.search(text, 10)
        their_times.append(time.perf_counter() - started)
        top1[0] += bool(mine_found) and mine_found[0][0] == name
        top1[1] += bool(their_found) and their_found[0] == name
    timings["search"] = _summary(my_times, their_times, [10] * queries)
    # Only the last word: often shared by several names, so top-1 there is partly luck for both.
    quality = {"ours": top1[0] / queries, "sqlite_fts5": top1[1] / queries}
    return timings, quality


def _summary(mine: list[float], theirs: list[float], sizes: list[int]) -> dict[str, Any]:
    ours_ms, sqlite_ms = _stats(mine), _stats(theirs)
    return {
        "ours_ms": ours_ms,
        "sqlite_ms": sqlite_ms,
        "speedup_median": sqlite_ms["median"] / ours_ms["median"],
        "speedup_p99": sqlite_ms["p99"] / ours_ms["p99"],
        "speedup_mean": sqlite_ms["mean"] / ours_ms["mean"],
        "result_size_median": statistics.median(sizes),
        "result_size_max": max(sizes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facts", type=int, default=500_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/tkg_store_speed.json"))
    args = parser.parse_args()
    result = run(args.facts, args.queries, args.seed)
    result["machine"] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    result["date"] = dt.date.today().isoformat()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['facts']:,} facts, {result['entities']:,} entities; generate {result['generate_s']:.2f}s")
    print(
        f"build from Facts {result['build_from_facts_s']:.2f}s / arrays {result['build_from_arrays_s']:.2f}s,"
        f" save {result['save_s'] * 1000:.0f} ms, load {result['load_mmap_s'] * 1000:.1f} ms,"
        f" search index {result['search_index_build_s']:.2f}s; SQLite build {result['sqlite_build_s']:.2f}s"
    )
    header = ("ours med", "ours p99", "sqlite med", "sqlite p99", "x med", "x p99")
    print(f"{'query':<16}" + "".join(f"{name:>12}" for name in header))
    for kind, row in result["queries"].items():
        cells = (
            row["ours_ms"]["median"],
            row["ours_ms"]["p99"],
            row["sqlite_ms"]["median"],
            row["sqlite_ms"]["p99"],
        )
        ratios = (row["speedup_median"], row["speedup_p99"])
        print(f"{kind:<16}" + "".join(f"{v:>12.3f}" for v in cells) + "".join(f"{v:>12.1f}" for v in ratios))
    print(
        f"search top-1 = intended name: ours {result['search_top1']['ours']:.2f}, "
        f"SQLite FTS5 {result['search_top1']['sqlite_fts5']:.2f}"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
