"""``ReflectionStore``: reflections, finished tasks and constitution versions in one SQLite file.

A file rather than memory because constitutions are meant to outlive a run (an advisor builds one
from a calibration set, later runs read it) and to be shared: every env instance that opens the same
path sees the newest version at its next reset, whether it lives in another thread (the runner steps
envs in a worker pool) or another process (vector envs, several evaluation jobs). SQLite gives that
with the standard library alone: WAL mode lets readers proceed while one process writes, and a busy
timeout makes concurrent writers queue instead of failing with "database is locked".

One store object holds one connection, guarded by a lock, so it may be shared by the envs of one
process; envs that open the same path separately get a connection each, which WAL handles.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SOURCES = ("self", "advisor", "manual")
"""Who wrote a constitution: the acting agent (self-curation), an advisor policy, or a person."""

DEFAULT_SCOPE = "default"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reflections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    task_key TEXT NOT NULL,
    trial INTEGER NOT NULL,
    reflection TEXT NOT NULL,
    success INTEGER,
    timestamp REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS reflections_by_task ON reflections (scope, task_key);
CREATE TABLE IF NOT EXISTS episodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    task_key TEXT NOT NULL,
    success INTEGER NOT NULL,
    trials INTEGER NOT NULL,
    timestamp REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS constitutions (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    principles TEXT NOT NULL,
    source TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS constitutions_by_scope ON constitutions (scope, version);
"""


@dataclass(frozen=True)
class ReflectionRecord:
    """One stored reflection.

    ``success`` tells whether the trial *after* this reflection solved the task: the one outcome a
    reflection can be judged by. ``None`` while that trial runs, or when none followed (the last
    trial's reflection, kept for curation).
    """

    id: int
    scope: str
    task_key: str
    trial: int
    reflection: str
    success: bool | None
    timestamp: float


@dataclass(frozen=True)
class Constitution:
    """One saved version of a constitution. Versions are numbered across scopes, increasing."""

    version: int
    scope: str
    principles: tuple[str, ...]
    source: str
    created: float


