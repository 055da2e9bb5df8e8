"""The leaderboard: hand-worked statistics from a real results file, the terminal and HTML renderings,
escaping of user-supplied names, and the page as headless Chromium renders it."""

from __future__ import annotations

import html
import math
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from rlvr.runners.leaderboard import (
    Estimate,
    aggregate,
    print_leaderboard,
    ratio_estimate,
    render_html,
    render_leaderboard,
    write_html,
)
from rlvr.runners.results_db import EpisodeRecord, ResultsDB, SeatResult, episode_key

# Chromium runs are heavy; keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group("chromium")

KUHN = "rlvr/KuhnPoker-v0"
CODE = "rlvr/CodeJudge-v0"
HOSTILE = "<script>alert(1)</script>"
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def two_seat(
    db: ResultsDB, run: str, env: str, seed: int, first: tuple[str, float], second: tuple[str, float]
):
    seats = [("player_0", first[0]), ("player_1", second[0])]
    results = [
        SeatResult("player_0", 0, first[0], first[1], turns=2, metrics={"win": float(first[1] > second[1])}),
        SeatResult(
            "player_1", 1, second[0], second[1], turns=2, metrics={"win": float(second[1] > first[1])}
        ),
    ]
    key = episode_key(env, {}, seed, seats)
    db.record_episode(run, EpisodeRecord(key, env, {}, seed, seats, "done", num_turns=4, results=results))


