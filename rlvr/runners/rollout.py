"""The batched multi-turn runner: many episodes at once, one policy call per policy per tick.

Each tick gathers every seat that waits for a reply across all live episodes, groups them by player,
makes one batched call per player (all players' calls concurrently), then steps every episode with
its reply, and repeats. A batch is what makes an LLM backend fast (vLLM's continuous batching, a
padded transformers batch, concurrent HTTP requests), so the runner's job is to keep batches full:
``max_episodes`` episodes stay live, and a finished one is replaced at the next tick.

Env work that can block (a sandboxed program, an HTTP tool) runs in a worker pool, so it never stalls
the event loop; envs tagged ``game`` step inline because their steps take microseconds and a thread
hop would cost more than the step.

Failures stay local. An env that raises, a completion that comes back with an error, or a batch call
that fails marks the affected episodes failed, with the reason in ``Trajectory.error``, and the rest
go on. Only ``PolicyUnavailable`` (a missing model, a rejected API key) stops the run, since no
episode could succeed after it.

Self-play needs nothing special: map every seat to the same player and each seat's turns land in the
trajectory under its own role.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rlvr.agents.base import Completion, Policy, PolicyError, PolicyUnavailable, SamplingParams
from rlvr.agents.extraction import ActionExtractor, extractor_for
from rlvr.agents.scripted import BotSeat
from rlvr.core.executors import call_in_thread
from rlvr.core.records import Message, Trajectory
from rlvr.core.registry import get_entry
from rlvr.runners.episodes import EpisodeRun, EpisodeSpec, completion_tokens


@dataclass
class Player:
    """A policy plus how to prompt it and read its replies.

    Arguments:
        policy: the model or scripted policy.
        sampling: parameters for every call (``n`` must be 1: each episode gets one reply per turn;
            draw several samples by repeating episodes, see ``grouped``).
        extractor: completion text -> env action; ``None`` picks the env's default (``extractor_for``).
        history_window, few_shot, pin_first_observation: passed to ``Conversation``.
        env_instructions: send the env's rules (``info["instructions"]``) as the system message.
            Off, the seat sees observations only: for a model already taught the format (a
            warm-started policy), it saves the rules' tokens on every prompt.
        system_prompt: a system message of your own, used instead of the env's rules.
    """

    policy: Policy
    sampling: SamplingParams = field(default_factory=SamplingParams)
    extractor: ActionExtractor | None = None
    history_window: int | None = None
    few_shot: Sequence[Message] = ()
    pin_first_observation: bool = False
    env_instructions: bool = True
    system_prompt: str | None = None

    def __post_init__(self) -> None:
        if self.sampling.n != 1:
            raise ValueError("Player.sampling.n must be 1; repeat episodes (grouped()) for several samples")

    def conversation_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "history_window": self.history_window,
            "few_shot": self.few_shot,
            "pin_first_observation": self.pin_first_observation,
        }
        if self.system_prompt is not None or not self.env_instructions:
            options["system_prompt"] = self.system_prompt
        return options


PlayerLike = Player | Policy | BotSeat


def as_player(player: PlayerLike) -> Player | BotSeat:
    return Player(player) if isinstance(player, Policy) else player


def grouped(specs: Iterable[EpisodeSpec], n: int) -> list[EpisodeSpec]:
    """Each spec repeated ``n`` times with a shared ``group_id``: n samples of one task and seed."""
    out = []
    for spec in specs:
        group_id = f"{spec.env_id}#seed={spec.seed}"
        for index in range(n):
            out.append(dataclasses.replace(spec, group_id=group_id, sample_index=index))
    return out


def against_pool(
    env_id: str,
    seeds: Iterable[int],
    learner: str,
    pool: Sequence[str],
    roles: Sequence[str] = ("player_0", "player_1"),
    *,
    draw_seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
) -> list[EpisodeSpec]:
    """Two-seat specs where ``learner`` meets an opponent drawn from ``pool`` each episode.

    The opponent is drawn uniformly with a generator seeded by ``draw_seed`` (same arguments, same
    match-ups), and the learner's seat alternates with the seed so it learns both roles. ``pool``
    holds player names: frozen checkpoints, bots, or the learner itself for plain self-play.
    """
    import numpy as np

    if not pool:
        raise ValueError("the opponent pool is empty")
    first, second = roles
    rng = np.random.default_rng(draw_seed)
    specs = []
    for seed in seeds:
        opponent = pool[int(rng.integers(len(pool)))]
        seats = {first: learner, second: opponent} if seed % 2 == 0 else {first: opponent, second: learner}
        specs.append(EpisodeSpec(env_id, seed, seats, dict(env_kwargs or {})))
    return specs


@dataclass
class RolloutStats:
    """Where a rollout's time went, for progress bars and the overhead benchmark."""

    episodes: int = 0
    failed: int = 0
    turns: int = 0
    policy_calls: int = 0
    completion_tokens: int = 0
    policy_seconds: float = 0.0
    """Wall time inside policy calls (concurrent calls of one tick count once)."""
    env_seconds: float = 0.0
    """Wall time stepping envs, measured around each tick's stepping phase."""
    wall_seconds: float = 0.0

    @property
    def episodes_per_second(self) -> float:
        return self.episodes / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.wall_seconds if self.wall_seconds else 0.0


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class Runner:
    """Plays episode specs with the given players.

    Arguments:
        players: player name -> a ``Player``, a bare ``Policy``, or a ``BotSeat``. Specs name their
            seats' players by these names.
        max_episodes: how many episodes are live at once (the batch size ceiling).
        step_workers: threads for blocking env steps.
        inline_steps: ``True`` steps every env on the event loop, ``False`` always in the pool,
            ``None`` decides per env (inline for envs tagged ``game``).
        progress: show a progress bar (episodes/s, tokens/s) on the terminal.
        max_turns: per-episode safety net against envs that never end.
    """

    def __init__(
        self,
        players: Mapping[str, PlayerLike],
        *,
        max_episodes: int = 64,
        step_workers: int = 8,
        inline_steps: bool | None = None,
        progress: bool = False,
        max_turns: int = 10_000,
    ) -> None:
        if max_episodes < 1:
            raise ValueError(f"max_episodes must be >= 1, got {max_episodes}")
        self.players = {name: as_player(player) for name, player in players.items()}
        self.max_episodes = max_episodes
        self.step_workers = step_workers
        self.inline_steps = inline_steps
        self.progress = progress
        self.max_turns = max_turns
        self.stats = RolloutStats()
        self._idle_envs: dict[tuple[str, str, bool], list[Any]] = defaultdict(list)
        self._inline_by_env: dict[str, bool] = {}
        self._extractors: dict[str, ActionExtractor] = {}

    # -- public entry points -----------------------------------------------------------------------

    def run(self, specs: Iterable[EpisodeSpec]) -> list[Trajectory]:
        """Play every spec; trajectories come back in spec order. Blocks; uses its own event loop."""
        return asyncio.run(self.arun(specs))

    async def arun(self, specs: Iterable[EpisodeSpec]) -> list[Trajectory]:
        specs = list(specs)
        order = {id(spec): index for index, spec in enumerate(specs)}
        results: list[Trajectory | None] = [None] * len(specs)
        async for spec, trajectory in self.stream(specs):
            results[order[id(spec)]] = trajectory
        return [trajectory for trajectory in results if trajectory is not None]

    async def stream(self, specs: Iterable[EpisodeSpec]) -> AsyncIterator[tuple[EpisodeSpec, Trajectory]]:
        """Yield ``(spec, trajectory)`` as each episode ends, so a caller can store it at once."""
        queue = deque(specs)
        self.stats = RolloutStats()
        for spec in queue:
            self._check_spec(spec)
        total = len(queue)
        live: list[EpisodeRun] = []
        began = time.perf_counter()
        bar = _ProgressBar(total, self.stats) if self.progress else None
        pool = ThreadPoolExecutor(max_workers=self.step_workers, thread_name_prefix="rlvr-env")
        try:
            while queue or live:
                starting = []
                while queue and len(live) + len(starting) < self.max_episodes:
                    starting.append(self._new_run(queue.popleft()))
                await self._in_envs(pool, [(run, run.start, ()) for run in starting])
                live.extend(starting)
                await self._tick(pool, [run for run in live if not run.done])
                still_live = []
                for run in live:
                    if run.done:
                        self._finished(run)
                        yield run.spec, run.trajectory
                    else:
                        still_live.append(run)
                live = still_live
                self.stats.wall_seconds = time.perf_counter() - began
                if bar is not None:
                    bar.update()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for run in live:
                self._discard_env(run)
            if bar is not None:
                bar.close()
            self.stats.wall_seconds = time.perf_counter() - began

    def close(self) -> None:
        """Close the envs kept for reuse."""
        for envs in self._idle_envs.values():
            for env in envs:
                _close_quietly(env)
        self._idle_envs.clear()

    # -- one tick ----------------------------------------------------------------------------------

    async def _tick(self, pool: ThreadPoolExecutor, runs: list[EpisodeRun]) -> None:
        groups: dict[tuple[int, SamplingParams], list[EpisodeRun]] = defaultdict(list)
        players: dict[tuple[int, SamplingParams], Player] = {}
        for run in runs:
            if run.pending is None:  # started and ended without a policy turn (bots only)
                continue
            player = self.players[run.spec.seats[run.pending.role]]
            assert isinstance(player, Player)
            key = (id(player.policy), player.sampling)
            groups[key].append(run)
            players[key] = player
        if not groups:
            return
        began = time.perf_counter()
        replies: list[list[Completion] | BaseException]
        if len(groups) == 1:  # the common case; gather would cost a trip through the event loop
            ((key, group),) = groups.items()
            try:
                replies = [await self._call(players[key], group)]
            except Exception as error:
                replies = [error]
        else:
            replies = await asyncio.gather(
                *(self._call(players[key], group) for key, group in groups.items()), return_exceptions=True
            )
        self.stats.policy_seconds += time.perf_counter() - began
        steps = []
        for (key, group), completions in zip(groups.items(), replies, strict=True):
            if isinstance(completions, PolicyUnavailable):
                raise completions
            if isinstance(completions, BaseException):
                if not isinstance(completions, Exception):
                    raise completions
                for run in group:
                    run.fail(f"policy call failed: {_describe(completions)}")
                continue
            player = players[key]
            for run, completion in zip(group, completions, strict=True):
                if completion.error is not None:
                    run.fail(f"policy error: {completion.error}")
                    continue
                self.stats.turns += 1
                self.stats.completion_tokens += completion_tokens(completion)
                extractor = player.extractor or self._default_extractor(run.spec.env_id)
                try:
                    action = extractor(completion.text)
                except Exception as error:  # a user-supplied extractor
                    run.fail(f"action extractor failed: {_describe(error)}")
                    continue
                steps.append((run, run.act, (completion, action)))
        await self._in_envs(pool, steps)

    async def _call(self, player: Player, group: list[EpisodeRun]) -> list[Completion]:
        batch = [run.pending.messages for run in group if run.pending is not None]
        self.stats.policy_calls += 1
        completions = await player.policy.agenerate(batch, player.sampling)
        if len(completions) != len(batch):
            raise PolicyError(f"policy returned {len(completions)} completions for a batch of {len(batch)}")
        return completions

    async def _in_envs(
        self, pool: ThreadPoolExecutor, calls: list[tuple[EpisodeRun, Callable[..., None], tuple[Any, ...]]]
    ) -> None:
        """Run env calls, blocking ones in the pool, concurrently; an exception fails its episode."""
        if not calls:
            return
        began = time.perf_counter()
        loop = asyncio.get_running_loop()
        waiting = []
        for run, fn, args in calls:
            if self._steps_inline(run):
                try:
                    fn(*args)
                except Exception as error:
                    run.fail(f"env error: {_describe(error)}")
            else:
                waiting.append((run, loop.run_in_executor(pool, call_in_thread, fn, *args)))
        for run, future in waiting:
            try:
                await future
            except Exception as error:
                run.fail(f"env error: {_describe(error)}")
        self.stats.env_seconds += time.perf_counter() - began

    # -- episode bookkeeping -----------------------------------------------------------------------

    def _check_spec(self, spec: EpisodeSpec) -> None:
        entry = get_entry(spec.env_id)  # an unknown id is an error before anything starts
        for role, name in spec.seats.items():
            if name not in self.players:
                raise KeyError(
                    f"seat {role!r} of {spec.episode_id} names unknown player {name!r}; "
                    f"players: {sorted(self.players)}"
                )
            multi_seat = entry.aec_entry_point is not None and len(spec.seats) > 1
            if isinstance(self.players[name], BotSeat) and not multi_seat:
                raise ValueError(
                    f"{name!r} is an env bot; bots play only in multi-seat envs, "
                    f"and {spec.episode_id} is not one"
                )

    def _new_run(self, spec: EpisodeSpec) -> EpisodeRun:
        bots = {role: p for role, name in spec.seats.items() if isinstance(p := self.players[name], BotSeat)}
        options = {
            role: p.conversation_options()
            for role, name in spec.seats.items()
            if isinstance(p := self.players[name], Player)
        }
        run = EpisodeRun(spec, bots=bots, conversation_options=options, max_turns=self.max_turns)
        idle = self._idle_envs.get(run.env_key)
        if idle:
            run.env = idle.pop()
        run.trajectory.metadata["players"] = {
            role: str(self.players[name]) if isinstance(self.players[name], BotSeat) else name
            for role, name in spec.seats.items()
        }
        return run

    def _steps_inline(self, run: EpisodeRun) -> bool:
        if self.inline_steps is not None:
            return self.inline_steps
        inline = self._inline_by_env.get(run.spec.env_id)
        if inline is None:
            inline = self._inline_by_env[run.spec.env_id] = "game" in get_entry(run.spec.env_id).tags
        return inline

    def _default_extractor(self, env_id: str) -> ActionExtractor:
        extractor = self._extractors.get(env_id)
        if extractor is None:
            extractor = self._extractors[env_id] = extractor_for(env_id)
        return extractor

    def _finished(self, run: EpisodeRun) -> None:
        run.trajectory.metadata["duration_s"] = time.perf_counter() - run.started
        self.stats.episodes += 1
        if run.trajectory.error is not None:
            self.stats.failed += 1
            self._discard_env(run)  # its state is unknown after a crash
        elif run.env is not None:
            self._idle_envs[run.env_key].append(run.env)
            run.env = None

    def _discard_env(self, run: EpisodeRun) -> None:
        if run.env is not None:
            _close_quietly(run.env)
            run.env = None