class ReflectionStore:
    """A SQLite file (or ``":memory:"``) of reflections, finished tasks and constitutions.

    Arguments:
        path: the database file (made, with its folder, if missing) or ``":memory:"`` for a store that
            lives as long as this object (and is shared only through it).
        timeout_s: how long a write waits for another connection's write to finish.

    Every method takes a ``scope``: one file can serve several env families without their
    constitutions mixing.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, timeout_s: float = 30.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = sqlite3.connect(
            self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
        with self._lock:
            connection = self._connection
            connection.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            _retry_while_locked(lambda: self._set_up(connection), timeout_s)

    def _set_up(self, connection: sqlite3.Connection) -> None:
        if self.path != ":memory:":
            (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        connection.executescript(_SCHEMA)

    # -- plumbing ----------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front (``BEGIN IMMEDIATE``), so a read inside it (a count, a
        version number) cannot be overtaken by another connection's write before the commit."""
        with self._lock:
            connection = self._open()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            raise sqlite3.ProgrammingError(f"the reflection store {self.path} is closed")
        return self._connection

    def _query(self, sql: str, parameters: Iterable[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._open().execute(sql, tuple(parameters)).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @property
    def closed(self) -> bool:
        return self._connection is None

    def __enter__(self) -> ReflectionStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ReflectionStore({self.path!r})"

    # -- reflections -------------------------------------------------------------------------------

    def add_reflection(
        self,
        task_key: str,
        trial: int,
        reflection: str,
        *,
        success: bool | None = None,
        scope: str = DEFAULT_SCOPE,
    ) -> int:
        """Store a reflection written after ``trial`` of ``task_key``; returns its id."""
        with self._transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO reflections (scope, task_key, trial, reflection, success, timestamp) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (scope, task_key, int(trial), reflection, _flag(success), time.time()),
            )
            return int(cursor.lastrowid or 0)

    def set_reflection_success(self, reflection_id: int, success: bool) -> None:
        """Record whether the trial that followed reflection ``reflection_id`` solved the task."""
        with self._transaction() as connection:
            connection.execute(
                "UPDATE reflections SET success = ? WHERE id = ?", (int(success), reflection_id)
            )

    def reflections(
        self, task_key: str | None = None, *, scope: str = DEFAULT_SCOPE, limit: int | None = None
    ) -> list[ReflectionRecord]:
        """Reflections of one task (or all tasks), oldest first; with ``limit``, only the newest ones."""
        where, parameters = "scope = ?", [scope]
        if task_key is not None:
            where += " AND task_key = ?"
            parameters.append(task_key)
        columns = "id, scope, task_key, trial, reflection, success, timestamp"
        sql = f"SELECT {columns} FROM reflections WHERE {where}"
        if limit is not None:
            sql = f"SELECT * FROM ({sql} ORDER BY id DESC LIMIT ?) ORDER BY id"
            parameters.append(max(0, int(limit)))
        else:
            sql += " ORDER BY id"
        return [
            ReflectionRecord(
                id=int(row[0]),  # type: ignore[call-overload]
                scope=str(row[1]),
                task_key=str(row[2]),
                trial=int(row[3]),  # type: ignore[call-overload]
                reflection=str(row[4]),
                success=None if row[5] is None else bool(row[5]),
                timestamp=float(row[6]),  # type: ignore[arg-type]
            )
            for row in self._query(sql, parameters)
        ]

    # -- finished tasks ----------------------------------------------------------------------------

    def add_episode(self, task_key: str, *, success: bool, trials: int, scope: str = DEFAULT_SCOPE) -> int:
        """Log a finished task; returns how many tasks the scope has finished, this one included.

        The count is read in the same transaction as the insert, so envs sharing the file each get a
        different number: "curate every N tasks" then fires once per N tasks, not once per env.
        """
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO episodes (scope, task_key, success, trials, timestamp) VALUES (?, ?, ?, ?, ?)",
                (scope, task_key, int(success), int(trials), time.time()),
            )
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM episodes WHERE scope = ?", (scope,)
            ).fetchone()
            return int(count)

    def episode_count(self, *, scope: str = DEFAULT_SCOPE) -> int:
        ((count,),) = self._query("SELECT COUNT(*) FROM episodes WHERE scope = ?", (scope,))
        return int(count)  # type: ignore[call-overload]

    # -- constitutions -----------------------------------------------------------------------------

    def save_constitution(
        self, principles: Iterable[str], *, source: str = "self", scope: str = DEFAULT_SCOPE
    ) -> Constitution:
        """Save ``principles`` as the newest version for ``scope``."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        items = tuple(str(principle) for principle in principles)
        if not items:
            raise ValueError("a constitution needs at least one principle")
        created = time.time()
        with self._transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO constitutions (scope, principles, source, created) VALUES (?, ?, ?, ?)",
                (scope, json.dumps(list(items), ensure_ascii=False), source, created),
            )
            version = int(cursor.lastrowid or 0)
        return Constitution(version, scope, items, source, created)

    def latest_constitution(self, *, scope: str = DEFAULT_SCOPE) -> Constitution | None:
        rows = self._query(
            "SELECT version, scope, principles, source, created FROM constitutions WHERE scope = ? "
            "ORDER BY version DESC LIMIT 1",
            (scope,),
        )
        return _constitution(rows[0]) if rows else None

    def constitutions(self, *, scope: str = DEFAULT_SCOPE) -> list[Constitution]:
        """Every version of ``scope``, oldest first."""
        rows = self._query(
            "SELECT version, scope, principles, source, created FROM constitutions WHERE scope = ? "
            "ORDER BY version",
            (scope,),
        )
        return [_constitution(row) for row in rows]


def _retry_while_locked(action: Callable[[], None], timeout_s: float) -> None:
    """Run ``action``, retrying while another connection holds the lock it needs.

    Switching a new file to WAL takes an exclusive lock and, unlike ordinary writes, fails at once
    instead of calling the busy handler, so two processes opening a fresh store together would race.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _constitution(row: tuple[object, ...]) -> Constitution:
    version, scope, principles, source, created = row
    return Constitution(
        version=int(version),  # type: ignore[call-overload]
        scope=str(scope),
        principles=tuple(json.loads(str(principles))),
        source=str(source),
        created=float(created),  # type: ignore[arg-type]
    )