def single(
    db: ResultsDB, run: str, seed: int, agent: str, reward: float, turns: int, invalid: int, tokens: int
):
    seats = [("agent", agent)]
    result = SeatResult("agent", 0, agent, reward, turns, invalid, tokens, {"passed": reward})
    key = episode_key(CODE, {}, seed, seats)
    db.record_episode(run, EpisodeRecord(key, CODE, {}, seed, seats, "done", results=[result]))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A Kuhn match A vs B (hand-worked below), a code-judge run of X, and one failed episode."""
    path = tmp_path / "results.db"
    with ResultsDB(path) as db:
        run = db.start_run({"test": True})
        two_seat(db, run, KUHN, 0, ("A", 1.0), ("B", -1.0))
        two_seat(db, run, KUHN, 1, ("A", 1.0), ("B", -1.0))
        two_seat(db, run, KUHN, 2, ("A", 0.0), ("B", 0.0))
        two_seat(db, run, KUHN, 3, ("B", 1.0), ("A", -1.0))
        for seed, (reward, turns, invalid, tokens) in enumerate(
            [(1.0, 4, 1, 10), (0.0, 4, 0, 20), (1.0, 2, 3, 30)]
        ):
            single(db, run, seed, "X", reward, turns, invalid, tokens)
        failed = EpisodeRecord("f", CODE, {}, 9, [("agent", "X")], "failed", error="boom")
        db.record_episode(run, failed)
    return path


def board_of(path: Path, **kwargs):
    with ResultsDB(path) as db:
        return aggregate(db.seat_rows(), failures=db.failures(), generated_at=WHEN, **kwargs)


# -- statistics ---------------------------------------------------------------------------------------


def test_mean_and_interval_of_a_known_set():
    estimate = Estimate.of([1.0, 2.0, 3.0, 4.0])
    sd = math.sqrt(((1.5**2) * 2 + (0.5**2) * 2) / 3)  # 1.29099...
    assert estimate.mean == 2.5 and estimate.n == 4
    assert estimate.ci == pytest.approx(1.96 * sd / 2)
    one = Estimate.of([3.0])
    assert one.mean == 3.0 and math.isnan(one.ci)
    assert math.isnan(Estimate.of([]).mean)


def test_invalid_rate_pools_turns_with_a_ratio_interval():
    # 4 invalid in 10 turns; residuals x - 0.4 t = -0.6, -1.6, 2.2 -> sqrt(7.76 / 6) / (10 / 3).
    estimate = ratio_estimate([1, 0, 3], [4, 4, 2])
    assert estimate.mean == pytest.approx(0.4)
    assert estimate.ci == pytest.approx(1.96 * math.sqrt(7.76 / 6) / (10 / 3))
    assert math.isnan(ratio_estimate([0], [0]).mean)


def test_single_agent_env(db_path: Path):
    env = board_of(db_path).env(CODE)
    assert (env.seats, env.episodes, env.failures) == (1, 3, 1)
    assert env.ratings == () and env.head_to_head == () and not env.multi_seat
    x = env.agent("X")
    assert x.episodes == 3
    assert x.reward.mean == pytest.approx(2 / 3)
    assert x.reward.ci == pytest.approx(1.96 * math.sqrt(1 / 3) / math.sqrt(3))
    assert x.metrics["passed"].mean == pytest.approx(2 / 3)
    assert x.invalid_rate.mean == pytest.approx(0.4)
    assert (x.mean_turns, x.mean_tokens) == (pytest.approx(10 / 3), pytest.approx(20.0))
    assert x.seats == () and (x.wins, x.draws, x.losses) == (0, 0, 0)


def test_two_seat_env_breakdown_and_head_to_head(db_path: Path):
    board = board_of(db_path)
    assert (board.episodes, board.failures) == (7, 1)
    env = board.env(KUHN)
    assert (env.seats, env.episodes, env.failures) == (2, 4, 0)
    assert env.metric_names == ("win",)
    a, b = env.agent("A"), env.agent("B")
    assert [stats.agent for stats in env.agents] == ["A", "B"]  # rating order
    assert a.reward.mean == pytest.approx(0.25) and b.reward.mean == pytest.approx(-0.25)
    assert (a.wins, a.draws, a.losses) == (2, 1, 1)
    assert (b.wins, b.draws, b.losses) == (1, 1, 2)
    assert a.metrics["win"].mean == pytest.approx(0.5)
    first, second = a.seats
    assert (first.seat_index, first.role, first.episodes) == (0, "player_0", 3)
    assert first.reward.mean == pytest.approx(2 / 3) and first.win_rate.mean == pytest.approx(2 / 3)
    assert (second.seat_index, second.episodes, second.reward.mean) == (1, 1, -1.0)
    assert second.win_rate.mean == 0.0 and math.isnan(second.win_rate.ci)
    assert [(s.seat_index, s.episodes, s.win_rate.mean) for s in b.seats] == [(0, 1, 1.0), (1, 3, 0.0)]
    pairs = {(p.agent, p.opponent): p for p in env.head_to_head}
    assert set(pairs) == {("A", "B"), ("B", "A")}
    ab = pairs["A", "B"]
    assert (ab.games, ab.wins, ab.draws, ab.losses) == (4, 2, 1, 1)
    assert ab.reward.mean == pytest.approx(0.25)
    assert (pairs["B", "A"].wins, pairs["B", "A"].losses) == (1, 2)


def test_two_seat_env_ratings(db_path: Path):
    env = board_of(db_path).env(KUHN)
    ratings = {rating.agent: rating for rating in env.ratings}
    assert env.rating_anchor is None
    assert ratings["A"].rating > ratings["B"].rating
    assert (ratings["A"].rating + ratings["B"].rating) / 2 == pytest.approx(1000.0)
    assert ratings["A"].games == 4 and ratings["A"].score == pytest.approx(2.5 / 4)
    for rating in env.ratings:
        assert rating.low <= rating.rating <= rating.high
    anchored = board_of(db_path, anchor="B").env(KUHN)
    assert anchored.rating_anchor == "B"
    assert {r.agent: r.rating for r in anchored.ratings}["B"] == 1000.0
    assert board_of(db_path, anchor="nobody").env(KUHN).rating_anchor is None
    assert board_of(db_path).env(KUHN).ratings == env.ratings  # same seed, same bootstrap


def test_self_play_counts_both_seats(tmp_path: Path):
    with ResultsDB(tmp_path / "r.db") as db:
        run = db.start_run({})
        two_seat(db, run, KUHN, 0, ("A", 1.0), ("A", -1.0))
        two_seat(db, run, KUHN, 1, ("A", -1.0), ("A", 1.0))
        rows = db.seat_rows()
    env = aggregate(rows).env(KUHN)
    a = env.agent("A")
    assert a.episodes == 4 and a.reward.mean == 0.0 and (a.wins, a.losses) == (2, 2)
    (pair,) = env.head_to_head
    assert (pair.agent, pair.opponent, pair.games, pair.wins, pair.losses) == ("A", "A", 4, 2, 2)
    assert env.ratings == ()  # self-play says nothing about strength


# -- rendering ----------------------------------------------------------------------------------------


def test_render_leaderboard_refuses_a_missing_file_without_creating_it(tmp_path: Path):
    missing = tmp_path / "nope.db"
    with pytest.raises(ValueError, match="no results database"):
        render_leaderboard(missing)
    assert not missing.exists()


def test_render_leaderboard_refuses_a_file_with_no_finished_episodes(tmp_path: Path):
    path = tmp_path / "empty.db"
    with ResultsDB(path) as db:
        run = db.start_run({})
        db.record_episode(run, EpisodeRecord("f", CODE, {}, 0, [("agent", "X")], "failed", error="boom"))
    with pytest.raises(ValueError, match="no finished episodes; 1 failed"):
        render_leaderboard(path, console=Console(file=open(os.devnull, "w")))  # noqa: SIM115


def test_render_leaderboard_prints_and_writes_html(db_path: Path, tmp_path: Path):
    console = Console(record=True, width=200)
    html_path = tmp_path / "out" / "board.html"
    board = render_leaderboard(db_path, html_path, console=console)
    text = console.export_text()
    assert board.env(KUHN).agent("A").episodes == 4
    for needle in (KUHN, CODE, "Bradley–Terry", "By seat", "Head to head", "0.250", "2/1/1", "1 failed"):
        assert needle in text
    assert html_path.is_file() and "table-rlvr-kuhnpoker-v0" in html_path.read_text()


def test_terminal_output_does_not_interpret_markup_in_names(tmp_path: Path):
    with ResultsDB(tmp_path / "r.db") as db:
        run = db.start_run({})
        two_seat(db, run, KUHN, 0, ("[bold red]evil[/]", 1.0), ("B", -1.0))
        rows = db.seat_rows()
    console = Console(record=True, width=200)
    print_leaderboard(aggregate(rows), console)
    assert "[bold red]evil[/]" in console.export_text()


def hostile_board(tmp_path: Path):
    hostile_env = 'rlvr/"><img src=x onerror=alert(2)>'
    with ResultsDB(tmp_path / "hostile.db") as db:
        run = db.start_run({})
        for seed in range(4):
            two_seat(db, run, KUHN, seed, (HOSTILE, 1.0 - 2.0 * (seed == 0)), ("B", -1.0 + 2.0 * (seed == 0)))
        two_seat(db, run, hostile_env, 0, (HOSTILE, 1.0), ("B", -1.0))
        for seed, reward in enumerate([1.0, 0.0, 1.0]):
            single(db, run, seed, "X", reward, 2, 0, 5)
        return aggregate(db.seat_rows(), failures=db.failures(), generated_at=WHEN), hostile_env


def test_html_escapes_user_supplied_names(tmp_path: Path):
    board, hostile_env = hostile_board(tmp_path)
    page = render_html(board)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert html.escape(hostile_env) in page
    assert "Content-Security-Policy" in page
    # Self-contained: no tag fetches anything (the SVG namespace is an identifier, not a request).
    tags = re.findall(r"<[^>]*>", page)
    for fetch in (" src=", "<link", 'href="http', "<iframe", "<object"):
        assert not [tag for tag in tags if fetch in tag]
    assert "@import" not in page and "url(" not in page
    assert render_html(board) == page  # deterministic for a fixed generated_at


def test_html_tables_and_plots(tmp_path: Path):
    board, _ = hostile_board(tmp_path)
    page = write_html(board, tmp_path / "board.html").read_text()
    assert 'id="table-rlvr-kuhnpoker-v0"' in page and 'id="table-rlvr-codejudge-v0"' in page
    assert 'id="ratings-rlvr-kuhnpoker-v0"' in page and 'id="h2h-rlvr-kuhnpoker-v0"' in page
    assert 'id="plot-reward-rlvr-codejudge-v0"' in page and 'id="plot-ratings-rlvr-kuhnpoker-v0"' in page
    assert "plot-ratings-rlvr-codejudge-v0" not in page  # single-agent: no ratings
    assert "2025-01-02 03:04:05 UTC" in page
    # Distinct ids for distinct envs, whatever their names.
    ids = [part.split('"')[0] for part in page.split('id="')[1:]]
    assert len(ids) == len(set(ids))


# -- in a real browser --------------------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]
BROWSER_TIMEOUT_S = 90


def chromium() -> str:
    """The Chromium binary; skip without one, but fail under CI, where the apt package `chromium`
    must be installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        reason = "headless Chromium not found (Debian/Ubuntu package `chromium`)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set", pytrace=False)
        pytest.skip(reason)
    return found


