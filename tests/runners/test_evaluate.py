"""``rlvr eval``: the planned suite, storage, resuming after a kill, retries of failed episodes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from rlvr.agents import Completion, Policy
from rlvr.agents.specs import parse_agent_spec
from rlvr.runners.evaluate import EvalOptions, EvalRequest, evaluate, plan
from rlvr.runners.results_db import ResultsDB
from rlvr.runners.rollout import Player
from tests.runners import toy_envs

toy_envs.register()
KUHN = "rlvr/KuhnPoker-v0"
TTT = "rlvr/TicTacToe-v0"
QUIET = EvalOptions(progress=False)


def specs(*texts: str):
    return [parse_agent_spec(text) for text in texts]


def test_plan_plays_both_seats_of_every_matchup_with_the_same_seeds():
    request = EvalRequest((KUHN,), ("random-legal",), ("bot:optimal", "bot:random"), episodes=3, seed=7)
    planned, notes = plan(request, specs("random-legal"), specs("bot:optimal", "bot:random"))
    lineups = {tuple(p.spec.seats.values()) for p in planned}
    assert lineups == {
        ("random-legal", "optimal"),
        ("optimal", "random-legal"),
        ("random-legal", "random"),
        ("random", "random-legal"),
    }
    assert len(planned) == 12 and not notes
    assert {p.spec.seed for p in planned} == {7, 8, 9}
    assert len({p.key for p in planned}) == 12
    again, _ = plan(request, specs("random-legal"), specs("bot:optimal", "bot:random"))
    assert [p.key for p in again] == [p.key for p in planned]


def test_plan_round_robin_self_play_and_single_agent_envs():
    request = EvalRequest((TTT, toy_envs.ECHO_ID), ("a=random-legal", "b=random-legal"), ("bot:optimal",), 2)
    planned, notes = plan(request, specs("a=random-legal", "b=random-legal"), specs("bot:optimal"))
    ttt = {tuple(p.spec.seats.values()) for p in planned if p.spec.env_id == TTT}
    assert ttt == {
        ("a", "optimal"),
        ("optimal", "a"),
        ("b", "optimal"),
        ("optimal", "b"),
        ("a", "b"),
        ("b", "a"),
    }
    echo = [p.spec.seats for p in planned if p.spec.env_id == toy_envs.ECHO_ID]
    assert echo == [{"agent": "a"}] * 2 + [{"agent": "b"}] * 2
    assert any("single-agent" in note for note in notes)
    alone, _ = plan(EvalRequest((TTT,), ("a=random-legal",), (), 2), specs("a=random-legal"), [])
    assert {tuple(p.spec.seats.values()) for p in alone} == {("a", "a")}


def test_evaluate_stores_every_seat_and_resumes_to_nothing(tmp_path):
    db_path = tmp_path / "results.db"
    request = EvalRequest((KUHN, TTT), ("random-legal",), ("bot:optimal",), episodes=4)
    summary = evaluate(request, db_path, QUIET)
    assert (summary.planned, summary.already_done, summary.played, summary.failed) == (16, 0, 16, 0)
    with ResultsDB(db_path) as db:
        rows = db.seat_rows()
        assert db.agents() == {"optimal": "bot:optimal", "random-legal": "random-legal"}
        assert db.episode_counts() == {"done": 16}
    assert len(rows) == 32
    ttt_random = [r for r in rows if r.env_id == TTT and r.agent == "random-legal"]
    assert len(ttt_random) == 8 and all(r.reward <= 0 for r in ttt_random)  # never beats minimax
    assert {r.seat_index for r in ttt_random} == {0, 1}
    assert all(r.opponents == ("optimal",) for r in ttt_random)
    assert all("win" in r.metrics and r.turns > 0 for r in rows)
    again = evaluate(request, db_path, QUIET)
    assert (again.already_done, again.played) == (16, 0)


def test_failed_episodes_are_stored_with_the_reason_and_retried(tmp_path):
    class DownThenUp(Policy):
        def __init__(self) -> None:
            self.up = False

        def generate(self, batch, params=None):
            if not self.up:
                return [Completion("", error="connection refused") for _ in batch]
            return [Completion(m[-1]["content"].split()[-1].rstrip(".")) for m in batch]

    policy = DownThenUp()
    request = EvalRequest((toy_envs.ECHO_ID,), ("echoer=human",), episodes=3)
    players = {"echoer": Player(policy)}
    first = evaluate(request, tmp_path / "r.db", QUIET, players=players)
    assert (first.played, first.failed) == (3, 3)
    with ResultsDB(tmp_path / "r.db") as db:
        assert db.failures() == [
            (toy_envs.ECHO_ID, seed, "policy error: connection refused") for seed in range(3)
        ]
    policy.up = True
    second = evaluate(request, tmp_path / "r.db", QUIET, players=players)
    assert (second.already_done, second.played, second.failed) == (0, 3, 0)
    with ResultsDB(tmp_path / "r.db") as db:
        assert db.episode_counts() == {"done": 3}
        assert [r.reward for r in db.seat_rows()] == [3.0, 3.0, 3.0]


def test_one_name_cannot_mean_two_agents(tmp_path):
    evaluate(EvalRequest((TTT,), ("x=random-legal",), ("bot:random",), 1), tmp_path / "r.db", QUIET)
    with pytest.raises(ValueError, match="already in"):
        evaluate(EvalRequest((TTT,), ("x=bot:optimal",), ("bot:random",), 1), tmp_path / "r.db", QUIET)
    with pytest.raises(ValueError, match="two agents are named"):
        evaluate(EvalRequest((TTT,), ("x=random-legal",), ("x=bot:random",), 1), tmp_path / "r2.db", QUIET)


def _stored(db_path) -> dict[str, tuple]:
    with sqlite3.connect(db_path) as connection:
        rows = connection.execute("SELECT episode_key, run_id, finished_at, trajectory FROM episodes")
        return {key: rest for key, *rest in rows}


def test_a_killed_eval_resumes_without_losing_or_duplicating_episodes(tmp_path):
    db_path = tmp_path / "results.db"
    command = [
        sys.executable, "-m", "rlvr.cli", "eval", "--env", TTT, "--agent", "random-legal",
        "--opponent", "bot:optimal", "--opponent", "bot:random", "--episodes", "300",
        "--db", str(db_path), "--no-progress", "--no-leaderboard", "--max-concurrent", "4",
    ]  # fmt: skip
    planned = 2 * 2 * 300
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        if db_path.exists():
            try:
                with sqlite3.connect(db_path, timeout=5) as connection:
                    stored = connection.execute("SELECT COUNT(*) FROM episodes").fetchone()[0]
            except sqlite3.OperationalError:  # the schema is still being created
                continue
            if stored >= 100:
                break
    assert process.poll() is None, f"eval ended before it could be killed: {process.communicate()}"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = _stored(db_path)
    assert 100 <= len(before) < planned

    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert f"{len(before)} already in" in finished.stdout
    after = _stored(db_path)
    assert len(after) == planned
    assert all(after[key] == row for key, row in before.items())  # nothing rewritten
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM seat_results").fetchone()[0] == 2 * planned
        statuses = connection.execute("SELECT status, COUNT(*) FROM episodes GROUP BY status").fetchall()
        runs = connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert statuses == [("done", planned)]
    assert runs == 2
