"""Rollouts on Ray: the runner's episodes spread over worker actors, on one machine or a cluster.

Why actors that build their own players: a model object (a transformers model, a vLLM engine, an
HTTP client with its pool) does not pickle well and should not travel; an agent spec does. Each
``RolloutWorker`` parses nothing and loads nothing it is not told to: it gets ``AgentSpec``s and the
sampling options, builds its players once, and plays its shard of episodes with the normal ``Runner``
(same batching, same failure handling: an env that raises fails its episode inside the actor and the
shard goes on). Envs and sandboxes therefore live in the actors too.

Why trajectories come back as dicts: ``Trajectory.to_dict``/``from_dict`` is the lossless JSON form we
already store, so what crosses the process boundary is exactly what the results database keeps, and
nothing depends on pickling our classes across versions of the code.

Why the driver writes: SQLite wants one writer, and the resumability of ``rlvr eval`` rests on "an
episode is stored when and only when it finished". Workers stream each trajectory back as it ends
(a Ray streaming generator), so a killed run loses only the episodes still in flight, as without Ray.

Determinism: env bots draw from a per-episode generator (seeded by the episode's seed) and a seeded
``random-legal`` draws from ``(seed, conversation)``, so their episodes are the same whatever the
sharding. A sampled model is as deterministic as its backend is per request: with several workers its
batches differ, so only greedy decoding (temperature 0) replays exactly.

``RolloutPool`` keeps the actors across batches (and pushes a learner's weights to them), which is
what a trainer needs; ``stream_on_ray`` is a pool for one batch, which is what ``rlvr eval --ray`` uses.
Ray is imported lazily; without it, ``require_ray`` names the extra to install.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rlvr.agents.base import SamplingParams
from rlvr.agents.specs import AgentSpec
from rlvr.core.records import Trajectory
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.rollout import Player

INSTALL_HINT = "pip install 'rlvr-gym[ray]'"


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide to run rollouts on Ray.

    Arguments:
        address: an existing cluster (``"auto"``, ``"ray://head:10001"``, ``"10.0.0.1:6379"``); ``None``
            starts a local cluster, unless this process is already connected to one.
        num_workers: rollout actors; the episodes are dealt round-robin among them.
        cpus_per_worker: Ray CPUs each actor reserves (set ``num_gpus_per_worker`` for model workers).
        num_gpus_per_worker: Ray GPUs each actor reserves.
        num_cpus: CPUs of a local cluster (default: enough for every worker).
        worker_setup: called once in each actor before anything else, e.g. to register envs of your
            own (``register_env``): the registry is per process, and a cluster's workers start empty.
            It must be importable or picklable by cloudpickle.
        start_timeout_s: how long the actors may take to be scheduled and built (a model load
            included). Ray waits forever for resources a cluster does not have (three 1-CPU actors
            on two CPUs); past this deadline the pool raises, naming what it asked for.
    """

    address: str | None = None
    num_workers: int = 2
    cpus_per_worker: float = 1.0
    num_gpus_per_worker: float = 0.0
    num_cpus: int | None = None
    worker_setup: Callable[[], None] | None = None
    start_timeout_s: float = 600.0

    def __post_init__(self) -> None:
        if self.num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {self.num_workers}")


@dataclass(frozen=True)
class WorkerConfig:
    """What every actor needs to build its players: specs and how to prompt them, never the models."""

    agents: tuple[AgentSpec, ...]
    sampling: SamplingParams
    history_window: int | None = None
    backend_options: tuple[tuple[str, Any], ...] = ()
    max_episodes: int = 32
    player_options: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    """Per agent name, ``Player`` fields besides sampling (``env_instructions``, ``system_prompt``...),
    so a trainer's learner is prompted on the workers exactly as it would be locally."""


