"""The leaderboard behind ``rlvr leaderboard``: what the results database says about each agent.

``aggregate`` turns stored seats into per-env, per-agent statistics (each mean with a 95% interval,
because a handful of episodes is the usual case and a bare mean invites over-reading), a first- vs
second-seat breakdown and a head-to-head table for multi-seat games, and Bradley–Terry ratings
(``ratings.py``). ``print_leaderboard`` shows it in the terminal; ``write_html`` writes one static,
self-contained page (inline CSS and SVG, no scripts, nothing fetched) that can be mailed or archived.

The sample unit is one seat of one episode: a self-play episode counts once for each seat it gives
the agent. A seat *wins* an episode when its reward is strictly the highest at the table, *draws*
when it ties for the highest, and *loses* otherwise; this works for zero-sum and general-sum games
alike, independent of what the env reports in ``info["metrics"]``.
"""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rlvr.runners import ratings as bt
from rlvr.runners.results_db import ResultsDB, SeatRow

Z95 = 1.96


# -- statistics --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A sample mean with the half-width of its 95% normal-approximation interval.

    ``ci`` is ``1.96 * sd / sqrt(n)`` (sample sd, ``ddof=1``). With one sample there is no spread to
    estimate, so ``ci`` is NaN (shown as no interval), not 0, which would claim certainty.
    """

    mean: float
    ci: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Estimate:
        data = np.asarray(list(values), dtype=float)
        if data.size == 0:
            return cls(math.nan, math.nan, 0)
        if data.size == 1:
            return cls(float(data[0]), math.nan, 1)
        return cls(float(data.mean()), float(Z95 * data.std(ddof=1) / math.sqrt(data.size)), int(data.size))


def ratio_estimate(numerators: Sequence[float], denominators: Sequence[float]) -> Estimate:
    """``sum(numerators) / sum(denominators)`` with a 95% interval over episodes.

    Used for the invalid-action rate: pooling (all invalid actions over all turns) weighs every turn
    equally, where a mean of per-episode rates would let a two-turn episode count as much as a
    forty-turn one. The interval is the delta-method (ratio-estimator) one, treating episodes as the
    independent units: ``1.96 * sqrt(sum((x_i - R * t_i)^2) / (n * (n - 1))) / mean(t)``. NaN when
    there are no turns (no rate) or a single episode (no spread).
    """
    x = np.asarray(numerators, dtype=float)
    t = np.asarray(denominators, dtype=float)
    if x.size == 0 or t.sum() == 0:
        return Estimate(math.nan, math.nan, int(x.size))
    rate = float(x.sum() / t.sum())
    if x.size == 1:
        return Estimate(rate, math.nan, 1)
    spread = math.sqrt(float(np.sum((x - rate * t) ** 2)) / (x.size * (x.size - 1)))
    return Estimate(rate, Z95 * spread / float(t.mean()), int(x.size))


# -- the board ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatStats:
    """How an agent did from one seat (0 = moves first)."""

    seat_index: int
    role: str
    episodes: int
    reward: Estimate
    win_rate: Estimate
    wins: int
    draws: int
    losses: int


@dataclass(frozen=True)
class HeadToHead:
    """An agent's results against one opponent, from the agent's side.

    ``games`` counts seat-pairings; in self-play (``agent == opponent``) each episode counts twice,
    once from each seat, so wins always equal losses there.
    """

    agent: str
    opponent: str
    games: int
    reward: Estimate
    wins: int
    draws: int
    losses: int


@dataclass(frozen=True)
class AgentStats:
    """One agent in one env."""

    env_id: str
    agent: str
    episodes: int
    """Seats played (a self-play episode counts twice)."""
    reward: Estimate
    metrics: dict[str, Estimate]
    invalid_rate: Estimate
    """Invalid actions per turn, pooled; see ``ratio_estimate``."""
    mean_turns: float
    mean_tokens: float
    wins: int = 0
    draws: int = 0
    losses: int = 0
    seats: tuple[SeatStats, ...] = ()
    """By seat index; empty for single-seat envs."""


@dataclass(frozen=True)
class EnvBoard:
    env_id: str
    seats: int
    """Seats per episode (the most seen); 1 for single-agent envs."""
    episodes: int
    agents: tuple[AgentStats, ...]
    metric_names: tuple[str, ...]
    head_to_head: tuple[HeadToHead, ...] = ()
    ratings: tuple[bt.Rating, ...] = ()
    rating_anchor: str | None = None
    """The agent fixed at 1000, or ``None`` when the mean rating is."""
    failures: int = 0

    @property
    def multi_seat(self) -> bool:
        return self.seats >= 2

    def agent(self, name: str) -> AgentStats:
        for stats in self.agents:
            if stats.agent == name:
                return stats
        raise KeyError(name)


@dataclass(frozen=True)
class Leaderboard:
    envs: tuple[EnvBoard, ...]
    generated_at: datetime
    episodes: int
    """Finished episodes across all envs."""
    failures: int = 0
    """Failed episodes (they are retried by the next ``rlvr eval`` and not in the statistics)."""
    source: str | None = None
    failed_envs: dict[str, int] = field(default_factory=dict)

    def env(self, env_id: str) -> EnvBoard:
        for board in self.envs:
            if board.env_id == env_id:
                return board
        raise KeyError(env_id)


def _outcome(row: SeatRow, table: Sequence[SeatRow]) -> float:
    """1 / 0.5 / 0: strictly best reward at the table, tied best, or not best."""
    others = [other.reward for other in table if other is not row]
    if not others:
        return math.nan
    best = max(others)
    return bt.score(row.reward, best)


def _wdl(outcomes: Iterable[float]) -> tuple[int, int, int]:
    values = list(outcomes)
    return values.count(1.0), values.count(0.5), values.count(0.0)


def _seat_stats(rows: Sequence[SeatRow], results: dict[int, float]) -> tuple[SeatStats, ...]:
    by_seat: dict[int, list[SeatRow]] = defaultdict(list)
    for row in rows:
        by_seat[row.seat_index].append(row)
    stats = []
    for index in sorted(by_seat):
        seat = by_seat[index]
        outcomes = [results[id(row)] for row in seat]
        wins, draws, losses = _wdl(outcomes)
        stats.append(
            SeatStats(
                seat_index=index,
                role=seat[0].role,
                episodes=len(seat),
                reward=Estimate.of(row.reward for row in seat),
                win_rate=Estimate.of(float(outcome == 1.0) for outcome in outcomes),
                wins=wins,
                draws=draws,
                losses=losses,
            )
        )
    return tuple(stats)


def _agent_stats(env_id: str, agent: str, rows: Sequence[SeatRow], results: dict[int, float]) -> AgentStats:
    names = sorted({name for row in rows for name in row.metrics})
    at_tables = [row for row in rows if id(row) in results]
    wins, draws, losses = _wdl(results[id(row)] for row in at_tables)
    return AgentStats(
        env_id=env_id,
        agent=agent,
        episodes=len(rows),
        reward=Estimate.of(row.reward for row in rows),
        metrics={
            name: Estimate.of(row.metrics[name] for row in rows if name in row.metrics) for name in names
        },
        invalid_rate=ratio_estimate([row.invalid_actions for row in rows], [row.turns for row in rows]),
        mean_turns=float(np.mean([row.turns for row in rows])),
        mean_tokens=float(np.mean([row.tokens for row in rows])),
        wins=wins,
        draws=draws,
        losses=losses,
        seats=_seat_stats(at_tables, results) if at_tables else (),
    )


def _head_to_head(tables: Iterable[Sequence[SeatRow]], order: Sequence[str]) -> tuple[HeadToHead, ...]:
    """Every (agent, opponent) pairing that met, listed in board ``order`` for agent, then opponent."""
    rewards: dict[tuple[str, str], list[float]] = defaultdict(list)
    outcomes: dict[tuple[str, str], list[float]] = defaultdict(list)
    for table in tables:
        for row in table:
            for other in table:
                if other is not row:
                    rewards[row.agent, other.agent].append(row.reward)
                    outcomes[row.agent, other.agent].append(bt.score(row.reward, other.reward))
    return tuple(
        HeadToHead(
            agent,
            opponent,
            len(rewards[agent, opponent]),
            Estimate.of(rewards[agent, opponent]),
            *_wdl(outcomes[agent, opponent]),
        )
        for agent, opponent in sorted(rewards, key=lambda pair: (order.index(pair[0]), order.index(pair[1])))
    )


def _env_board(
    env_id: str, rows: Sequence[SeatRow], failures: int, anchor: str | None, resamples: int, seed: int
) -> EnvBoard:
    tables: dict[str, list[SeatRow]] = defaultdict(list)
    for row in rows:
        tables[row.episode_key].append(row)
    seats = max(len(table) for table in tables.values())
    results = {id(row): _outcome(row, table) for table in tables.values() if len(table) > 1 for row in table}
    by_agent: dict[str, list[SeatRow]] = defaultdict(list)
    for row in rows:
        by_agent[row.agent].append(row)
    ratings: tuple[bt.Rating, ...] = ()
    used_anchor = None
    games = bt.pairwise_outcomes_by_episode(rows)
    outcomes = [game for pairs in games.values() for game in pairs]
    rated = bt.rated_agents(outcomes)
    if len(rated) >= 2:
        used_anchor = anchor if anchor in rated else None
        groups = [key for key, pairs in games.items() for _ in pairs]
        ratings = tuple(bt.rate(outcomes, groups=groups, anchor=used_anchor, resamples=resamples, seed=seed))
    rank = {rating.agent: position for position, rating in enumerate(ratings)}
    agents = sorted(
        (_agent_stats(env_id, agent, agent_rows, results) for agent, agent_rows in by_agent.items()),
        key=lambda stats: (rank.get(stats.agent, len(rank)), -stats.reward.mean, stats.agent),
    )
    return EnvBoard(
        env_id=env_id,
        seats=seats,
        episodes=len(tables),
        agents=tuple(agents),
        metric_names=tuple(sorted({name for stats in agents for name in stats.metrics})),
        head_to_head=_head_to_head(
            (table for table in tables.values() if len(table) > 1), [stats.agent for stats in agents]
        ),
        ratings=ratings,
        rating_anchor=used_anchor,
        failures=failures,
    )


def aggregate(
    rows: list[SeatRow],
    *,
    failures: Sequence[tuple[str, int, str]] = (),
    source: str | None = None,
    anchor: str | None = None,
    resamples: int = bt.DEFAULT_RESAMPLES,
    seed: int = 0,
    generated_at: datetime | None = None,
) -> Leaderboard:
    """The leaderboard of ``rows`` (``ResultsDB.seat_rows()``), one ``EnvBoard`` per env.

    ``failures`` are ``ResultsDB.failures()``, counted only. Ratings use ``anchor`` at 1000 where that
    agent played rated games in the env, else the mean; their intervals come from ``resamples``
    bootstrap resamples of the episodes drawn with ``seed``, so the same data gives the same board.
    """
    by_env: dict[str, list[SeatRow]] = defaultdict(list)
    for row in rows:
        by_env[row.env_id].append(row)
    failed: dict[str, int] = defaultdict(int)
    for env_id, _, _ in failures:
        failed[env_id] += 1
    envs = tuple(
        _env_board(env_id, by_env[env_id], failed.get(env_id, 0), anchor, resamples, seed)
        for env_id in sorted(by_env)
    )
    return Leaderboard(
        envs=envs,
        generated_at=generated_at or datetime.now(timezone.utc),
        episodes=sum(board.episodes for board in envs),
        failures=len(failures),
        source=source,
        failed_envs=dict(failed),
    )


# -- formatting ----------------------------------------------------------------------------------------


def _num(value: float, digits: int = 3) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def _est(value: Estimate, digits: int = 3, scale: float = 1.0) -> str:
    if math.isnan(value.mean):
        return "–"
    text = f"{value.mean * scale:.{digits}f}"
    return text if math.isnan(value.ci) else f"{text}±{value.ci * scale:.{digits}f}"


def _pct(value: Estimate) -> str:
    return _est(value, 1, 100.0) + ("" if math.isnan(value.mean) else "%")


def _interval(rating: bt.Rating) -> str:
    return "–" if math.isnan(rating.low) else f"{rating.low:.0f} – {rating.high:.0f}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _summary(board: Leaderboard) -> str:
    text = f"{board.episodes} finished episode{'s' * (board.episodes != 1)}, {board.failures} failed"
    return text + (f" · {board.source}" if board.source else "")


# -- terminal ------------------------------------------------------------------------------------------


TERMINAL_METRICS = (
    "win",
    "pass_rate",
    "accepted",
    "success",
    "success@1",
    "em",
    "f1",
    "hits@1",
    "mrr",
    "chip_diff",
)
"""The metrics worth a terminal column, in order of preference; the HTML page shows every metric."""
MAX_TERMINAL_METRICS = 2


def _terminal_metrics(env: EnvBoard) -> list[str]:
    """A few telling metrics, so the table fits a terminal; ``return`` would repeat the reward column."""
    preferred = [name for name in TERMINAL_METRICS if name in env.metric_names]
    others = [name for name in env.metric_names if name not in preferred and name != "return"]
    return (preferred or others)[: 1 if env.multi_seat else MAX_TERMINAL_METRICS]


def _agents_table(env: EnvBoard) -> Table:
    table = Table(
        title=Text(env.env_id, style="bold"), caption=f"{env.episodes} episodes", title_justify="left"
    )
    table.add_column("Agent")
    table.add_column("Eps", justify="right")
    table.add_column("Reward±95%CI", justify="right")
    if env.multi_seat:
        table.add_column("W/D/L", justify="right")
    metric_names = _terminal_metrics(env)
    for name in metric_names:
        table.add_column(Text(name), justify="right")
    table.add_column("Invalid", justify="right")
    table.add_column("Turns", justify="right")
    table.add_column("Tokens", justify="right")
    for stats in env.agents:
        cells: list[str | Text] = [Text(stats.agent), str(stats.episodes), _est(stats.reward, 2)]
        if env.multi_seat:
            cells.append(f"{stats.wins}/{stats.draws}/{stats.losses}")
        cells += [_est(stats.metrics[name], 2) if name in stats.metrics else "–" for name in metric_names]
        cells += [_pct(stats.invalid_rate), _num(stats.mean_turns, 1), _num(stats.mean_tokens, 0)]
        table.add_row(*cells)
    return table


def _ratings_table(env: EnvBoard) -> Table:
    anchor = env.rating_anchor or "the mean"
    table = Table(title=f"Bradley–Terry ratings ({anchor} = 1000)", title_justify="left")
    for name, justify in (
        ("#", "right"),
        ("Agent", "left"),
        ("Rating", "right"),
        ("95% CI", "right"),
        ("Games", "right"),
        ("Score", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for position, rating in enumerate(env.ratings, start=1):
        table.add_row(
            str(position),
            Text(rating.agent),
            f"{rating.rating:.0f}",
            _interval(rating),
            str(rating.games),
            f"{100 * rating.score:.1f} %",
        )
    return table


def _seat_indices(env: EnvBoard) -> list[int]:
    return sorted({seat.seat_index for stats in env.agents for seat in stats.seats})


def _seats_table(env: EnvBoard) -> Table:
    table = Table(title="By seat (reward, win rate)", title_justify="left")
    table.add_column("Agent")
    indices = _seat_indices(env)
    for index in indices:
        table.add_column(f"Seat {index} reward", justify="right")
        table.add_column(f"Seat {index} win", justify="right")
    for stats in env.agents:
        seats = {seat.seat_index: seat for seat in stats.seats}
        cells: list[str | Text] = [Text(stats.agent)]
        for index in indices:
            seat = seats.get(index)
            cells += [_est(seat.reward), _pct(seat.win_rate)] if seat else ["–", "–"]
        table.add_row(*cells)
    return table


def _h2h_table(env: EnvBoard) -> Table:
    table = Table(title="Head to head", title_justify="left")
    for name, justify in (
        ("Agent", "left"),
        ("Opponent", "left"),
        ("Games", "right"),
        ("Reward ± 95% CI", "right"),
        ("W", "right"),
        ("D", "right"),
        ("L", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for pair in env.head_to_head:
        table.add_row(
            Text(pair.agent),
            Text(pair.opponent),
            str(pair.games),
            _est(pair.reward),
            str(pair.wins),
            str(pair.draws),
            str(pair.losses),
        )
    return table


def print_leaderboard(board: Leaderboard, console: Console | None = None) -> None:
    """The board as rich tables: per env the agents, then (multi-seat envs) ratings, seats, head to head.

    Agent names and env ids go in as ``Text``, never as markup, so a name like ``[red]x`` prints as is.
    """
    console = console or Console()
    console.print(Text(f"Leaderboard · {_summary(board)} · {_stamp(board.generated_at)}", style="bold"))
    for env in board.envs:
        console.print()
        console.print(_agents_table(env))
        tables = ([_ratings_table(env)] if env.ratings else []) + (
            [_seats_table(env), _h2h_table(env)] if env.multi_seat else []
        )
        for table in tables:
            console.print()
            console.print(table)
        if env.failures:
            console.print(Text(f"{env.failures} failed episode(s) not counted", style="yellow"))


# -- HTML: inline SVG plots ----------------------------------------------------------------------------

_esc = html.escape
_PLOT_WIDTH = 860
_LABEL_WIDTH = 190
_ROW_HEIGHT = 28
_TOP = 12
_AXIS_HEIGHT = 34


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]; the axis then spans the first to the last tick."""
    if not high > low:
        low, high = low - 1.0, high + 1.0
    raw = (high - low) / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if raw <= m * magnitude)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _short(name: str, limit: int = 26) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _svg_axes(
    ticks: list[float], scale: Callable[[float], float], rows: int, label: str, reference: float | None
) -> list[str]:
    bottom = _TOP + rows * _ROW_HEIGHT
    parts = []
    for tick in ticks:
        x = scale(tick)
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{bottom}"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">{tick:g}</text>')
    if reference is not None:
        x = scale(reference)
        parts.append(f'<line class="reference" x1="{x:.1f}" y1="{_TOP - 4}" x2="{x:.1f}" y2="{bottom}"/>')
    center = (_LABEL_WIDTH + _PLOT_WIDTH - 16) / 2
    parts.append(
        f'<text class="axis-label" x="{center:.1f}" y="{bottom + 30}" '
        f'text-anchor="middle">{_esc(label)}</text>'
    )
    return parts