def run_chromium(tmp_path: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"chromium-profile-{name}"
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    env = {**os.environ, "HOME": str(tmp_path)}
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium took over {BROWSER_TIMEOUT_S}s: {' '.join(command)}")
    assert result.returncode == 0, result.stderr[-3000:]
    return result


class DomSummary(HTMLParser):
    """Tags seen (per enclosing svg/table id) and all text, from the DOM Chromium dumps."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[tuple[str, str]] = Counter()  # (container id, tag or tag.class)
        self.text: list[str] = []
        self.container = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("svg", "table"):
            self.container = values.get("id") or ""
        self.tags[self.container, tag] += 1
        for css in (values.get("class") or "").split():
            self.tags[self.container, f"{tag}.{css}"] += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_page_renders_in_headless_chromium(tmp_path: Path):
    board, _ = hostile_board(tmp_path)
    page = write_html(board, tmp_path / "board.html")
    dom = DomSummary()
    dom.feed(run_chromium(tmp_path, "dom", "--dump-dom", page.resolve().as_uri()).stdout)
    kuhn = "rlvr-kuhnpoker-v0"
    kuhn_agents = len(board.env(KUHN).agents)
    assert kuhn_agents == 2
    # Tables: a header row plus one row per agent, the rows chromium actually built.
    assert dom.tags[f"table-{kuhn}", "tr"] == 1 + kuhn_agents
    assert dom.tags["table-rlvr-codejudge-v0", "tr"] == 2
    assert dom.tags[f"h2h-{kuhn}", "tr"] == 1 + 2
    # Plots: a bar and an error bar (3 lines) per agent; ratings as dots with error bars.
    assert dom.tags[f"plot-reward-{kuhn}", "rect.bar"] == kuhn_agents
    assert dom.tags[f"plot-reward-{kuhn}", "g.errorbar"] == kuhn_agents
    assert dom.tags[f"plot-ratings-{kuhn}", "circle.point"] == kuhn_agents
    assert dom.tags[f"plot-ratings-{kuhn}", "g.errorbar"] == kuhn_agents
    assert dom.tags[f"plot-ratings-{kuhn}", "line"] >= 3 * kuhn_agents
    # The hostile name is text on the page, never an element.
    assert not any(tag == "script" for _, tag in dom.tags)
    assert not any(tag == "img" for _, tag in dom.tags)
    text = "".join(dom.text)
    assert HOSTILE in text and "rlvr-gym leaderboard" in text and "X" in text


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the raw (filtered) scanlines of a PNG: enough to tell a blank one."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return width, height, zlib.decompress(b"".join(chunks))


def test_page_screenshot_is_not_blank(tmp_path: Path):
    board, _ = hostile_board(tmp_path)
    page = write_html(board, tmp_path / "board.html")
    shot = tmp_path / "board.png"
    run_chromium(tmp_path, "shot", "--window-size=1280,1600", f"--screenshot={shot}", page.resolve().as_uri())
    data = shot.read_bytes()
    width, height, raw = png_pixels(data)
    assert (width, height) == (1280, 1600)
    assert len(data) > 20_000  # text, tables and plots do not compress to nothing
    assert len(set(raw)) > 64  # many distinct byte values: not a blank or single-colour page