def require_ray() -> Any:
    """The ``ray`` module, or an ``ImportError`` that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise ImportError(f"Ray rollouts (--ray) need the ray package: {INSTALL_HINT}") from error
    return ray


class RolloutWorker:
    """One actor's players and runner; ``ray.remote`` wraps it at run time (ray stays optional).

    It is a plain class so it can be tested in process; the driver only calls ``play``.
    """

    def __init__(self, config: WorkerConfig, setup: Callable[[], None] | None = None) -> None:
        self.players: dict[str, Any] = {}
        self.max_episodes = config.max_episodes
        self.failure: Exception | None = None
        """Why the players could not be built (a missing model): kept, not raised, because an actor
        whose constructor raises dies with only the error's text; ``check`` re-raises the exception
        itself, so the driver sees ``PolicyUnavailable`` as a local run would."""
        try:
            self._build(config, setup)
        except Exception as error:
            self.failure = error

    def _build(self, config: WorkerConfig, setup: Callable[[], None] | None) -> None:
        if setup is not None:
            setup()
        from rlvr.runners.evaluate import EvalOptions, _build_players

        options = EvalOptions(
            sampling=config.sampling,
            history_window=config.history_window,
            max_episodes=config.max_episodes,
            backend_options=dict(config.backend_options),
            progress=False,
        )
        self.players = _build_players(config.agents, options, {})
        for name, fields in config.player_options.items():
            self.players[name] = _with_fields(self.players, name, "player_options", **fields)

    def check(self) -> None:
        """Raise what building the players raised, if anything (the pool calls it once per actor)."""
        if self.failure is not None:
            raise self.failure

    def load_weights(self, agent: str, weights: Any) -> int:
        """Load a learner's ``state_dict`` into the policy playing as ``agent`` (its ``load_weights``)."""
        player = self.players[agent]
        policy = getattr(player, "policy", None)
        if policy is None or not hasattr(policy, "load_weights"):
            raise TypeError(f"agent {agent!r} has no weights to load ({type(policy or player).__name__})")
        return int(policy.load_weights(weights))

    def play(
        self,
        indexed: Sequence[tuple[int, EpisodeSpec]],
        sampling: Mapping[str, SamplingParams] | None = None,
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Play a shard; yield ``(index, trajectory dict)`` as each episode ends.

        ``sampling`` overrides the named players' sampling for this shard only (a trainer changes the
        sampling seed every iteration). A generator, so Ray streams each item to the driver as it is
        yielded. The runner's async stream is driven step by step on a private event loop.
        """
        from rlvr.runners.rollout import Runner

        self.check()
        players = dict(self.players)
        for name, params in (sampling or {}).items():
            players[name] = _with_fields(players, name, "sampling", sampling=params)
        index_of = {id(spec): index for index, spec in indexed}
        runner = Runner(players, max_episodes=self.max_episodes)
        loop = asyncio.new_event_loop()
        stream = runner.stream([spec for _, spec in indexed])
        try:
            while True:
                try:
                    spec, trajectory = loop.run_until_complete(stream.__anext__())
                except StopAsyncIteration:
                    break
                yield index_of[id(spec)], trajectory.to_dict()
        finally:
            loop.run_until_complete(stream.aclose())
            loop.close()
            runner.close()


@contextlib.contextmanager
def ray_session(options: RayOptions) -> Iterator[Any]:
    """Connect to (or start) Ray as ``options`` say; shut down only a cluster started here.

    A process already connected (a test fixture, a notebook) keeps its connection as it is.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    if options.address is not None:
        ray.init(address=options.address, ignore_reinit_error=True)
    else:
        wanted = options.num_cpus or max(1, int(options.num_workers * max(options.cpus_per_worker, 1)))
        ray.init(num_cpus=wanted, include_dashboard=False, ignore_reinit_error=True)
    try:
        yield ray
    finally:
        ray.shutdown()


_DONE = object()


