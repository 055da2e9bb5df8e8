"""The SQLite store behind ``rlvr eval`` and ``rlvr leaderboard``.

One file holds every run: which agents took part, every episode with its transcript, and one row per
seat with the numbers the leaderboard aggregates. Episodes are keyed by what defines them (env, its
options, seed, who sat where), not by run, which is what makes an evaluation resumable: a rerun of the
same command finds the keys already finished and plays only the rest, and an episode written twice
replaces itself instead of counting twice. Each episode is one transaction, so a kill at any moment
loses at most the episodes still in flight.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    started_at  REAL NOT NULL,
    finished_at REAL,
    command     TEXT,
    config      TEXT NOT NULL          -- JSON: what was asked for
);
CREATE TABLE IF NOT EXISTS agents (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL                 -- how to rebuild it, e.g. "hf:smollm2" or "bot:optimal"
);
CREATE TABLE IF NOT EXISTS episodes (
    episode_key TEXT PRIMARY KEY,      -- hash of env_id, env_kwargs, seed, seats
    run_id      TEXT NOT NULL,
    env_id      TEXT NOT NULL,
    env_kwargs  TEXT NOT NULL,         -- JSON object
    seed        INTEGER NOT NULL,
    seats       TEXT NOT NULL,         -- JSON [[role, agent], ...] in seat order
    status      TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    error       TEXT,
    num_turns   INTEGER NOT NULL,
    duration_s  REAL NOT NULL,
    finished_at REAL NOT NULL,
    trajectory  TEXT                   -- the Trajectory as JSON: the transcript
);
CREATE TABLE IF NOT EXISTS seat_results (
    episode_key     TEXT NOT NULL REFERENCES episodes (episode_key) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    seat_index      INTEGER NOT NULL,  -- 0 = moves first in the env's seat order
    agent           TEXT NOT NULL,
    reward          REAL NOT NULL,     -- the seat's return for the episode
    turns           INTEGER NOT NULL,
    invalid_actions INTEGER NOT NULL,
    tokens          INTEGER NOT NULL,  -- completion tokens the seat generated (0 for bots)
    PRIMARY KEY (episode_key, role)
);
CREATE TABLE IF NOT EXISTS seat_metrics (
    episode_key TEXT NOT NULL REFERENCES episodes (episode_key) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    name        TEXT NOT NULL,         -- an info["metrics"] key, e.g. "win"
    value       REAL NOT NULL,
    PRIMARY KEY (episode_key, role, name)
);
CREATE INDEX IF NOT EXISTS episodes_by_env ON episodes (env_id, status);
CREATE INDEX IF NOT EXISTS seats_by_agent ON seat_results (agent);
"""


