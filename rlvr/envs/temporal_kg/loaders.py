"""Readers for the temporal KG files in the wild, into ``Fact`` streams and ``TKGStore``s.

Formats (``load_tkg`` tells them apart; each reader can also be called on its own):

* ``"names"``: ICEWS-style name TSV, ``subject<TAB>relation<TAB>object<TAB>YYYY-MM-DD`` (ICEWS14,
  ICEWS05-15, MultiTQ's ``kg/full.txt``, GDELT in this form). A month or year in the time column is
  read as its first day.
* ``"ids"``: id TSV, ``s_id<TAB>r_id<TAB>o_id<TAB>t[<TAB>anything]`` with ``entity2id.txt`` and
  ``relation2id.txt`` (lines ``name<TAB>id``; an optional count line first, as OpenKE writes; ``id<TAB>name``
  is recognised too). ``t`` is a step index from ``start_date``: day = ``start_date + t //
  steps_per_day``. ``steps_per_day=1`` for day indices (ICEWS14 from 2014-01-01), 24 for hour steps
  (RE-NET's ICEWS18: 0, 24, 48, ...), 1440 for minute steps (RE-NET's GDELT: 0, 15, 30, ...). Steps
  finer than a day collapse onto their day: the store's resolution is one day. ``load_tkg`` guesses
  ``steps_per_day`` from the greatest common divisor of the steps and ``start_date`` from a known
  dataset name in the path (``KNOWN_START_DATES``) when they are not given.
* ``"intervals"``: YAGO/Wikidata style ``s<TAB>r<TAB>o<TAB>start<TAB>end``; a time is a year, a month or a
  date, with ``#`` for unknown digits (``1980-##-##`` is the year 1980, YAGO11k's form); ``####``,
  ``-`` or an empty field is unknown, as is a year outside 1..9999 (BCE dates cannot be day numbers).
  A start reads as its period's first day and an end as its last, so ``1980 .. 1990`` covers both
  years whole. Unknown end: the fact is kept as a point event at its start. Unknown start: skipped
  (``missing_start="skip"``, the default), placed at the end's period (``"end"``) or an error.
* ``"tgb"``: TGB-style CSV edge lists with a header naming ``ts``/``timestamp``, ``src``/``head``/...,
  ``dst``/``tail``/..., and optionally ``edge_type``/``relation``/``relation_type`` (else relation
  ``"link"``) and ``weight``/``w`` (ignored: the store has no weights). ``time_unit="seconds"`` reads
  ``ts`` as unix seconds (UTC), ``"days"`` as a day index from ``start_date``, ``"years"`` as a calendar
  year (tkgl-smallpedia/wikidata). Node ids are kept as written, as names.
* ``"store"``: a directory written by ``TKGStore.save``.

Every malformed line is a ``ValueError`` naming the file and line number; ``strict=False`` skips such
lines instead and reports how many with a warning, for large dumps with a few broken rows. MultiTQ and
TimeQuestions question files are read by ``questions_io`` (re-exported here).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Literal

import numpy as np

from rlvr.envs.temporal_kg.questions_io import KGQuestion, read_multitq, read_questions, read_timequestions
from rlvr.envs.temporal_kg.store import NO_END, Fact, TKGStore
from rlvr.envs.temporal_kg.timeutil import Period

TKG_FORMATS = ("names", "ids", "intervals", "tgb", "store")
UNIX_EPOCH = dt.date(1970, 1, 1).toordinal()
KNOWN_START_DATES = {
    "icews05-15": "2005-01-01",
    "icews0515": "2005-01-01",
    "icews14": "2014-01-01",
    "icews18": "2018-01-01",
    "gdelt": "2018-01-01",
}
"""First day of well-known id-based datasets, matched case-insensitively against a directory's name."""
_SPLITS = ("train", "valid", "test", "dev")
_SPLIT_SUFFIXES = ("", ".txt", ".tsv")
_UNKNOWN_TIMES = frozenset({"", "-", "####", "#", "none", "null", "nan", "unknown"})
_HASHED_TIME = re.compile(r"(-?\d{1,4}|#{4})(?:-(\d{1,2}|##)(?:-(\d{1,2}|##))?)?")
_TS_NAMES = ("ts", "timestamp", "time", "t")
_SRC_NAMES = ("src", "source", "head", "subject", "src_id", "source_id", "u", "user_id", "sender")
_DST_NAMES = ("dst", "destination", "tail", "object", "dst_id", "destination_id", "v", "item_id", "receiver")
_REL_NAMES = ("edge_type", "relation", "relation_type", "rel", "type", "label")