class RolloutPool:
    """Rollout actors that outlive one batch of episodes: the building block for training on Ray.

    ``stream`` may be called many times (one rollout batch per training iteration) without
    rebuilding players or reloading models; ``load_weights`` pushes a learner's new weights to every
    actor (put once in the object store, read by all). An actor lost during a batch fails its
    unfinished episodes (see ``stream``) and is replaced, with the latest weights, before the next.
    Use it as a context manager: closing kills the actors, and the local cluster if it started one.
    """

    def __init__(self, config: WorkerConfig, options: RayOptions) -> None:
        self.config = config
        self.options = options
        self._session = contextlib.ExitStack()
        self.ray = self._session.enter_context(ray_session(options))
        self.actors: list[Any] = []
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        options = self.options
        resources: dict[str, float] = {"num_cpus": options.cpus_per_worker}
        if options.num_gpus_per_worker:
            resources["num_gpus"] = options.num_gpus_per_worker
        self._remote = self.ray.remote(**resources)(RolloutWorker)
        self._weights: dict[str, Any] = {}
        """The latest weights pushed per agent name (object refs), for replacement actors."""
        self.actors = [self._new_actor() for _ in range(options.num_workers)]
        self._stale: set[int] = set()
        """Slots whose actor was lost or stopped mid-shard, replaced at the next ``stream``."""
        self._await_ready(self.actors)

    def _await_ready(self, actors: Sequence[Any]) -> None:
        """Block until ``actors`` are built; raise (not hang) when the cluster cannot place them."""
        waiting = [actor.check.remote() for actor in actors]
        ready, pending = self.ray.wait(
            waiting, num_returns=len(waiting), timeout=self.options.start_timeout_s
        )
        for ref in ready:
            try:
                self.ray.get(ref)
            except self.ray.exceptions.RayTaskError as error:
                cause = getattr(error, "cause", None)
                raise (cause if isinstance(cause, Exception) else error) from None
        if pending:
            options = self.options
            asked = f"{len(actors)} actor(s) of {options.cpus_per_worker} CPU"
            if options.num_gpus_per_worker:
                asked += f" and {options.num_gpus_per_worker} GPU"
            raise RuntimeError(
                f"{len(pending)} of {asked} not ready after {options.start_timeout_s:.0f} s: the cluster "
                f"has {_compute(self.ray.cluster_resources())}, {_compute(self.ray.available_resources())} "
                "free; "
                "lower num_workers or the per-worker resources, or raise start_timeout_s for slow model loads"
            )

    def __enter__(self) -> RolloutPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        for actor in self.actors:
            with contextlib.suppress(Exception):
                self.ray.kill(actor)
        self.actors = []
        self._session.close()

    def load_weights(self, agent: str, weights: Any) -> None:
        """Load ``weights`` (a ``state_dict``) into every actor's policy for ``agent``; blocks until
        all have them, so the next ``stream`` samples from the new weights everywhere."""
        self._replace_stale()
        ref = self.ray.put(weights)
        self._weights[agent] = ref
        self.ray.get([actor.load_weights.remote(agent, ref) for actor in self.actors])

    def stream(
        self, specs: Sequence[EpisodeSpec], sampling: Mapping[str, SamplingParams] | None = None
    ) -> Iterator[tuple[int, Trajectory]]:
        """Play ``specs``, dealt round-robin to the actors; yield ``(index into specs, trajectory)`` as
        each episode ends, in the calling thread (so the caller can be the only writer of its store).
        ``sampling`` overrides named players' sampling for this batch (see ``RolloutWorker.play``).

        An actor that dies (a segfault in a native library, an out-of-memory kill) takes its
        unfinished episodes with it: they come back as failed trajectories naming the cause, and the
        other actors' episodes are unaffected. Errors the runner raises (an unknown env or player,
        ``PolicyUnavailable``) are raised here, unwrapped from Ray's ``RayTaskError``.
        """
        if not specs:
            return
        self._replace_stale()
        workers = min(len(self.actors), len(specs))
        shards = [[(i, specs[i]) for i in range(w, len(specs), workers)] for w in range(workers)]
        lost = [False] * workers
        results: queue.Queue[Any] = queue.Queue()
        threads = [
            threading.Thread(
                target=_drain,
                args=(self.ray, self.actors[n], shard, sampling, results, lost, n),
                name=f"rlvr-ray-{n}",
                daemon=True,
            )
            for n, shard in enumerate(shards)
        ]
        for thread in threads:
            thread.start()
        finished = False
        try:
            pending = len(threads)
            while pending:
                item = results.get()
                if item is _DONE:
                    pending -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    index, data = item
                    yield index, Trajectory.from_dict(data)
            finished = True
        finally:
            for n in range(workers):
                # After an error or an abandoned stream, an actor may still be mid-shard: stop it.
                if lost[n] or not finished:
                    with contextlib.suppress(Exception):
                        self.ray.kill(self.actors[n])
                    self._stale.add(n)
            for thread in threads:
                thread.join(timeout=5)

    def _replace_stale(self) -> None:
        """Replaced lazily, when next needed: a pool closed right after an error needs none."""
        fresh = []
        for n in sorted(self._stale):
            self.actors[n] = self._new_actor()
            fresh.append(self.actors[n])
        self._stale.clear()
        if fresh:
            self._await_ready(fresh)

    def _new_actor(self) -> Any:
        actor = self._remote.remote(self.config, self.options.worker_setup)
        for agent, ref in self._weights.items():
            actor.load_weights.remote(agent, ref)  # actor calls run in order: before any play
        return actor