def _svg_intervals(
    css_id: str,
    title: str,
    label: str,
    items: Sequence[tuple[str, float, float, float]],
    reference: float,
    bars: bool,
) -> str:
    """A horizontal plot, one row per ``(name, value, low, high)``: a bar from ``reference`` (bars) or a
    dot (no bars) at ``value``, and an error bar from ``low`` to ``high`` where those are finite."""
    finite = [v for _, value, low, high in items for v in (value, low, high) if not math.isnan(v)]
    ticks = _nice_ticks(min([*finite, reference]), max([*finite, reference]))
    left, right = _LABEL_WIDTH, _PLOT_WIDTH - 16
    span = ticks[-1] - ticks[0]

    def scale(v: float) -> float:
        return left + (v - ticks[0]) / span * (right - left)

    height = _TOP + len(items) * _ROW_HEIGHT + _AXIS_HEIGHT + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{css_id}" class="plot" role="img" '
        f'viewBox="0 0 {_PLOT_WIDTH} {height}" width="{_PLOT_WIDTH}" height="{height}">',
        f"<title>{_esc(title)}</title>",
        *_svg_axes(ticks, scale, len(items), label, reference),
    ]
    for row, (name, value, low, high) in enumerate(items):
        y = _TOP + row * _ROW_HEIGHT + _ROW_HEIGHT / 2
        tip = f"{name}: {value:.3f}" + ("" if math.isnan(low) else f" [{low:.3f}, {high:.3f}]")
        parts.append(f'<g class="row"><title>{_esc(tip)}</title>')
        parts.append(
            f'<text class="label" x="{left - 10}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_esc(_short(name))}</text>"
        )
        if bars:
            x0, x1 = sorted((scale(reference), scale(value)))
            kind = "bar negative" if value < reference else "bar"
            parts.append(
                f'<rect class="{kind}" x="{x0:.1f}" y="{y - 9:.1f}" '
                f'width="{max(x1 - x0, 1.0):.1f}" height="18" rx="2"/>'
            )
        if not (math.isnan(low) or math.isnan(high)):
            a, b = scale(low), scale(high)
            parts.append(
                f'<g class="errorbar"><line x1="{a:.1f}" y1="{y:.1f}" x2="{b:.1f}" y2="{y:.1f}"/>'
                f'<line x1="{a:.1f}" y1="{y - 6:.1f}" x2="{a:.1f}" y2="{y + 6:.1f}"/>'
                f'<line x1="{b:.1f}" y1="{y - 6:.1f}" x2="{b:.1f}" y2="{y + 6:.1f}"/></g>'
            )
        if not bars:
            parts.append(f'<circle class="point" cx="{scale(value):.1f}" cy="{y:.1f}" r="5"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def _reward_plot(env: EnvBoard, slug: str) -> str:
    items = [
        (s.agent, s.reward.mean, s.reward.mean - s.reward.ci, s.reward.mean + s.reward.ci) for s in env.agents
    ]
    return _svg_intervals(
        f"plot-reward-{slug}",
        f"Mean reward per agent, {env.env_id}",
        "mean reward per episode (bars) with 95% CI",
        items,
        0.0,
        bars=True,
    )


def _ratings_plot(env: EnvBoard, slug: str) -> str:
    items = [(r.agent, r.rating, r.low, r.high) for r in env.ratings]
    anchor = env.rating_anchor or "mean"
    return _svg_intervals(
        f"plot-ratings-{slug}",
        f"Bradley–Terry ratings, {env.env_id}",
        f"rating (Elo scale, {anchor} = 1000) with 95% bootstrap CI",
        items,
        bt.BASE_RATING,
        bars=False,
    )


# -- HTML: page ----------------------------------------------------------------------------------------

_CSS = """
:root { --ink: #1f2933; --muted: #66727f; --line: #d9dee3; --accent: #4c78a8; --warm: #e45756; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #f6f7f9; }
main { max-width: 1200px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 0 0 4px; font-size: 20px; word-break: break-all; }
h3 { margin: 22px 0 8px; font-size: 15px; color: var(--muted); text-transform: uppercase;
     letter-spacing: .04em; }
.meta, .note { color: var(--muted); margin: 0 0 12px; }
.meta strong { color: var(--ink); }
nav a { margin-right: 14px; color: var(--accent); }
section.env { background: #fff; border: 1px solid var(--line); border-radius: 8px;
              padding: 20px 22px; margin: 22px 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 9px; border-bottom: 1px solid var(--line); text-align: left; }
td { white-space: nowrap; }
th { font-size: 13px; color: var(--muted); font-weight: 600; background: #fafbfc; vertical-align: bottom; }
td.num, th.num { text-align: right; }
td.name { max-width: 320px; overflow: hidden; text-overflow: ellipsis; font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; }
svg.plot { display: block; max-width: 100%; height: auto; margin: 6px 0 4px; }
svg .grid { stroke: #eceff2; }
svg .reference { stroke: var(--muted); stroke-dasharray: 4 3; }
svg .tick, svg .axis-label { fill: var(--muted); font-size: 11px; }
svg .label { fill: var(--ink); font-size: 13px; }
svg .bar { fill: var(--accent); opacity: .85; }
svg .bar.negative { fill: var(--warm); }
svg .errorbar line { stroke: var(--ink); stroke-width: 1.5; }
svg .point { fill: var(--accent); stroke: #fff; stroke-width: 1.5; }
.warn { color: #a15c00; }
footer { color: var(--muted); font-size: 13px; margin-top: 28px; }
"""


def _slugs(env_ids: Sequence[str]) -> dict[str, str]:
    """Unique, id-safe slugs: ``rlvr/KuhnPoker-v0`` -> ``rlvr-kuhnpoker-v0``."""
    seen: dict[str, int] = {}
    slugs = {}
    for env_id in env_ids:
        base = re.sub(r"[^a-z0-9]+", "-", env_id.lower()).strip("-") or "env"
        count = seen.get(base, 0)
        seen[base] = count + 1
        slugs[env_id] = base if count == 0 else f"{base}-{count + 1}"
    return slugs


def _html_table(
    css_id: str, css_class: str, header: Sequence[tuple[str, str]], rows: Iterable[list[str]]
) -> str:
    """A ``<table>``; ``header`` is ``(label, cell class)`` with class ``num``, ``name`` or ``""``, and
    the cells are already escaped HTML."""
    head = "".join(
        f'<th class="{css}">{_esc(label)}</th>' if css else f"<th>{_esc(label)}</th>" for label, css in header
    )
    body = []
    for cells in rows:
        tds = (
            f'<td class="{css}">{cell}</td>' if css else f"<td>{cell}</td>"
            for cell, (_, css) in zip(cells, header, strict=True)
        )
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (
        f'<div class="scroll"><table id="{css_id}" class="{css_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>"
    )


def _agents_html(env: EnvBoard, slug: str) -> str:
    header = [("Agent", "name"), ("Episodes", "num"), ("Reward ± 95% CI", "num")]
    if env.multi_seat:
        header.append(("W / D / L", "num"))
    header += [(name, "num") for name in env.metric_names]
    header += [("Invalid", "num"), ("Turns", "num"), ("Tokens", "num")]
    rows = []
    for stats in env.agents:
        cells = [_esc(stats.agent), str(stats.episodes), _esc(_est(stats.reward))]
        if env.multi_seat:
            cells.append(f"{stats.wins} / {stats.draws} / {stats.losses}")
        cells += [
            _esc(_est(stats.metrics[name])) if name in stats.metrics else "–" for name in env.metric_names
        ]
        cells += [_esc(_pct(stats.invalid_rate)), _num(stats.mean_turns, 1), _num(stats.mean_tokens, 0)]
        rows.append(cells)
    return _html_table(f"table-{slug}", "agents", header, rows)


def _ratings_html(env: EnvBoard, slug: str) -> str:
    header = [
        ("#", "num"),
        ("Agent", "name"),
        ("Rating", "num"),
        ("95% CI", "num"),
        ("Games", "num"),
        ("Score", "num"),
    ]
    rows = [
        [str(k), _esc(r.agent), f"{r.rating:.0f}", _esc(_interval(r)), str(r.games), f"{100 * r.score:.1f} %"]
        for k, r in enumerate(env.ratings, start=1)
    ]
    return _html_table(f"ratings-{slug}", "ratings", header, rows)


def _seats_html(env: EnvBoard, slug: str) -> str:
    indices = _seat_indices(env)
    header = [("Agent", "name")]
    for index in indices:
        header += [(f"Seat {index} reward", "num"), (f"Seat {index} win", "num")]
    rows = []
    for stats in env.agents:
        seats = {seat.seat_index: seat for seat in stats.seats}
        cells = [_esc(stats.agent)]
        for index in indices:
            seat = seats.get(index)
            cells += [_esc(_est(seat.reward)), _esc(_pct(seat.win_rate))] if seat else ["–", "–"]
        rows.append(cells)
    return _html_table(f"seats-{slug}", "seats", header, rows)


def _h2h_html(env: EnvBoard, slug: str) -> str:
    header = [
        ("Agent", "name"),
        ("Opponent", "name"),
        ("Games", "num"),
        ("Reward ± 95% CI", "num"),
        ("W", "num"),
        ("D", "num"),
        ("L", "num"),
    ]
    rows = [
        [
            _esc(p.agent),
            _esc(p.opponent),
            str(p.games),
            _esc(_est(p.reward)),
            str(p.wins),
            str(p.draws),
            str(p.losses),
        ]
        for p in env.head_to_head
    ]
    return _html_table(f"h2h-{slug}", "h2h", header, rows)


def _env_html(env: EnvBoard, slug: str) -> str:
    seats = "single agent" if env.seats == 1 else f"{env.seats} seats"
    parts = [
        f'<section class="env" id="env-{slug}">',
        f"<h2>{_esc(env.env_id)}</h2>",
        f'<p class="meta"><strong>{env.episodes}</strong> episodes · {seats}'
        + (f' · <span class="warn">{env.failures} failed, not counted</span>' if env.failures else "")
        + "</p>",
        "<h3>Agents</h3>",
        _reward_plot(env, slug),
        _agents_html(env, slug),
    ]
    if env.ratings:
        anchor = _esc(env.rating_anchor) if env.rating_anchor else "the mean rating"
        parts += [
            "<h3>Ratings</h3>",
            '<p class="note">Bradley–Terry maximum likelihood, P(a beats b) = '
            f"1 / (1 + 10<sup>(R<sub>b</sub> − R<sub>a</sub>)/400</sup>); {anchor} = 1000; "
            "higher reward in an episode wins, ties are half a win; self-play is not rated.</p>",
            _ratings_plot(env, slug),
            _ratings_html(env, slug),
        ]
    if env.multi_seat:
        parts += ["<h3>By seat</h3>", _seats_html(env, slug), "<h3>Head to head</h3>", _h2h_html(env, slug)]
    parts.append("</section>")
    return "\n".join(parts)


_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
"""No scripts, no fetches: the page renders offline, and a name that slipped past escaping stays inert."""


def render_html(board: Leaderboard, title: str = "rlvr-gym leaderboard") -> str:
    """The page as a string (see ``write_html``)."""
    slugs = _slugs([env.env_id for env in board.envs])
    nav = " ".join(f'<a href="#env-{slugs[env.env_id]}">{_esc(env.env_id)}</a>' for env in board.envs)
    source = f" · source <code>{_esc(board.source)}</code>" if board.source else ""
    failures = f'<span class="warn">{board.failures}</span>' if board.failures else "0"
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
            f"<title>{_esc(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head><body><main>",
            f"<h1>{_esc(title)}</h1>",
            f'<p class="meta" id="summary">Generated <time datetime="{board.generated_at.isoformat()}">'
            f"{_stamp(board.generated_at)}</time> · <strong>{board.episodes}</strong> finished episodes · "
            f"{failures} failed{source}</p>",
            f"<nav>{nav}</nav>",
            *(_env_html(env, slugs[env.env_id]) for env in board.envs),
            "<footer>Intervals are 95%: mean ± 1.96·sd/√n over episodes (none shown for a single episode); "
            "the invalid-action rate pools all turns; ratings use a bootstrap over episodes.</footer>",
            "</main></body></html>",
        ]
    )


