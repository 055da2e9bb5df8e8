"""The temporal KG store: facts in numpy columns, answering agent queries in milliseconds.

Layout:

* Rows are kept physically sorted in the one global order every query returns: start day, then subject,
  relation and object *names*, then end day. Entity and relation ids are assigned in sorted name order,
  so that order is a plain ``np.lexsort`` over int columns, and row number == rank. This makes ties
  deterministic for free and makes the "global time index" for ``events`` the identity: a day, month or
  year is one contiguous row range found by two ``searchsorted`` calls on the start column.
* Per-entity groups are CSR arrays: ``by_subject[subject_offsets[e]:subject_offsets[e+1]]`` lists the rows
  with subject ``e`` in ascending row order (a stable argsort of the subject column over the sorted rows),
  likewise for objects. Because row order is time order, a time filter on a group is two
  ``searchsorted`` calls on the *row numbers* themselves (the day bounds are first turned into row bounds
  on the global start column), so no per-group copy of start days is stored.
* ``direction="both"`` merges the subject and object pieces (a sorted union: a self-loop appears once);
  with a ``limit`` each piece is cut first, so a query about a hub with 50k facts touches ~``limit`` rows.
* Names live in Python tuples (the ``entities``/``relations`` attributes) and a dict for look-up; facts
  are only turned into ``Fact`` objects for the rows a query returns.

Measured by ``benchmarks/tkg_store_speed.py`` (500k generated facts, 16k entities, 2 cores): median
0.04-0.15 ms per query for the limited kinds (neighbours in a 90-day window, the latest 20 before a
cut-off, a count, the first 50 of a month, a connection), 0.6 ms for a whole timeline, 0.9 ms for the ~700
facts of a day; 1.2-6x faster than SQLite with ``(subject, start)``, ``(object, start)`` and ``(start)``
indexes at the median, with identical results. Building from 500k ``Fact`` objects takes 1 s (0.24 s
from id arrays), saving 10 ms, a memory-mapped load 7 ms. What measurably mattered: ``np.int32`` scalars
for ``searchsorted`` (a Python int made numpy cast the whole column first, 30 µs per 100k rows, which was
most of a small query), plain ``ndarray`` views of the memory maps (``np.memmap``'s subclass overhead made
a 20-row query ~50% slower), filling ``Fact.__dict__`` directly (40% less per fact), and a
concatenate-and-sort merge instead of ``np.union1d``. Not done: a per-(entity, relation) CSR, since a
relation filter is a mask over the entity's time slice and already well under a millisecond on hubs.

``save`` writes a directory of ``.npy`` files plus ``manifest.json`` (names, counts, format version);
``load`` memory-maps the arrays, so opening a 500k-fact store is a few milliseconds and pages are read on
demand. Filters shared by every query: ``after``/``before`` (strict, on the start day), ``within`` (start
day inside a day/month/year), ``until`` (exclusive upper bound on the start day: forecasting uses it so
an agent never sees the future), ``relation``, ``direction``, ``order`` (by start day; ties on a day
always in name order) and ``limit``. Unknown entities and relations raise ``KeyError`` with the closest
names, which the tools layer turns into a message for the agent.
"""

from __future__ import annotations

import json
import operator
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rlvr.envs.temporal_kg.fuzzy import NameIndex, normalise_name
from rlvr.envs.temporal_kg.timeutil import Period, format_day

Direction = Literal["out", "in", "both"]
Order = Literal["asc", "desc"]
TimeBound = int | str | Period
"""A day number, or a date/month/year text or ``Period`` (``after`` takes its last day, others its first)."""

NO_END = -1
"""End-column value of a point event (day numbers start at 1)."""
MIN_DAY, MAX_DAY = 1, 3_652_059  # 0001-01-01 .. 9999-12-31
STORE_FORMAT, STORE_VERSION = "rlvr-tkg", 1
_COLUMNS = ("subject", "relation", "object", "start", "end")
_INDEXES = ("by_subject", "subject_offsets", "by_object", "object_offsets")
_DIRECTIONS = ("out", "in", "both")
_ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class Fact:
    """One time-stamped fact: a point event on ``start``, or an interval ``start..end`` (inclusive)."""

    subject: str
    relation: str
    object: str
    start: int
    end: int | None = None

    def render(self) -> str:
        """``"2014-03-05: Barack Obama | Make statement | China"``; intervals as ``"A .. B: ..."``."""
        when = format_day(self.start)
        if self.end is not None:
            when = f"{when} .. {format_day(self.end)}"
        return f"{when}: {self.subject} | {self.relation} | {self.object}"