def stream_on_ray(
    specs: Sequence[EpisodeSpec], config: WorkerConfig, options: RayOptions
) -> Iterator[tuple[int, Trajectory]]:
    """``RolloutPool.stream`` with a pool for just these episodes (``rlvr eval --ray``)."""
    if not specs:
        return
    workers = min(options.num_workers, len(specs))
    with RolloutPool(config, dataclasses.replace(options, num_workers=workers)) as pool:
        yield from pool.stream(specs)


def _drain(
    ray: Any,
    actor: Any,
    shard: list[tuple[int, EpisodeSpec]],
    sampling: Mapping[str, SamplingParams] | None,
    results: queue.Queue[Any],
    lost: list[bool],
    slot: int,
) -> None:
    """Forward one actor's stream into ``results``; turn a lost actor into failed episodes."""
    seen: set[int] = set()
    try:
        for ref in actor.play.remote(shard, sampling):
            index, data = ray.get(ref)
            seen.add(index)
            results.put((index, data))
    except Exception as error:
        if isinstance(error, ray.exceptions.RayActorError):
            lost[slot] = True
            first_line = (str(error).strip().splitlines() or [""])[0]
            reason = f"ray worker lost: {type(error).__name__}: {first_line}"
            for index, spec in shard:
                if index not in seen:
                    results.put((index, _failed(spec, reason).to_dict()))
        else:
            # An error the runner itself raises (an unknown env or player, PolicyUnavailable) is
            # raised by the local path too: re-raise the original, not Ray's wrapper.
            cause = getattr(error, "cause", None)
            results.put(cause if isinstance(cause, Exception) else error)
    finally:
        results.put(_DONE)


def _with_fields(players: Mapping[str, Any], name: str, what: str, **fields: Any) -> Player:
    """``players[name]`` with ``fields`` replaced; only a ``Player`` (a policy, not a bot) has them."""
    player = players.get(name)
    if not isinstance(player, Player):
        raise ValueError(f"{what} names {name!r}, which is not a model or scripted policy")
    return dataclasses.replace(player, **fields)


def _compute(resources: Mapping[str, float]) -> str:
    return ", ".join(f"{resources.get(kind, 0):g} {kind}" for kind in ("CPU", "GPU"))


def _failed(spec: EpisodeSpec, reason: str) -> Trajectory:
    return Trajectory(
        env_id=spec.env_id,
        episode_id=spec.episode_id,
        seed=spec.seed,
        group_id=spec.group_id,
        metadata={"seats": dict(spec.seats), "env_kwargs": dict(spec.env_kwargs)},
        error=reason,
    )