def write_html(board: Leaderboard, path: str | Path) -> Path:
    """Write the board as one self-contained HTML file (inline CSS and SVG, no scripts); return its path."""
    target = Path(path)
    if target.parent != Path():
        target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(board), encoding="utf-8")
    return target


# -- from a results file ---------------------------------------------------------------------------------


def render_leaderboard(
    db_path: str | Path, html_path: str | Path | None = None, console: Console | None = None
) -> Leaderboard:
    """Read ``db_path``, print the board and, given ``html_path``, write the HTML page too.

    A path that does not exist is refused rather than opened, since opening would create an empty
    database there and hide a typo.
    """
    path = Path(db_path)
    if not path.is_file():
        raise ValueError(f"no results database at {path} (run `rlvr eval --db {path}` first)")
    with ResultsDB(path) as db:
        rows = db.seat_rows()
        failures = db.failures()
    if not rows:
        detail = f"; {len(failures)} failed" if failures else ""
        raise ValueError(f"{path} has no finished episodes{detail}")
    board = aggregate(rows, failures=failures, source=str(path))
    console = console or Console()
    print_leaderboard(board, console)
    if html_path is not None:
        written = write_html(board, html_path)
        console.print(Text(f"HTML leaderboard written to {written}", style="dim"))
    return board