__all__ = [
    "KNOWN_START_DATES",
    "TKG_FORMATS",
    "KGQuestion",
    "detect_format",
    "load_tkg",
    "read_id_map",
    "read_id_quadruples",
    "read_interval_facts",
    "read_multitq",
    "read_name_quadruples",
    "read_questions",
    "read_tgb_edges",
    "read_timequestions",
]


class _Lines:
    """Numbered, stripped, non-blank lines of a text file, and the strict/skip policy for bad ones."""

    def __init__(self, path: str | os.PathLike[str], strict: bool) -> None:
        self.path = Path(path)
        self.strict = strict
        self.skipped = 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        with open(self.path, encoding="utf-8-sig", newline="") as handle:
            for number, line in enumerate(handle, start=1):
                line = line.rstrip("\r\n")
                if line.strip():
                    yield number, line

    def bad(self, number: int, message: str) -> None:
        """Raise for a malformed line, or (not strict) count it and carry on."""
        if self.strict:
            raise ValueError(f"{self.path}:{number}: {message}")
        self.skipped += 1

    def done(self) -> None:
        if self.skipped:
            warnings.warn(f"{self.path}: skipped {self.skipped} malformed line(s)", stacklevel=3)


def _fields(line: str, delimiter: str = "\t") -> list[str]:
    return [field.strip() for field in line.split(delimiter)]


# ---------------------------------------------------------------------------------------- name TSV


def read_name_quadruples(path: str | os.PathLike[str], *, strict: bool = True) -> Iterator[Fact]:
    """``subject<TAB>relation<TAB>object<TAB>YYYY-MM-DD`` lines as point-event facts."""
    lines = _Lines(path, strict)
    for number, line in lines:
        parts = _fields(line)
        if len(parts) != 4:
            lines.bad(
                number, f"expected 4 tab-separated fields (subject, relation, object, date), got {len(parts)}"
            )
            continue
        subject, relation, obj, when = parts
        if not (subject and relation and obj):
            lines.bad(number, "empty subject, relation or object")
            continue
        try:
            day = Period.parse(when).first
        except ValueError:
            lines.bad(number, f"bad date {when!r} (expected YYYY-MM-DD)")
            continue
        yield Fact(subject, relation, obj, day)
    lines.done()


# ---------------------------------------------------------------------------------------- id TSV