class UnknownNameError(KeyError):
    """An entity or relation the store does not have; ``str()`` is the plain message (no quotes)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _day(value: Any, *, last: bool) -> int:
    if isinstance(value, Period):
        return value.last if last else value.first
    if isinstance(value, str):
        period = Period.parse(value)
        return period.last if last else period.first
    return operator.index(value)


class TKGStore:
    """Columnar numpy arrays (int32 ids, int32 days) + sorted index arrays; queries in ms on 500k facts."""

    entities: tuple[str, ...]
    relations: tuple[str, ...]

    def __init__(
        self,
        entities: Sequence[str],
        relations: Sequence[str],
        columns: dict[str, np.ndarray],
        indexes: dict[str, np.ndarray],
    ) -> None:
        """Wrap already sorted columns and their indexes; use ``from_facts``/``from_arrays``/``load``."""
        self.entities = tuple(entities)
        self.relations = tuple(relations)
        self._entity_ids = {name: i for i, name in enumerate(self.entities)}
        self._relation_ids = {name: i for i, name in enumerate(self.relations)}
        self._subject, self._relation, self._object = (
            columns["subject"],
            columns["relation"],
            columns["object"],
        )
        self._start, self._end = columns["start"], columns["end"]
        self._by_subject, self._subject_offsets = indexes["by_subject"], indexes["subject_offsets"]
        self._by_object, self._object_offsets = indexes["by_object"], indexes["object_offsets"]
        self._entity_index: NameIndex | None = None
        self._relation_index: NameIndex | None = None
        self._self_loops: np.ndarray | None = None

    # ------------------------------------------------------------------ building

    @classmethod
    def from_facts(
        cls, facts: Iterable[Fact | tuple[str, str, str, int] | tuple[str, str, str, int, int | None]]
    ) -> TKGStore:
        """A store of ``facts`` (``Fact`` objects or tuples); exact duplicates are kept once.

        Start/end may also be date texts (``"2014-03-05"``, ``"2014-03"``: start takes a period's first
        day, end its last). A bad fact is a ``ValueError`` naming its position.
        """
        entity_ids: dict[str, int] = {}
        relation_ids: dict[str, int] = {}
        subjects: list[int] = []
        relations: list[int] = []
        objects: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        for position, fact in enumerate(facts):
            try:
                if isinstance(fact, Fact):
                    subject, relation, obj, start, end = (
                        fact.subject,
                        fact.relation,
                        fact.object,
                        fact.start,
                        fact.end,
                    )
                elif len(fact) == 4:
                    (subject, relation, obj, start), end = fact, None
                elif len(fact) == 5:
                    subject, relation, obj, start, end = fact
                else:
                    raise ValueError(f"expected 4 or 5 fields, got {len(fact)}")
                for name in (subject, relation, obj):
                    if not isinstance(name, str) or not name:
                        raise ValueError(f"names must be non-empty strings, got {name!r}")
                first = _day(start, last=False)
                final = NO_END if end is None else _day(end, last=True)
            except (TypeError, ValueError) as error:
                raise ValueError(f"fact {position} ({fact!r}): {error}") from None
            subjects.append(entity_ids.setdefault(subject, len(entity_ids)))
            relations.append(relation_ids.setdefault(relation, len(relation_ids)))
            objects.append(entity_ids.setdefault(obj, len(entity_ids)))
            starts.append(first)
            ends.append(final)
        return cls.from_arrays(
            list(entity_ids), list(relation_ids), subjects, relations, objects, starts, ends
        )

    @classmethod
    def from_arrays(
        cls,
        entities: Sequence[str],
        relations: Sequence[str],
        subject: Sequence[int] | np.ndarray,
        relation: Sequence[int] | np.ndarray,
        object: Sequence[int] | np.ndarray,
        start: Sequence[int] | np.ndarray,
        end: Sequence[int] | np.ndarray | None = None,
    ) -> TKGStore:
        """A store from id columns into ``entities``/``relations`` (any order; unused names are kept).

        ``end`` uses ``NO_END`` (-1) for point events; ``None`` means all are point events. This is the
        fast path for generators and id-based loaders: no Python loop over facts.
        """
        entity_names, entity_remap = _sorted_names(entities, "entity")
        relation_names, relation_remap = _sorted_names(relations, "relation")
        cols = {
            "subject": np.asarray(subject, dtype=np.int64),
            "relation": np.asarray(relation, dtype=np.int64),
            "object": np.asarray(object, dtype=np.int64),
            "start": np.asarray(start, dtype=np.int64),
        }
        count = len(cols["start"])
        cols["end"] = np.full(count, NO_END, dtype=np.int64) if end is None else np.asarray(end, np.int64)
        if any(column.shape != (count,) for column in cols.values()):
            raise ValueError("subject, relation, object, start and end must be 1-d arrays of one length")
        for name, table in (
            ("subject", entity_names),
            ("object", entity_names),
            ("relation", relation_names),
        ):
            if count and (cols[name].min() < 0 or cols[name].max() >= len(table)):
                raise ValueError(f"{name} ids must lie in [0, {len(table)})")
        if count and (cols["start"].min() < MIN_DAY or cols["start"].max() > MAX_DAY):
            raise ValueError(f"start days must be day numbers in [{MIN_DAY}, {MAX_DAY}]")
        interval = cols["end"] != NO_END
        bad = np.flatnonzero(interval & ((cols["end"] < cols["start"]) | (cols["end"] > MAX_DAY)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"fact {i}: end day {int(cols['end'][i])} before start day {int(cols['start'][i])}"
            )
        cols["subject"] = entity_remap[cols["subject"]]
        cols["object"] = entity_remap[cols["object"]]
        cols["relation"] = relation_remap[cols["relation"]]

        order = np.lexsort((cols["end"], cols["object"], cols["relation"], cols["subject"], cols["start"]))
        cols = {name: column[order] for name, column in cols.items()}
        if count > 1:
            keep = np.ones(count, dtype=bool)
            keep[1:] = np.any([column[1:] != column[:-1] for column in cols.values()], axis=0)
            if not keep.all():
                cols = {name: column[keep] for name, column in cols.items()}
        columns = {name: column.astype(np.int32) for name, column in cols.items()}
        indexes = {}
        for role in ("subject", "object"):
            indexes[f"by_{role}"] = np.argsort(columns[role], kind="stable").astype(np.int32)
            offsets = np.zeros(len(entity_names) + 1, dtype=np.int64)
            np.cumsum(np.bincount(columns[role], minlength=len(entity_names)), out=offsets[1:])
            indexes[f"{role}_offsets"] = offsets
        return cls(entity_names, relation_names, columns, indexes)

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``path/`` as one ``.npy`` per array and ``manifest.json`` (written last)."""
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {**self._columns(), **self._indexes()}
        for name, array in arrays.items():
            np.save(directory / f"{name}.npy", np.ascontiguousarray(array))
        manifest = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "facts": len(self),
            "entities": list(self.entities),
            "relations": list(self.relations),
        }
        temporary = directory / "manifest.json.tmp"
        temporary.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        temporary.replace(directory / "manifest.json")

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, mmap: bool = True) -> TKGStore:
        """Open a directory written by ``save``; arrays are memory-mapped read-only unless ``mmap=False``."""
        directory = Path(path)
        manifest_path = directory / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{directory} is not a saved TKGStore (no manifest.json)")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != STORE_FORMAT or manifest.get("version") != STORE_VERSION:
            raise ValueError(
                f"{manifest_path}: format {manifest.get('format')!r} version {manifest.get('version')!r},"
                f" expected {STORE_FORMAT!r} version {STORE_VERSION}"
            )
        mode = "r" if mmap else None
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode=mode) for name in _COLUMNS + _INDEXES}
        facts, entities = manifest["facts"], len(manifest["entities"])
        expected = {name: facts for name in (*_COLUMNS, "by_subject", "by_object")}
        expected.update(subject_offsets=entities + 1, object_offsets=entities + 1)
        for name, length in expected.items():
            if arrays[name].shape != (length,):
                raise ValueError(
                    f"{directory / (name + '.npy')}: shape {arrays[name].shape}, expected ({length},)"
                )
        # Plain ndarray views of the maps: still paged in lazily, without np.memmap's per-operation
        # subclass overhead (it made a 20-row query ~50% slower).
        plain = {name: np.asarray(array) for name, array in arrays.items()}
        return cls(
            manifest["entities"],
            manifest["relations"],
            {name: plain[name] for name in _COLUMNS},
            {name: plain[name] for name in _INDEXES},
        )

    def _columns(self) -> dict[str, np.ndarray]:
        return {
            "subject": self._subject,
            "relation": self._relation,
            "object": self._object,
            "start": self._start,
            "end": self._end,
        }

    def _indexes(self) -> dict[str, np.ndarray]:
        return {
            "by_subject": self._by_subject,
            "subject_offsets": self._subject_offsets,
            "by_object": self._by_object,
            "object_offsets": self._object_offsets,
        }

    def columns(self) -> dict[str, np.ndarray]:
        """Read-only views of the sorted id columns (for vectorised work such as forecasting baselines)."""
        views = {}
        for name, column in self._columns().items():
            view = column.view()
            view.flags.writeable = False
            views[name] = view
        return views

    # ------------------------------------------------------------------ names

    def __len__(self) -> int:
        return len(self._start)

    def __iter__(self) -> Iterator[Fact]:
        """Every fact in the global order (start day, then names)."""
        for begin in range(0, len(self), 65_536):
            yield from self._facts(np.arange(begin, min(begin + 65_536, len(self))))

    def __repr__(self) -> str:
        span = self.time_span()
        when = f", {format_day(span[0])}..{format_day(span[1])}" if span else ""
        sizes = f"{len(self)} facts, {len(self.entities)} entities, {len(self.relations)} relations"
        return f"TKGStore({sizes}{when})"

    def time_span(self) -> tuple[int, int] | None:
        """First and last start day, or ``None`` for an empty store."""
        return (int(self._start[0]), int(self._start[-1])) if len(self) else None

    def has_entity(self, name: str) -> bool:
        """Exact-name membership (see ``resolve_entity`` for case/punctuation-insensitive look-up)."""
        return name in self._entity_ids

    def has_relation(self, name: str) -> bool:
        return name in self._relation_ids

    def degree(self, entity: str) -> int:
        """Number of facts with ``entity`` as subject or object (a self-loop counts once)."""
        return self.count(entity)

    def search_entities(self, text: str, limit: int = 10) -> list[tuple[str, float]]:
        """Fuzzy name search, best first: exact > prefix > word overlap > trigram similarity (``fuzzy``)."""
        if self._entity_index is None:
            self._entity_index = NameIndex(self.entities)
        return [(self.entities[i], score) for i, score in self._entity_index.search(text, limit)]

    def search_relations(self, text: str, limit: int = 10) -> list[tuple[str, float]]:
        """Like ``search_entities``, over relation names."""
        if self._relation_index is None:
            self._relation_index = NameIndex(self.relations)
        return [(self.relations[i], score) for i, score in self._relation_index.search(text, limit)]

    def resolve_entity(self, name: str) -> str:
        """The stored name for ``name``: exact, else the one name equal after normalisation; else KeyError."""
        if name in self._entity_ids:
            return name
        if self._entity_index is None:
            self._entity_index = NameIndex(self.entities)
        matches = self._entity_index.lookup(name)
        if len(matches) == 1:
            return self.entities[matches[0]]
        raise self._unknown("entity", name, self.search_entities)

    def _entity_id(self, name: str) -> int:
        entity_id = self._entity_ids.get(name)
        if entity_id is None:
            raise self._unknown("entity", name, self.search_entities)
        return entity_id

    def _relation_id(self, name: str | None) -> int | None:
        if name is None:
            return None
        relation_id = self._relation_ids.get(name)
        if relation_id is None:
            raise self._unknown("relation", name, self.search_relations)
        return relation_id

    @staticmethod
    def _unknown(kind: str, name: Any, search: Any) -> UnknownNameError:
        close = [found for found, _ in search(name, 5)] if isinstance(name, str) else []
        hint = f"; closest {kind} names: " + ", ".join(close) if close else ""
        return UnknownNameError(f"unknown {kind} {name!r}{hint}")

    # ------------------------------------------------------------------ queries

    def neighbours(
        self,
        entity: str,
        *,
        relation: str | None = None,
        direction: Direction = "both",
        after: TimeBound | None = None,
        before: TimeBound | None = None,
        within: Period | str | None = None,
        until: TimeBound | None = None,
        order: Order = "asc",
        limit: int | None = None,
    ) -> list[Fact]:
        """Facts with ``entity`` as subject (``"out"``), object (``"in"``) or either, filtered and ordered."""
        rows = self._entity_rows(entity, relation, direction, after, before, within, until, order, limit)
        return self._facts(rows)

    timeline = neighbours
    """All facts with ``entity`` as subject or object, by time: the same query as ``neighbours``,
    kept under the name the timeline tool uses (MemoTime's tool set names both)."""

    def connection(
        self,
        a: str,
        b: str,
        *,
        relation: str | None = None,
        direction: Direction = "both",
        after: TimeBound | None = None,
        before: TimeBound | None = None,
        within: Period | str | None = None,
        until: TimeBound | None = None,
        order: Order = "asc",
        limit: int | None = None,
    ) -> list[Fact]:
        """Facts linking ``a`` and ``b``: ``"out"`` a->b, ``"in"`` b->a, ``"both"`` either way."""
        rows = self._connection_rows(a, b, relation, direction, after, before, within, until, order, limit)
        return self._facts(rows)

    def events(
        self,
        within: Period | str,
        *,
        relation: str | None = None,
        after: TimeBound | None = None,
        before: TimeBound | None = None,
        until: TimeBound | None = None,
        order: Order = "asc",
        limit: int | None = None,
    ) -> list[Fact]:
        """Every fact starting inside ``within`` (a day, month or year), optionally of one relation."""
        return self._facts(self._event_rows(within, relation, after, before, until, order, limit))

    def count(
        self,
        entity: str,
        *,
        other: str | None = None,
        relation: str | None = None,
        direction: Direction = "both",
        after: TimeBound | None = None,
        before: TimeBound | None = None,
        within: Period | str | None = None,
        until: TimeBound | None = None,
        order: Order = "asc",
        limit: int | None = None,
    ) -> int:
        """How many facts ``timeline``/``neighbours`` (or ``connection`` with ``other``) would return.

        ``order`` and ``limit`` are accepted so a query's keyword arguments can be passed unchanged, and
        ignored: the count is the total before any limit, for "N more not shown" notes.
        """
        del order, limit
        if other is not None:
            rows = self._connection_rows(entity, other, relation, direction, after, before, within, until)
            return int(rows.size)
        _check(direction, "asc", None)
        entity_id = self._entity_id(entity)
        if relation is not None:
            return int(self._entity_rows(entity, relation, direction, after, before, within, until).size)
        # No relation filter: the answer is in the slice lengths, with no row gathered.
        rows = self._row_bounds(after, before, within, until)
        pieces = self._entity_pieces(entity_id, direction, rows)
        total = sum(piece.size for piece in pieces)
        if len(pieces) == 2 and self._has_self_loop(entity_id):
            total -= int(np.count_nonzero(self._object[pieces[0]] == entity_id))
        return int(total)

    def count_events(
        self,
        within: Period | str,
        *,
        relation: str | None = None,
        after: TimeBound | None = None,
        before: TimeBound | None = None,
        until: TimeBound | None = None,
    ) -> int:
        """How many facts ``events`` would return without a limit."""
        return int(self._event_rows(within, relation, after, before, until).size)

    # ------------------------------------------------------------------ query machinery

    def _row_bounds(self, after: Any, before: Any, within: Any, until: Any) -> tuple[int, int]:
        """The filters' start-day window as a half-open range of (time-sorted) row numbers."""
        low, high = MIN_DAY, MAX_DAY + 1
        if after is not None:
            low = max(low, _day(after, last=True) + 1)
        if before is not None:
            high = min(high, _day(before, last=False))
        if within is not None:
            period = Period.parse(within) if isinstance(within, str) else within
            if not isinstance(period, Period):
                raise TypeError(f"within must be a Period or a date text, got {type(within).__name__}")
            low, high = max(low, period.first), min(high, period.last + 1)
        if until is not None:
            high = min(high, _day(until, last=False))
        if high <= low:
            return 0, 0
        low, high = max(low, MIN_DAY), min(high, MAX_DAY + 1)
        # Typed scalars: a Python int would make numpy cast the whole int32 column first (~30 µs/100k rows).
        return int(self._start.searchsorted(np.int32(low))), int(self._start.searchsorted(np.int32(high)))

    def _group(
        self, index: np.ndarray, offsets: np.ndarray, entity_id: int, rows: tuple[int, int]
    ) -> np.ndarray:
        group = index[offsets[entity_id] : offsets[entity_id + 1]]
        low, high = rows
        if low > 0 or high < len(self):
            group = group[group.searchsorted(np.int32(low)) : group.searchsorted(np.int32(high))]
        return group

    def _entity_rows(
        self,
        entity: str,
        relation: str | None,
        direction: str,
        after: Any,
        before: Any,
        within: Any,
        until: Any,
        order: str = "asc",
        limit: int | None = None,
    ) -> np.ndarray:
        _check(direction, order, limit)
        entity_id = self._entity_id(entity)
        relation_id = self._relation_id(relation)
        pieces = self._entity_pieces(entity_id, direction, self._row_bounds(after, before, within, until))
        if relation_id is not None:
            pieces = [piece[self._relation[piece] == relation_id] for piece in pieces]
        return self._finish(pieces, order, limit)

    def _entity_pieces(self, entity_id: int, direction: str, rows: tuple[int, int]) -> list[np.ndarray]:
        """The entity's subject and/or object rows inside the row window, each ascending."""
        pieces = []
        if direction in ("out", "both"):
            pieces.append(self._group(self._by_subject, self._subject_offsets, entity_id, rows))
        if direction in ("in", "both"):
            pieces.append(self._group(self._by_object, self._object_offsets, entity_id, rows))
        return pieces

    def _has_self_loop(self, entity_id: int) -> bool:
        if self._self_loops is None:
            flags = np.zeros(len(self.entities), dtype=bool)
            flags[self._subject[self._subject == self._object]] = True
            self._self_loops = flags
        return bool(self._self_loops[entity_id])

    def _connection_rows(
        self,
        a: str,
        b: str,
        relation: str | None,
        direction: str,
        after: Any,
        before: Any,
        within: Any,
        until: Any,
        order: str = "asc",
        limit: int | None = None,
    ) -> np.ndarray:
        _check(direction, order, limit)
        a_id, b_id = self._entity_id(a), self._entity_id(b)
        relation_id = self._relation_id(relation)
        rows = self._row_bounds(after, before, within, until)
        forward, backward = direction in ("out", "both"), direction in ("in", "both")
        # Scan the lower-degree end only: a->b is a's out-group with object b, or b's in-group with subject a.
        pieces = []
        if self._degree_id(a_id) <= self._degree_id(b_id):
            if forward:
                piece = self._group(self._by_subject, self._subject_offsets, a_id, rows)
                pieces.append(piece[self._object[piece] == b_id])
            if backward:
                piece = self._group(self._by_object, self._object_offsets, a_id, rows)
                pieces.append(piece[self._subject[piece] == b_id])
        else:
            if forward:
                piece = self._group(self._by_object, self._object_offsets, b_id, rows)
                pieces.append(piece[self._subject[piece] == a_id])
            if backward:
                piece = self._group(self._by_subject, self._subject_offsets, b_id, rows)
                pieces.append(piece[self._object[piece] == a_id])
        if relation_id is not None:
            pieces = [piece[self._relation[piece] == relation_id] for piece in pieces]
        return self._finish(pieces, order, limit)

    def _event_rows(
        self,
        within: Any,
        relation: str | None,
        after: Any,
        before: Any,
        until: Any,
        order: str = "asc",
        limit: int | None = None,
    ) -> np.ndarray:
        _check("both", order, limit)
        if within is None:
            raise TypeError("events() needs a period: within=Period.parse('2014-03') or '2014-03'")
        relation_id = self._relation_id(relation)
        low, high = self._row_bounds(after, before, within, until)
        if relation_id is None:
            if limit is not None and order == "asc":
                high = min(high, low + limit)
            elif limit is not None:
                low = self._desc_window_start(low, high, limit)
            rows = np.arange(low, high, dtype=np.int64)
        else:
            rows = low + np.flatnonzero(self._relation[low:high] == relation_id)
        return self._finish([rows], order, limit)

    def _desc_window_start(self, low: int, high: int, limit: int) -> int:
        """First row of the shortest suffix of ``[low, high)`` holding the last ``limit`` rows' whole days."""
        if high - low <= limit:
            return low
        boundary_day = self._start[high - limit]
        return max(low, int(np.searchsorted(self._start, boundary_day)))

    def _degree_id(self, entity_id: int) -> int:
        return int(
            self._subject_offsets[entity_id + 1]
            - self._subject_offsets[entity_id]
            + self._object_offsets[entity_id + 1]
            - self._object_offsets[entity_id]
        )

    def _finish(self, pieces: list[np.ndarray], order: str, limit: int | None) -> np.ndarray:
        """Merge ascending row pieces, then order (desc: later days first, ties still by name) and cut."""
        if limit is not None:
            pieces = [self._cut(piece, order, limit) for piece in pieces]
        rows = pieces[0] if len(pieces) == 1 else _merge(pieces[0], pieces[1])
        if order == "asc":
            return rows[:limit] if limit is not None else rows
        if limit is not None:
            rows = self._cut(rows, order, limit)
        if rows.size > 1:
            # Rows are ascending, so a stable sort on descending start keeps each day's rows in name order.
            rows = rows[np.argsort(-self._start[rows].astype(np.int64), kind="stable")]
        return rows[:limit] if limit is not None else rows

    def _cut(self, rows: np.ndarray, order: str, limit: int) -> np.ndarray:
        """The rows that can be in the first ``limit`` results: a prefix, or (desc) a suffix of whole days."""
        if rows.size <= limit:
            return rows
        if order == "asc":
            return rows[:limit]
        if limit == 0:
            return rows[:0]
        # Row order is time order, so the boundary day's first row bounds the suffix: no gather needed.
        first_of_day = self._start.searchsorted(self._start[rows[rows.size - limit]])
        return rows[rows.searchsorted(first_of_day) :]

    def _facts(self, rows: np.ndarray) -> list[Fact]:
        if rows.size == 0:
            return []
        return facts_from_rows(
            self.entities,
            self.relations,
            zip(
                self._subject[rows].tolist(),
                self._relation[rows].tolist(),
                self._object[rows].tolist(),
                self._start[rows].tolist(),
                self._end[rows].tolist(),
                strict=True,
            ),
        )


