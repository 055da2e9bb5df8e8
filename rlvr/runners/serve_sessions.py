"""Sessions of the env server: one live env each, its lock, and the rules of what may be called when.

Kept apart from the HTTP layer (``serve.py``) so that the bookkeeping that decides whether a slot
leaks (limits, idle expiry, crash handling) can be read, and reasoned about, without FastAPI. Nothing
here imports FastAPI; env calls are plain functions that ``serve.py`` runs in its thread pool.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from gymnasium import spaces as gym_spaces

VIEWS = ("gym", "aec")


class ServeError(Exception):
    """An error the client sees as ``{"error": {"type", "message"}}`` with ``status``."""

    def __init__(self, status: int, type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types, so an env's odd info (numpy scalars, tuples, sets) never fails a
    response. Non-finite floats become ``None`` because strict JSON has no NaN; unknown objects their
    ``str``."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return [jsonable(item) for item in sorted(value, key=repr)]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return jsonable(item())  # a numpy scalar or 0-d array
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return jsonable(tolist())
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def describe_space(space: Any) -> dict[str, Any]:
    """A space as JSON; the client rebuilds text and discrete spaces from it and refuses the rest."""
    from rlvr.core.spaces import UnicodeText

    if isinstance(space, UnicodeText):
        return {"type": "UnicodeText", "max_length": int(space.max_length)}
    if isinstance(space, gym_spaces.Text):
        return {
            "type": "Text",
            "max_length": int(space.max_length),
            "min_length": int(space.min_length),
            "charset": "".join(space.character_set),
        }
    if isinstance(space, gym_spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    return {"type": type(space).__name__, "repr": repr(space)}


@dataclass
class Session:
    """One client's env. ``lock`` serialises its calls; ``busy`` keeps the reaper off it mid-call."""

    id: str
    env_id: str
    view: str
    env: Any
    first_seed: int | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    created: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    busy: int = 0
    steps: int = 0
    episodes: int = 0
    needs_reset: bool = True
    """Before the first reset and (gym view) after the episode ended: a step is refused."""
    closed: bool = False
    inline: bool = False
    """Step on the event loop rather than in the pool (envs tagged ``game``: microsecond steps)."""

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def take_seed(self, seed: int | None) -> int | None:
        """The seed given at creation seeds the first reset that names none, then is spent."""
        if seed is None and self.first_seed is not None:
            seed = self.first_seed
        self.first_seed = None
        return seed

    def describe(self) -> dict[str, Any]:
        """Spaces and metadata: what a client needs to build a local stand-in for the env."""
        env = self.env
        base: dict[str, Any] = {"session_id": self.id, "env_id": self.env_id, "view": self.view}
        metadata = jsonable(getattr(env, "metadata", {}) or {})
        if self.view == "gym":
            return {
                **base,
                "observation_space": describe_space(env.observation_space),
                "action_space": describe_space(env.action_space),
                "metadata": metadata,
                "possible_agents": None,
            }
        agents = list(env.possible_agents)
        return {
            **base,
            "observation_space": {a: describe_space(env.observation_space(a)) for a in agents},
            "action_space": {a: describe_space(env.action_space(a)) for a in agents},
            "metadata": metadata,
            "possible_agents": agents,
        }

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        state: dict[str, Any] = {
            "session_id": self.id,
            "env_id": self.env_id,
            "view": self.view,
            "age_s": now - self.created,
            "idle_s": now - self.last_used,
            "steps": self.steps,
            "episodes": self.episodes,
            "needs_reset": self.needs_reset,
        }
        if self.view == "aec" and not self.needs_reset:
            state["aec"] = aec_state(self.env)
        return state


# The env calls themselves; serve.py runs them in its thread pool, under the session's lock.


def gym_reset(session: Session, seed: int | None, options: dict[str, Any] | None) -> dict[str, Any]:
    observation, info = session.env.reset(seed=session.take_seed(seed), options=options)
    session.needs_reset = False
    session.episodes += 1
    return {"observation": jsonable(observation), "info": jsonable(info)}


def gym_step(session: Session, action: Any) -> dict[str, Any]:
    if session.needs_reset:
        if session.episodes == 0:
            raise ServeError(409, "wrong_order", "call reset before step")
        raise ServeError(400, "episode_over", "the episode has ended; call reset before step")
    observation, reward, terminated, truncated, info = session.env.step(action)
    session.steps += 1
    session.needs_reset = bool(terminated or truncated)
    return {
        "observation": jsonable(observation),
        "reward": jsonable(float(reward)),
        "terminated": bool(terminated),
        "truncated": bool(truncated),
        "info": jsonable(info),
    }


def aec_state(env: Any) -> dict[str, Any]:
    """Everything PettingZoo's ``last()``, ``observe()`` and the agent dicts read, for every live agent."""
    agents = list(env.agents)
    selection = getattr(env, "agent_selection", None)
    cumulative = getattr(env, "_cumulative_rewards", {})
    return {
        "agents": agents,
        "agent_selection": selection,
        "observations": {a: jsonable(env.observe(a)) for a in agents},
        "rewards": {a: jsonable(float(env.rewards[a])) for a in agents},
        "cumulative_rewards": {a: jsonable(float(cumulative.get(a, 0.0))) for a in agents},
        "terminations": {a: bool(env.terminations[a]) for a in agents},
        "truncations": {a: bool(env.truncations[a]) for a in agents},
        "infos": {a: jsonable(env.infos[a]) for a in agents},
    }


def aec_reset(session: Session, seed: int | None, options: dict[str, Any] | None) -> dict[str, Any]:
    session.env.reset(seed=session.take_seed(seed), options=options)
    session.needs_reset = False
    session.episodes += 1
    return aec_state(session.env)


def aec_step(session: Session, action: Any) -> dict[str, Any]:
    env = session.env
    if session.needs_reset:
        raise ServeError(409, "wrong_order", "call reset before step")
    if not env.agents:
        raise ServeError(400, "episode_over", "every agent is done; call reset before step")
    env.step(action)
    session.steps += 1
    return aec_state(env)


class SessionTable:
    """The live sessions and the limit on them. Slots are reserved before an env is built, so a burst
    of creates cannot overshoot ``max_sessions`` while constructors run in the pool."""

    def __init__(self, max_sessions: int, idle_timeout_s: float) -> None:
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.sessions: dict[str, Session] = {}
        self.reserved = 0
        self.reaped = 0

    def reserve(self) -> None:
        if len(self.sessions) + self.reserved >= self.max_sessions:
            raise ServeError(
                429, "too_many_sessions", f"the server holds its limit of {self.max_sessions} sessions"
            )
        self.reserved += 1

    def add(self, env_id: str, view: str, env: Any, first_seed: int | None) -> Session:
        self.reserved -= 1
        session = Session(uuid.uuid4().hex, env_id, view, env, first_seed=first_seed)
        self.sessions[session.id] = session
        return session

    def release(self) -> None:
        self.reserved -= 1

    def get(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise ServeError(404, "unknown_session", f"no session {session_id!r} (closed or expired)")
        return session

    def pop(self, session_id: str) -> Session | None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            session.closed = True
        return session

    def expired(self) -> list[Session]:
        """Idle sessions that no call is using; popped here, so no new call can find them."""
        cutoff = time.monotonic() - self.idle_timeout_s
        stale = [s for s in self.sessions.values() if s.busy == 0 and s.last_used < cutoff]
        for session in stale:
            self.pop(session.id)
        self.reaped += len(stale)
        return stale