def read_id_map(path: str | os.PathLike[str], *, strict: bool = True) -> dict[int, str]:
    """``entity2id.txt`` / ``relation2id.txt``: id -> name, from ``name<TAB>id`` (or ``id<TAB>name``) lines.

    A first line holding a single integer (OpenKE's count line) is checked against the number of
    entries. Names may contain spaces; only tabs separate fields (a space-separated ``name id`` line is
    read by splitting at the last space).
    """
    lines = _Lines(path, strict)
    table: dict[int, str] = {}
    declared: int | None = None
    for number, line in lines:
        parts = _fields(line) if "\t" in line else line.strip().rsplit(" ", 1)
        if len(parts) == 1 and not table and declared is None and parts[0].isdigit():
            declared = int(parts[0])
            continue
        if len(parts) < 2:
            lines.bad(number, "expected 'name<TAB>id'")
            continue
        name, ident = parts[0], parts[1]
        if not _is_int(ident) and _is_int(name):
            name, ident = ident, name
        if not _is_int(ident) or not name:
            lines.bad(number, f"expected 'name<TAB>id' with an integer id, got {line!r}")
            continue
        if int(ident) in table:
            lines.bad(number, f"id {ident} appears twice")
            continue
        table[int(ident)] = name
    lines.done()
    if declared is not None and declared != len(table):
        raise ValueError(f"{path}: the count line says {declared} entries, the file has {len(table)}")
    return table


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def read_id_quadruples(
    path: str | os.PathLike[str],
    entities: Mapping[int, str] | str | os.PathLike[str],
    relations: Mapping[int, str] | str | os.PathLike[str],
    *,
    start_date: str,
    steps_per_day: int = 1,
    strict: bool = True,
) -> Iterator[Fact]:
    """``s_id r_id o_id t [extra columns ignored]`` lines as facts on ``start_date + t // steps_per_day``.

    ``entities``/``relations`` are id maps or paths to ``entity2id.txt``-style files.
    """
    entity_map = entities if isinstance(entities, Mapping) else read_id_map(entities)
    relation_map = relations if isinstance(relations, Mapping) else read_id_map(relations)
    if steps_per_day < 1:
        raise ValueError(f"steps_per_day must be >= 1, got {steps_per_day}")
    first_day = Period.parse(start_date).first
    lines = _Lines(path, strict)
    for number, line in lines:
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) < 4:
            lines.bad(number, f"expected at least 4 fields (s_id, r_id, o_id, t), got {len(parts)}")
            continue
        try:
            s, r, o, t = (int(part) for part in parts[:4])
        except ValueError:
            lines.bad(number, f"ids and time must be integers, got {parts[:4]}")
            continue
        if t < 0:
            lines.bad(number, f"negative time step {t}")
            continue
        try:
            subject, relation, obj = entity_map[s], relation_map[r], entity_map[o]
        except KeyError as missing:
            lines.bad(number, f"id {missing.args[0]} is not in the id map")
            continue
        yield Fact(subject, relation, obj, first_day + t // steps_per_day)
    lines.done()


def guess_steps_per_day(steps: Iterable[int]) -> int:
    """1, 24 or 1440 from the steps' greatest common divisor (day, hour or minute indices)."""
    divisor = 0
    for step in steps:
        divisor = math.gcd(divisor, step)
        if divisor == 1:
            return 1
    if divisor and divisor % 1440 == 0:
        return 1440
    if divisor and divisor % 24 == 0:
        return 24
    if divisor and 1440 % divisor == 0 and divisor % 5 == 0:
        return 1440  # GDELT's 15-minute steps
    return 1


def guess_start_date(path: str | os.PathLike[str]) -> str | None:
    """The first day of a known dataset named by ``path`` or its parent (longest name first), or None."""
    resolved = Path(path).resolve()
    text = f"{resolved.parent.name}/{resolved.name}".lower().replace("_", "-")
    for name in sorted(KNOWN_START_DATES, key=len, reverse=True):
        if name in text:
            return KNOWN_START_DATES[name]
    return None


# ---------------------------------------------------------------------------------------- intervals


def parse_fuzzy_time(text: str) -> Period | None:
    """A YAGO/Wikidata time field as a period, or ``None`` when unknown (see the module docstring)."""
    text = text.strip().strip('"').lstrip("+")
    if text.lower() in _UNKNOWN_TIMES:
        return None
    if "t" in text.lower():
        text = re.split("[tT]", text, maxsplit=1)[0]
    match = _HASHED_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"bad time {text!r}")
    year, month, day = match.groups()
    if year.startswith("#") or not 1 <= int(year) <= 9999:
        return None
    parts = [year.zfill(4)]
    if month and not month.startswith("#") and int(month) != 0:
        parts.append(month)
        if day and not day.startswith("#") and int(day) != 0:
            parts.append(day)
    return Period.parse("-".join(parts))


def read_interval_facts(
    path: str | os.PathLike[str],
    *,
    missing_start: Literal["skip", "end", "error"] = "skip",
    strict: bool = True,
) -> Iterator[Fact]:
    """``s r o start end`` lines as interval facts (``end`` inclusive); see the module docstring."""
    if missing_start not in ("skip", "end", "error"):
        raise ValueError(f"missing_start must be 'skip', 'end' or 'error', got {missing_start!r}")
    lines = _Lines(path, strict)
    for number, line in lines:
        parts = _fields(line)
        if len(parts) == 4:
            parts.append("")  # a trailing empty end field lost to editors that strip lines
        if len(parts) != 5:
            lines.bad(
                number,
                f"expected 5 tab-separated fields (subject, relation, object, start, end), got {len(parts)}",
            )
            continue
        subject, relation, obj, start_text, end_text = parts
        if not (subject and relation and obj):
            lines.bad(number, "empty subject, relation or object")
            continue
        try:
            start, end = parse_fuzzy_time(start_text), parse_fuzzy_time(end_text)
        except ValueError as error:
            lines.bad(number, str(error))
            continue
        if start is None:
            if end is None or missing_start == "skip":
                continue
            if missing_start == "error":
                lines.bad(number, "unknown start time")
                continue
            start = end
        if end is not None and end.last < start.first:
            lines.bad(number, f"end {end_text!r} is before start {start_text!r}")
            continue
        yield Fact(subject, relation, obj, start.first, None if end is None else end.last)
    lines.done()


# ---------------------------------------------------------------------------------------- TGB CSV