def facts_from_rows(
    entities: Sequence[str], relations: Sequence[str], rows: Iterable[tuple[int, int, int, int, int]]
) -> list[Fact]:
    """``Fact`` objects from ``(subject id, relation id, object id, start, end or NO_END)`` rows.

    Filling each instance's ``__dict__`` directly skips the frozen dataclass ``__init__`` (one
    ``object.__setattr__`` per field): 40% less time per fact, which is most of the cost of a query that
    returns hundreds of facts. The objects are ordinary ``Fact``s (equality, hashing, repr unchanged).
    """
    new = object.__new__
    made = []
    append = made.append
    for s, r, o, d, e in rows:
        fact = new(Fact)
        fact.__dict__.update(
            subject=entities[s],
            relation=relations[r],
            object=entities[o],
            start=d,
            end=None if e == NO_END else e,
        )
        append(fact)
    return made


def _merge(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Sorted union of two ascending row arrays (a self-loop's row is in both); cheaper than ``union1d``."""
    if first.size == 0:
        return second
    if second.size == 0:
        return first
    merged = np.concatenate((first, second))
    merged.sort(kind="stable")
    keep = np.empty(merged.size, dtype=bool)
    keep[0] = True
    np.not_equal(merged[1:], merged[:-1], out=keep[1:])
    return merged if keep.all() else merged[keep]


def _check(direction: str, order: str, limit: int | None) -> None:
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
    if order not in _ORDERS:
        raise ValueError(f"order must be one of {_ORDERS}, got {order!r}")
    if limit is not None and (isinstance(limit, bool) or operator.index(limit) < 0):
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")


def _sorted_names(names: Sequence[str], kind: str) -> tuple[list[str], np.ndarray]:
    """Names in sorted order and the old-id -> new-id map; ``ValueError`` on duplicates or non-strings."""
    names = list(names)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{kind} names must be non-empty strings, got {name!r}")
    if len(set(names)) != len(names):
        seen: set[str] = set()
        duplicate = next(name for name in names if name in seen or seen.add(name))
        raise ValueError(f"duplicate {kind} name {duplicate!r}")
    order = sorted(range(len(names)), key=names.__getitem__)
    remap = np.empty(len(names), dtype=np.int64)
    remap[order] = np.arange(len(names), dtype=np.int64)
    return [names[i] for i in order], remap


__all__ = [
    "NO_END",
    "Direction",
    "Fact",
    "Order",
    "TKGStore",
    "UnknownNameError",
    "facts_from_rows",
    "normalise_name",
]
