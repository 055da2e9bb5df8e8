"""Record a run's search traffic once, replay it offline: web-search rollouts that reproduce exactly.

The live web changes by the hour and commercial APIs bill per query, so a web-search eval is neither
repeatable nor free. ``Cassette`` wraps any backend and writes every ``search``/``fetch`` call with its
answer to a JSONL file; replaying the file gives the same documents in the same order with no network
and no API key, which makes a run (and a bug report about a run) reproducible.

Modes:

* ``"record"``: always ask the inner backend, write the answer (a re-recorded call replaces the older
  entry: the last line for a key wins).
* ``"replay"``: answer only from the file; no inner backend is built. A call that was never recorded
  raises ``SearchError`` naming the query or URL, so a drifted prompt or config is caught, not papered
  over with a live request.
* ``"auto"``: replay what is recorded, ask the inner backend (and record) otherwise.

Calls are keyed by the query with its whitespace collapsed plus ``k`` (case is kept: some engines care),
or by the stripped URL for ``fetch``. A search recorded with a larger ``k`` also answers a smaller one
with its prefix. Engine errors (``SearchError``) are recorded too (``record_errors``), so a replay shows
the agent the same failure the live run did.

Durability: each call is one JSON line, appended, flushed and (by default) fsynced before the answer is
returned, so a crash loses at most the call in flight. A torn last line from such a crash is skipped on
load and cut off before the next append.

The inner backend is built lazily, at the first call the file cannot answer, so replaying a complete
cassette in ``"auto"`` mode needs no API key either. ``close()`` closes the inner backend too.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from rlvr.envs.search.backends.base import Document, SearchBackend, SearchError

MODES = ("record", "replay", "auto")
FORMAT_VERSION = 1


def normalize_query(query: str) -> str:
    """The key form of a query: whitespace collapsed, case kept."""
    return " ".join(query.split())


def document_to_json(document: Document) -> dict[str, Any]:
    """Every field of a ``Document``, ``extra`` included (``Document.to_json`` leaves it out)."""
    record = document.to_json()
    record["url"] = document.url
    record["score"] = document.score
    if document.extra:
        record["extra"] = document.extra
    return record


def document_from_json(record: Mapping[str, Any]) -> Document:
    """Inverse of ``document_to_json``; tolerant of missing optional fields."""
    score = record.get("score")
    return Document(
        id=str(record["id"]),
        title=str(record.get("title") or ""),
        contents=str(record.get("contents") or ""),
        url=record.get("url"),
        score=float(score) if score is not None else None,
        extra=dict(record.get("extra") or {}),
    )


def _repair_tail(handle: IO[bytes]) -> None:
    """Make the file end with a newline before appending: a torn last line (a crash mid-write) is cut
    off, a complete one that merely lacks its newline (a hand edit) gets one."""
    end = handle.seek(0, os.SEEK_END)
    position, cut = end, 0
    while position > 0:
        step = min(1 << 16, position)
        position -= step
        handle.seek(position)
        newline = handle.read(step).rfind(b"\n")
        if newline != -1:
            cut = position + newline + 1
            break
    if cut == end:
        return
    handle.seek(cut)
    tail = handle.read(end - cut)
    try:
        json.loads(tail.decode("utf-8"))
    except ValueError:
        handle.truncate(cut)
    else:
        handle.seek(0, os.SEEK_END)
        handle.write(b"\n")


class Cassette(SearchBackend):
    """A ``SearchBackend`` that records another backend's answers to ``path`` or replays them.

    ``inner`` is a backend name, a config mapping (``{"type": "web", ...}``) or an instance; it is
    needed in ``"record"`` and ``"auto"`` modes and ignored in ``"replay"``. Thread-safe.
    """

    name = "cassette"

    def __init__(
        self,
        path: str | os.PathLike[str],
        mode: str = "auto",
        inner: str | Mapping[str, Any] | SearchBackend | None = None,
        *,
        record_errors: bool = True,
        fsync: bool = True,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"cassette mode must be one of {', '.join(MODES)}, not {mode!r}")
        if mode != "replay" and inner is None:
            raise ValueError(f"a cassette in {mode!r} mode needs an inner backend to record (inner=...)")
        self.path = Path(path)
        self.mode = mode
        self.record_errors = record_errors
        self.fsync = fsync
        self._inner_spec = inner if mode != "replay" else None
        self._inner: SearchBackend | None = None
        self._lock = threading.RLock()
        self._file: IO[bytes] | None = None
        self._closed = False
        # (query, k) -> entry, and query -> {k: entry} for the larger-k fallback.
        self._searches: dict[tuple[str, int], dict[str, Any]] = {}
        self._by_query: dict[str, dict[int, dict[str, Any]]] = {}
        self._fetches: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            self._load()
        elif mode == "replay":
            raise SearchError(
                f"cassette {self.path} does not exist; record it first (mode='record' or 'auto')"
            )

    # Loading ------------------------------------------------------------------------------------------

    def _load(self) -> None:
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw.decode("utf-8"))
                if not isinstance(entry, dict):
                    raise ValueError("not an object")
                self._index(entry)
            except (ValueError, KeyError, TypeError) as error:
                if number == len(lines):
                    continue  # the torn tail of a write cut short by a crash: expected, skip quietly
                warnings.warn(
                    f"cassette {self.path}: skipping unreadable line {number} ({error})",
                    RuntimeWarning,
                    stacklevel=3,
                )

    def _index(self, entry: dict[str, Any]) -> None:
        op = entry.get("op")
        if op == "search":
            query, k = normalize_query(str(entry["query"])), int(entry["k"])
            if "error" not in entry:
                entry["results"] = [document_from_json(record) for record in entry["results"]]
            self._searches[(query, k)] = entry
            self._by_query.setdefault(query, {})[k] = entry
        elif op == "fetch":
            if "error" not in entry:
                result = entry.get("result")
                entry["result"] = document_from_json(result) if result is not None else None
            self._fetches[str(entry["ref"]).strip()] = entry
        # Anything else (the header line, entries of a later format) is not ours to answer from.

    # Writing ------------------------------------------------------------------------------------------

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
        with self._lock:
            if self._closed:
                raise SearchError(f"cassette {self.path} is closed")
            if self._file is None:
                self._file = self._open_for_append()
            self._file.write(line)
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())

    def _open_for_append(self) -> IO[bytes]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "ab+")  # noqa: SIM115 - held open across calls, closed in close()
        _repair_tail(handle)
        if handle.seek(0, os.SEEK_END) == 0:
            handle.write(json.dumps({"cassette": FORMAT_VERSION}).encode("utf-8") + b"\n")
        return handle

    def _record_search(self, query: str, k: int, results: list[Document] | None, error: str | None) -> None:
        entry: dict[str, Any] = {"op": "search", "query": query, "k": k}
        if error is not None:
            entry["error"] = error
        else:
            entry["results"] = [document_to_json(document) for document in results or []]
        self._append(entry)
        with self._lock:
            self._index(dict(entry))

    def _record_fetch(self, ref: str, result: Document | None, error: str | None) -> None:
        entry: dict[str, Any] = {"op": "fetch", "ref": ref}
        if error is not None:
            entry["error"] = error
        else:
            entry["result"] = document_to_json(result) if result is not None else None
        self._append(entry)
        with self._lock:
            self._index(dict(entry))

    # Lookups ------------------------------------------------------------------------------------------

    def _recorded_search(self, query: str, k: int) -> list[Document] | None:
        """The recorded answer (raising a recorded error), or ``None`` when the call is not on file."""
        with self._lock:
            entry = self._searches.get((query, k))
            if entry is None:
                larger = [
                    recorded_k
                    for recorded_k, candidate in self._by_query.get(query, {}).items()
                    if recorded_k > k and "error" not in candidate
                ]
                if larger:
                    entry = self._by_query[query][min(larger)]
        if entry is None:
            return None
        if "error" in entry:
            raise SearchError(entry["error"])
        return list(entry["results"][:k])

    def _inner_backend(self) -> SearchBackend:
        with self._lock:
            if self._inner is None:
                if self._inner_spec is None:
                    raise SearchError(f"cassette {self.path} is in replay mode and has no inner backend")
                # Imported here: the registry imports this module's name, not the other way round.
                from rlvr.envs.search.backends import make_backend

                self._inner = make_backend(self._inner_spec)
            return self._inner

    # SearchBackend ------------------------------------------------------------------------------------

    def search(self, query: str, k: int = 3) -> list[Document]:
        return self.search_batch([query], k)[0]

    def search_batch(self, queries: Sequence[str], k: int = 3) -> list[list[Document]]:
        keys = [normalize_query(query) for query in queries]
        answers: dict[str, list[Document]] = {}
        missing: list[str] = []
        for key in dict.fromkeys(keys):
            recorded = None if self.mode == "record" else self._recorded_search(key, k)
            if recorded is not None:
                answers[key] = recorded
            elif self.mode == "replay":
                raise SearchError(
                    f"cassette {self.path} has no recording of search {key!r} (k={k}); "
                    "record it with mode='record' or mode='auto'"
                )
            else:
                missing.append(key)
        if missing:
            answers.update(self._search_live(missing, k))
        return [list(answers[key]) for key in keys]

    def _search_live(self, queries: list[str], k: int) -> dict[str, list[Document]]:
        inner = self._inner_backend()
        try:
            batches = inner.search_batch(queries, k)
        except SearchError as error:
            if len(queries) > 1:
                # One failing query must not cost the others their answers: retry one at a time.
                return {query: self._search_one_live(inner, query, k) for query in queries}
            if self.record_errors:
                self._record_search(queries[0], k, None, str(error))
            raise
        if len(batches) != len(queries):
            raise SearchError(f"{inner.name} answered {len(batches)} result lists for {len(queries)} queries")
        for query, results in zip(queries, batches, strict=True):
            self._record_search(query, k, results, None)
        return dict(zip(queries, batches, strict=True))

    def _search_one_live(self, inner: SearchBackend, query: str, k: int) -> list[Document]:
        try:
            results = inner.search(query, k)
        except SearchError as error:
            if self.record_errors:
                self._record_search(query, k, None, str(error))
            raise
        self._record_search(query, k, results, None)
        return results

    def fetch(self, ref: str) -> Document | None:
        key = ref.strip()
        if self.mode != "record":
            with self._lock:
                entry = self._fetches.get(key)
            if entry is not None:
                if "error" in entry:
                    raise SearchError(entry["error"])
                return entry["result"]
            if self.mode == "replay":
                raise SearchError(
                    f"cassette {self.path} has no recording of fetch {key!r}; "
                    "record it with mode='record' or mode='auto'"
                )
        inner = self._inner_backend()
        try:
            result = inner.fetch(key)
        except SearchError as error:
            if self.record_errors:
                self._record_fetch(key, None, str(error))
            raise
        self._record_fetch(key, result, None)
        return result

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._file is not None:
                self._file.close()
                self._file = None
            inner, self._inner = self._inner, None
        if inner is not None:
            inner.close()
        elif isinstance(self._inner_spec, SearchBackend):
            self._inner_spec.close()

    def __len__(self) -> int:
        """How many distinct calls the cassette can answer."""
        with self._lock:
            return len(self._searches) + len(self._fetches)


RecordingBackend = Cassette
"""Alias: the name says what it does when wrapped around a live backend."""

__all__ = [
    "MODES",
    "Cassette",
    "RecordingBackend",
    "document_from_json",
    "document_to_json",
    "normalize_query",
]