def read_tgb_edges(
    path: str | os.PathLike[str],
    *,
    time_unit: Literal["seconds", "days", "years"] = "seconds",
    start_date: str | None = None,
    default_relation: str = "link",
    strict: bool = True,
) -> Iterator[Fact]:
    """TGB/JODIE-style CSV edge lists (header required) as facts; see the module docstring."""
    if time_unit not in ("seconds", "days", "years"):
        raise ValueError(f"time_unit must be 'seconds', 'days' or 'years', got {time_unit!r}")
    if time_unit == "days" and start_date is None:
        raise ValueError("time_unit='days' needs start_date (the day that index 0 stands for)")
    first_day = Period.parse(start_date).first if start_date is not None else 0
    to_day = _tgb_time_reader(time_unit, first_day)
    path = Path(path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        columns = [name.strip().lower() for name in header]
        ts_col, src_col, dst_col = (_column(columns, names) for names in (_TS_NAMES, _SRC_NAMES, _DST_NAMES))
        if ts_col is None or src_col is None or dst_col is None:
            raise ValueError(f"{path}:1: the header must name ts, src and dst columns, got {header}")
        rel_col = _column(columns, _REL_NAMES)
        needed = max(c for c in (ts_col, src_col, dst_col, rel_col) if c is not None) + 1
        skipped = 0
        for number, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            problem = None
            if len(row) < needed:
                problem = f"expected at least {needed} comma-separated fields, got {len(row)}"
            else:
                src, dst = row[src_col].strip(), row[dst_col].strip()
                relation = row[rel_col].strip() if rel_col is not None else default_relation
                try:
                    day = to_day(row[ts_col].strip())
                except (ValueError, OverflowError):
                    problem = f"bad timestamp {row[ts_col]!r}"
                else:
                    if not (src and dst and relation):
                        problem = "empty src, dst or relation"
            if problem is not None:
                if strict:
                    raise ValueError(f"{path}:{number}: {problem}")
                skipped += 1
                continue
            yield Fact(src, relation, dst, day)
        if skipped:
            warnings.warn(f"{path}: skipped {skipped} malformed line(s)", stacklevel=2)


def _tgb_time_reader(time_unit: str, first_day: int) -> Callable[[str], int]:
    def seconds(text: str) -> int:
        return UNIX_EPOCH + math.floor(float(text)) // 86_400

    def days(text: str) -> int:
        value = float(text)
        if value < 0:
            raise ValueError("negative day index")
        return first_day + math.floor(value)

    def years(text: str) -> int:
        return Period.parse(str(int(float(text)))).first

    reader = {"seconds": seconds, "days": days, "years": years}[time_unit]

    def checked(text: str) -> int:
        day = reader(text)
        Period.containing(day)  # raises ValueError/OverflowError outside 0001..9999
        return day

    return checked


def _column(columns: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in columns:
            return columns.index(name)
    return None


# ---------------------------------------------------------------------------------------- detection


def _split_files(directory: Path) -> list[Path]:
    """``full.txt`` if present (MultiTQ's whole KG), else the train/valid/test files that exist."""
    for full in ("full.txt", "full.tsv", "full"):
        if (directory / full).is_file():
            return [directory / full]
    found = []
    for split in _SPLITS:
        for suffix in _SPLIT_SUFFIXES:
            candidate = directory / f"{split}{suffix}"
            if candidate.is_file():
                found.append(candidate)
                break
    return found


def _first_line(path: Path) -> str:
    with open(path, encoding="utf-8-sig") as handle:
        for line in handle:
            if line.strip():
                return line.rstrip("\r\n")
    return ""


def detect_format(path: str | os.PathLike[str]) -> str:
    """One of ``TKG_FORMATS`` for a file or dataset directory, from names and the first data line."""
    path = Path(path)
    if path.is_dir():
        if (path / "manifest.json").is_file():
            return "store"
        if (path / "entity2id.txt").is_file() and _split_files(path):
            return "ids"
        if sorted(path.glob("*.csv")) and not _split_files(path):
            return "tgb"
        files = _split_files(path)
        if not files:
            raise ValueError(f"{path}: no train/valid/test/full file, manifest.json or *.csv to load")
        return detect_format(files[0])
    if not path.is_file():
        raise FileNotFoundError(path)
    if path.suffix.lower() == ".csv":
        return "tgb"
    line = _first_line(path)
    parts = _fields(line)
    if len(parts) >= 4 and all(_is_int(part) for part in parts[:4]):
        return "ids"
    if len(parts) == 4:
        try:
            Period.parse(parts[3])
            return "names"
        except ValueError:
            pass
    if len(parts) in (4, 5):
        try:
            parse_fuzzy_time(parts[3])
            return "intervals"
        except ValueError:
            pass
    raise ValueError(f"{path}: cannot tell the format from the first line {line[:120]!r}")


def load_tkg(
    path: str | os.PathLike[str],
    format: str = "auto",
    *,
    start_date: str | None = None,
    steps_per_day: int | None = None,
    time_unit: Literal["seconds", "days", "years"] = "seconds",
    missing_start: Literal["skip", "end", "error"] = "skip",
    strict: bool = True,
) -> TKGStore:
    """A ``TKGStore`` from a file or dataset directory in any of ``TKG_FORMATS`` (``"auto"`` detects).

    A directory loads ``full.txt`` if present, else every train/valid/test split it has (exact duplicate
    facts across splits are kept once). ``start_date``/``steps_per_day`` apply to ``"ids"`` (guessed
    when omitted, see the module docstring), ``time_unit``/``start_date`` to ``"tgb"``,
    ``missing_start`` to ``"intervals"``.
    """
    path = Path(path)
    kind = detect_format(path) if format == "auto" else format
    if kind not in TKG_FORMATS:
        raise ValueError(f"format must be 'auto' or one of {TKG_FORMATS}, got {format!r}")
    if kind == "store":
        return TKGStore.load(path)
    if kind == "tgb":
        files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
        facts: Iterable[Fact] = (
            fact
            for file in files
            for fact in read_tgb_edges(file, time_unit=time_unit, start_date=start_date, strict=strict)
        )
        return TKGStore.from_facts(facts)
    files = _split_files(path) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"{path}: no train/valid/test/full file to load")
    if kind == "names":
        return TKGStore.from_facts(
            fact for file in files for fact in read_name_quadruples(file, strict=strict)
        )
    if kind == "intervals":
        return TKGStore.from_facts(
            fact
            for file in files
            for fact in read_interval_facts(file, missing_start=missing_start, strict=strict)
        )
    return _load_ids(path, files, start_date, steps_per_day, strict)


def _load_ids(
    path: Path, files: list[Path], start_date: str | None, steps_per_day: int | None, strict: bool
) -> TKGStore:
    """Id quadruples straight into columns (no ``Fact`` per line), after guessing what was not given."""
    directory = path if path.is_dir() else path.parent
    for needed in ("entity2id.txt", "relation2id.txt"):
        if not (directory / needed).is_file():
            raise ValueError(f"{directory}: id-based facts need {needed} next to them")
    entities = read_id_map(directory / "entity2id.txt", strict=strict)
    relations = read_id_map(directory / "relation2id.txt", strict=strict)
    start_date = start_date or guess_start_date(directory)
    if start_date is None:
        raise ValueError(
            f"{directory}: pass start_date= (the day that time 0 stands for); known datasets: "
            + ", ".join(f"{name} {day}" for name, day in KNOWN_START_DATES.items())
        )
    rows: list[tuple[int, int, int, int]] = []
    for file in files:
        lines = _Lines(file, strict)
        for number, line in lines:
            parts = line.split("\t") if "\t" in line else line.split()
            try:
                s, r, o, t = (int(part) for part in parts[:4])
                if t < 0 or s not in entities or o not in entities or r not in relations:
                    raise ValueError
            except ValueError:
                lines.bad(number, f"expected 's_id r_id o_id t' with known ids and t >= 0, got {line[:80]!r}")
                continue
            rows.append((s, r, o, t))
        lines.done()
    if steps_per_day is None:
        steps_per_day = guess_steps_per_day(row[3] for row in rows)
    data = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
    entity_ids, relation_ids = sorted(entities), sorted(relations)
    entity_pos = {ident: i for i, ident in enumerate(entity_ids)}
    relation_pos = {ident: i for i, ident in enumerate(relation_ids)}
    remap_e = np.vectorize(entity_pos.__getitem__, otypes=[np.int64])
    remap_r = np.vectorize(relation_pos.__getitem__, otypes=[np.int64])
    first_day = Period.parse(start_date).first
    return TKGStore.from_arrays(
        [entities[i] for i in entity_ids],
        [relations[i] for i in relation_ids],
        remap_e(data[:, 0]) if len(data) else [],
        remap_r(data[:, 1]) if len(data) else [],
        remap_e(data[:, 2]) if len(data) else [],
        first_day + data[:, 3] // steps_per_day,
        np.full(len(data), NO_END),
    )