def episode_key(
    env_id: str, env_kwargs: Mapping[str, Any], seed: int, seats: Sequence[tuple[str, str]]
) -> str:
    """A stable id for "this env, these options, this seed, these agents in these seats"."""
    payload = json.dumps(
        [env_id, dict(env_kwargs), int(seed), [list(seat) for seat in seats]], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


@dataclass
class SeatResult:
    """What one seat got out of one episode."""

    role: str
    seat_index: int
    agent: str
    reward: float
    turns: int = 0
    invalid_actions: int = 0
    tokens: int = 0
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class EpisodeRecord:
    """One finished (or failed) episode, ready to store."""

    key: str
    env_id: str
    env_kwargs: dict[str, Any]
    seed: int
    seats: list[tuple[str, str]]
    status: str
    error: str | None = None
    num_turns: int = 0
    duration_s: float = 0.0
    trajectory_json: str | None = None
    results: list[SeatResult] = field(default_factory=list)


@dataclass(frozen=True)
class SeatRow:
    """One seat of one finished episode, as the leaderboard reads it."""

    episode_key: str
    env_id: str
    seed: int
    role: str
    seat_index: int
    agent: str
    reward: float
    turns: int
    invalid_actions: int
    tokens: int
    metrics: dict[str, float]
    opponents: tuple[str, ...]
    """The agents in the episode's other seats (empty for single-agent envs)."""


class ResultsDB:
    """A results file; safe to open from several processes (WAL, one transaction per episode)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.parent != Path():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA foreign_keys=ON")
            self.connection.executescript(SCHEMA)
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{self.path} is not a usable results database: {error}") from error

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> ResultsDB:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------------

    def start_run(self, config: Mapping[str, Any], command: str | None = None) -> str:
        run_id = uuid.uuid4().hex[:12]
        self.connection.execute(
            "INSERT INTO runs (run_id, started_at, command, config) VALUES (?, ?, ?, ?)",
            (run_id, time.time(), command, json.dumps(dict(config), sort_keys=True, default=str)),
        )
        return run_id

    def finish_run(self, run_id: str) -> None:
        self.connection.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", (time.time(), run_id))

    def register_agent(self, name: str, spec: str) -> None:
        """Record how ``name`` was built; the same name with another spec is refused, because mixing
        two different agents under one name would silently corrupt the leaderboard."""
        row = self.connection.execute("SELECT spec FROM agents WHERE name = ?", (name,)).fetchone()
        if row is None:
            self.connection.execute("INSERT INTO agents (name, spec) VALUES (?, ?)", (name, spec))
        elif row[0] != spec:
            raise ValueError(
                f"agent name {name!r} is already in {self.path} as {row[0]!r}, not {spec!r}; "
                "give this agent another name (SPEC=NAME... see `rlvr eval --help`)"
            )

    def record_episode(self, run_id: str, record: EpisodeRecord) -> None:
        """Store ``record``, replacing an earlier attempt at the same episode, atomically."""
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute("DELETE FROM episodes WHERE episode_key = ?", (record.key,))
            connection.execute(
                "INSERT INTO episodes (episode_key, run_id, env_id, env_kwargs, seed, seats, status,"
                " error, num_turns, duration_s, finished_at, trajectory)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.key,
                    run_id,
                    record.env_id,
                    json.dumps(record.env_kwargs, sort_keys=True, default=str),
                    int(record.seed),
                    json.dumps([list(seat) for seat in record.seats]),
                    record.status,
                    record.error,
                    record.num_turns,
                    record.duration_s,
                    time.time(),
                    record.trajectory_json,
                ),
            )
            for result in record.results:
                connection.execute(
                    "INSERT INTO seat_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.key,
                        result.role,
                        result.seat_index,
                        result.agent,
                        float(result.reward),
                        result.turns,
                        result.invalid_actions,
                        result.tokens,
                    ),
                )
                connection.executemany(
                    "INSERT INTO seat_metrics VALUES (?, ?, ?, ?)",
                    [(record.key, result.role, name, float(value)) for name, value in result.metrics.items()],
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    # -- reading -----------------------------------------------------------------------------------

    def finished_keys(self) -> set[str]:
        """Keys of episodes stored as done (failed ones are retried on the next run)."""
        rows = self.connection.execute("SELECT episode_key FROM episodes WHERE status = 'done'")
        return {key for (key,) in rows}

    def agents(self) -> dict[str, str]:
        return dict(self.connection.execute("SELECT name, spec FROM agents ORDER BY name"))

    def env_ids(self) -> list[str]:
        rows = self.connection.execute("SELECT DISTINCT env_id FROM episodes ORDER BY env_id")
        return [env_id for (env_id,) in rows]

    def episode_counts(self) -> dict[str, int]:
        """How many episodes are stored per status."""
        return dict(self.connection.execute("SELECT status, COUNT(*) FROM episodes GROUP BY status"))

    def failures(self) -> list[tuple[str, int, str]]:
        """``(env_id, seed, error)`` of every failed episode."""
        return list(
            self.connection.execute(
                "SELECT env_id, seed, error FROM episodes WHERE status = 'failed' ORDER BY env_id, seed"
            )
        )

    def seat_rows(self, env_id: str | None = None) -> list[SeatRow]:
        """Every seat of every finished episode, with its metrics and the agents it played against."""
        query = (
            "SELECT e.episode_key, e.env_id, e.seed, e.seats, s.role, s.seat_index, s.agent, s.reward, "
            "s.turns, s.invalid_actions, s.tokens FROM seat_results s "
            "JOIN episodes e ON e.episode_key = s.episode_key WHERE e.status = 'done'"
        )
        params: tuple[Any, ...] = ()
        if env_id is not None:
            query += " AND e.env_id = ?"
            params = (env_id,)
        query += " ORDER BY e.env_id, e.seed, e.episode_key, s.seat_index"
        metrics: dict[tuple[str, str], dict[str, float]] = {}
        for key, role, name, value in self.connection.execute(
            "SELECT episode_key, role, name, value FROM seat_metrics"
        ):
            metrics.setdefault((key, role), {})[name] = value
        rows = []
        for (
            key,
            env,
            seed,
            seats,
            role,
            seat_index,
            agent,
            reward,
            turns,
            invalid,
            tokens,
        ) in self.connection.execute(query, params):
            others = tuple(other for other_role, other in json.loads(seats) if other_role != role)
            rows.append(
                SeatRow(
                    episode_key=key,
                    env_id=env,
                    seed=seed,
                    role=role,
                    seat_index=seat_index,
                    agent=agent,
                    reward=reward,
                    turns=turns,
                    invalid_actions=invalid,
                    tokens=tokens,
                    metrics=metrics.get((key, role), {}),
                    opponents=others,
                )
            )
        return rows

    def trajectories(self, env_id: str | None = None) -> Iterator[str]:
        """The stored transcripts (Trajectory JSON), for export to JSONL."""
        query = "SELECT trajectory FROM episodes WHERE trajectory IS NOT NULL"
        params: tuple[Any, ...] = ()
        if env_id is not None:
            query += " AND env_id = ?"
            params = (env_id,)
        for (text,) in self.connection.execute(query + " ORDER BY env_id, seed", params):
            yield text
