"""Evaluation: a fixed suite of episodes for some agents on some envs, played by the runner, stored in
SQLite, resumable.

The suite is a pure function of the request (envs, agents, opponents, episodes, seed), so it can be
replayed: each planned episode has a key (see ``results_db.episode_key``), and a rerun of the same
request plays only the keys not yet stored. Two-player games are played from both seats with the
same seeds (the same deals and first moves each way round), which cancels most of the luck of the
deal in head-to-head comparisons.

Who plays whom in a multi-seat env:
    every agent against every opponent, and every pair of agents against each other;
    an agent alone with no opponents plays itself (self-play).
In a single-agent env every non-bot agent plays every seed; bots and opponents sit out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlvr.agents.base import SamplingParams
from rlvr.agents.scripted import BotSeat
from rlvr.agents.specs import AgentSpec, build_policy, parse_agent_spec
from rlvr.core.records import Trajectory, write_jsonl
from rlvr.core.registry import get_entry
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.results_db import EpisodeRecord, ResultsDB, SeatResult, episode_key
from rlvr.runners.rollout import Player, Runner

if TYPE_CHECKING:
    from rlvr.runners.distributed import RayOptions

SINGLE_SEAT = "agent"


@dataclass(frozen=True)
class EvalRequest:
    """What to evaluate; the same request always plans the same episodes."""

    env_ids: tuple[str, ...]
    agents: tuple[str, ...]
    opponents: tuple[str, ...] = ()
    episodes: int = 10
    seed: int = 0
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.env_ids:
            raise ValueError("name at least one env (--env)")
        if not self.agents:
            raise ValueError("name at least one agent (--agent)")
        if self.episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {self.episodes}")


@dataclass(frozen=True)
class PlannedEpisode:
    key: str
    spec: EpisodeSpec


@dataclass
class EvalSummary:
    planned: int
    already_done: int
    played: int = 0
    failed: int = 0
    run_id: str = ""
    skipped_pairs: list[str] = field(default_factory=list)
    """Why some agent/env combinations were left out (a bot in a single-agent env, ...)."""
    seconds: float = 0.0


def _lineups(
    env_id: str, agents: Sequence[AgentSpec], opponents: Sequence[AgentSpec]
) -> list[tuple[str, str]]:
    """The (first, second) name pairs that meet in a two-seat env: both seat orders of every match-up."""
    matchups: list[tuple[str, str]] = [
        (a.name, o.name) for a in agents for o in opponents if a.name != o.name
    ]
    matchups += [(a.name, b.name) for a, b in itertools.combinations(agents, 2)]
    if not matchups:
        matchups = [(agent.name, agent.name) for agent in agents]  # self-play
    lineups: list[tuple[str, str]] = []
    for first, second in dict.fromkeys(matchups):
        lineups.append((first, second))
        if first != second:
            lineups.append((second, first))
    return list(dict.fromkeys(lineups))


def plan(
    request: EvalRequest, agents: Sequence[AgentSpec], opponents: Sequence[AgentSpec]
) -> tuple[list[PlannedEpisode], list[str]]:
    """Every episode of the suite, in a fixed order, and notes on combinations left out."""
    planned: list[PlannedEpisode] = []
    notes: list[str] = []
    seeds = range(request.seed, request.seed + request.episodes)
    for env_id in request.env_ids:
        entry = get_entry(env_id)
        kwargs = dict(request.env_kwargs)
        if entry.aec_entry_point is not None and len(entry.roles) >= 2:
            if len(entry.roles) != 2:
                raise ValueError(f"{env_id} has {len(entry.roles)} seats; evaluation pairs up two-seat games")
            for first, second in _lineups(env_id, agents, opponents):
                seats = {entry.roles[0]: first, entry.roles[1]: second}
                for seed in seeds:
                    key = episode_key(env_id, kwargs, seed, list(seats.items()))
                    planned.append(PlannedEpisode(key, EpisodeSpec(env_id, seed, seats, kwargs)))
            continue
        for agent in agents:
            if agent.is_bot:
                notes.append(f"{agent.name} is an env bot and does not play single-agent {env_id}")
                continue
            for seed in seeds:
                seats = {SINGLE_SEAT: agent.name}
                key = episode_key(env_id, kwargs, seed, list(seats.items()))
                planned.append(PlannedEpisode(key, EpisodeSpec(env_id, seed, seats, kwargs)))
        if opponents:
            notes.append(f"{env_id} is single-agent: opponents are not used there")
    return planned, notes


def to_record(key: str, spec: EpisodeSpec, trajectory: Trajectory) -> EpisodeRecord:
    """The rows to store for one finished episode."""
    seats = list(spec.seats.items())
    record = EpisodeRecord(
        key=key,
        env_id=spec.env_id,
        env_kwargs=dict(spec.env_kwargs),
        seed=spec.seed,
        seats=seats,
        status="failed" if trajectory.error is not None else "done",
        error=trajectory.error,
        num_turns=len(trajectory.turns),
        duration_s=float(trajectory.metadata.get("duration_s", 0.0)),
        trajectory_json=trajectory.to_json(),
    )
    if trajectory.error is None:
        for index, (role, agent) in enumerate(seats):
            turns = trajectory.turns_of(role)
            record.results.append(
                SeatResult(
                    role=role,
                    seat_index=index,
                    agent=agent,
                    reward=float(trajectory.returns.get(role, 0.0)),
                    turns=len(turns),
                    invalid_actions=sum(bool(turn.info.get("invalid_action")) for turn in turns),
                    tokens=sum(int(turn.info.get("completion_tokens", 0)) for turn in turns),
                    metrics={k: float(v) for k, v in trajectory.metrics.get(role, {}).items()},
                )
            )
    return record


@dataclass
class EvalOptions:
    """How to run the agents (not what to evaluate: these do not change the planned episodes)."""

    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(temperature=0.0, max_tokens=128))
    history_window: int | None = None
    max_episodes: int = 32
    """Episodes live at once, i.e. the largest batch a policy sees."""
    backend_options: dict[str, Any] = field(default_factory=dict)
    progress: bool = True
    jsonl: Path | None = None
    """Also append every trajectory to this JSONL file."""
    ray: RayOptions | None = None
    """Play on Ray actors (see ``rlvr.runners.distributed``); ``None`` plays in this process."""


def evaluate(
    request: EvalRequest,
    db_path: str | Path,
    options: EvalOptions | None = None,
    *,
    command: str | None = None,
    players: dict[str, Any] | None = None,
) -> EvalSummary:
    """Play the missing episodes of ``request`` and store each as it ends.

    ``players`` may supply ready-made players by agent name (a loaded model shared across calls);
    the others are built from their specs.
    """
    options = options or EvalOptions()
    agents = [parse_agent_spec(text) for text in request.agents]
    opponents = [parse_agent_spec(text) for text in request.opponents]
    _check_unique_names(agents + opponents)
    planned, notes = plan(request, agents, opponents)
    began = time.perf_counter()
    with ResultsDB(db_path) as db:
        for spec in agents + opponents:
            db.register_agent(spec.name, spec.text)
        done = db.finished_keys()
        todo = [episode for episode in planned if episode.key not in done]
        summary = EvalSummary(
            planned=len(planned), already_done=len(planned) - len(todo), skipped_pairs=notes
        )
        if not todo:
            return summary
        needed = {name for episode in todo for name in episode.spec.seats.values()}
        if options.ray is not None:
            if players:
                raise ValueError("ready-made players cannot be shipped to Ray workers; pass agent specs")
            from rlvr.runners.distributed import require_ray

            require_ray()  # a clear error before a run is recorded
            summary.run_id = db.start_run(_request_dict(request), command)
            try:
                _play_on_ray(todo, [s for s in agents + opponents if s.name in needed], db, summary, options)
            finally:
                db.finish_run(summary.run_id)
                summary.seconds = time.perf_counter() - began
            return summary
        built = _build_players([s for s in agents + opponents if s.name in needed], options, players or {})
        summary.run_id = db.start_run(_request_dict(request), command)
        runner = Runner(built, max_episodes=options.max_episodes, progress=options.progress)
        try:
            asyncio.run(_play(runner, todo, db, summary, options.jsonl))
        finally:
            runner.close()
            db.finish_run(summary.run_id)
            summary.seconds = time.perf_counter() - began
    return summary


async def _play(
    runner: Runner, todo: list[PlannedEpisode], db: ResultsDB, summary: EvalSummary, jsonl: Path | None
) -> None:
    keys = {id(episode.spec): episode.key for episode in todo}
    async for spec, trajectory in runner.stream([episode.spec for episode in todo]):
        db.record_episode(summary.run_id, to_record(keys[id(spec)], spec, trajectory))
        summary.played += 1
        summary.failed += trajectory.error is not None
        if jsonl is not None:
            write_jsonl(jsonl, [trajectory], append=True)


def _play_on_ray(
    todo: list[PlannedEpisode],
    agents: list[AgentSpec],
    db: ResultsDB,
    summary: EvalSummary,
    options: EvalOptions,
) -> None:
    """The Ray path: actors play, this process alone writes each episode as it comes back."""
    from rlvr.runners.distributed import WorkerConfig, stream_on_ray

    assert options.ray is not None
    config = WorkerConfig(
        agents=tuple(agents),
        sampling=options.sampling,
        history_window=options.history_window,
        backend_options=tuple(options.backend_options.items()),
        max_episodes=options.max_episodes,
    )
    bar = contextlib.nullcontext(None)
    if options.progress:
        from rich.progress import Progress

        bar = Progress()
    with bar as progress:
        task = progress.add_task("rollout (ray)", total=len(todo)) if progress is not None else None
        for index, trajectory in stream_on_ray([episode.spec for episode in todo], config, options.ray):
            episode = todo[index]
            db.record_episode(summary.run_id, to_record(episode.key, episode.spec, trajectory))
            summary.played += 1
            summary.failed += trajectory.error is not None
            if options.jsonl is not None:
                write_jsonl(options.jsonl, [trajectory], append=True)
            if progress is not None and task is not None:
                progress.update(task, advance=1)


def _build_players(
    specs: Iterable[AgentSpec], options: EvalOptions, ready: dict[str, Any]
) -> dict[str, Player | BotSeat]:
    players: dict[str, Player | BotSeat] = {}
    for spec in specs:
        built = ready.get(spec.name)
        if built is None:
            built = build_policy(spec, **options.backend_options)
        if isinstance(built, (BotSeat, Player)):
            players[spec.name] = built
        else:
            players[spec.name] = Player(
                built, sampling=options.sampling, history_window=options.history_window
            )
    return players


def _check_unique_names(specs: Sequence[AgentSpec]) -> None:
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.name in seen and seen[spec.name] != spec.text:
            raise ValueError(
                f"two agents are named {spec.name!r} ({seen[spec.name]!r} and {spec.text!r}); "
                "name one of them with NAME=SPEC"
            )
        seen[spec.name] = spec.text


def _request_dict(request: EvalRequest) -> dict[str, Any]:
    return {
        "env_ids": list(request.env_ids),
        "agents": list(request.agents),
        "opponents": list(request.opponents),
        "episodes": request.episodes,
        "seed": request.seed,
        "env_kwargs": request.env_kwargs,
    }