def _close_quietly(env: Any) -> None:
    with contextlib.suppress(Exception):  # closing a broken env must not hide what broke it
        env.close()


class _ProgressBar:
    """A rich progress bar showing episodes done, failures, episodes/s and tokens/s."""

    def __init__(self, total: int, stats: RolloutStats) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.stats = stats
        self.progress = Progress(
            TextColumn("[bold]rollout"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rates]}"),
            TimeElapsedColumn(),
            transient=False,
        )
        self.task = self.progress.add_task("rollout", total=total, rates="")
        self.progress.start()

    def update(self) -> None:
        stats = self.stats
        rates = f"{stats.episodes_per_second:.2f} ep/s  {stats.tokens_per_second:.0f} tok/s"
        if stats.failed:
            rates += f"  [red]{stats.failed} failed"
        self.progress.update(self.task, completed=stats.episodes, rates=rates)

    def close(self) -> None:
        self.progress.stop()


def rollout(
    specs: Iterable[EpisodeSpec], players: Mapping[str, PlayerLike], **runner_options: Any
) -> list[Trajectory]:
    """Play ``specs`` with ``players`` and return the trajectories in spec order (see ``Runner``)."""
    runner = Runner(players, **runner_options)
    try:
        return runner.run(specs)
    finally:
        runner.close()
