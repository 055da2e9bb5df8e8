"""Envs that live on an ``rlvr serve`` server, used as if they were local.

``make(url, env_id)`` opens a session and returns a ``gymnasium.Env`` (``view="gym"``) or a PettingZoo
``AECEnv`` (``view="aec"``) whose every call is one HTTP request; spaces are rebuilt from the
server's description, so code written against a local env runs unchanged (``check_env`` and
``api_test`` pass through the wire). ``close()`` deletes the session; both are context managers.

A sync ``httpx.Client`` on purpose: gymnasium and PettingZoo calls are synchronous, and a worker that
wants concurrency runs one env per thread or talks to the server's JSON API with its own async client.
Server errors come back as ``RemoteEnvError`` with the server's ``type`` and ``message``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import httpx
from gymnasium import spaces as gym_spaces
from pettingzoo import AECEnv

from rlvr.core.spaces import TextObservation, UnicodeText

DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)


class RemoteEnvError(RuntimeError):
    """A failed call to the env server: ``type`` is the server's error type (``unknown_session``,
    ``episode_over``, ``env_error``, ...) or ``connection_error``; ``status`` the HTTP status."""

    def __init__(self, type: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{type}: {message}" + (f" (HTTP {status})" if status else ""))
        self.type = type
        self.message = message
        self.status = status


def _space(description: dict[str, Any]) -> gymnasium.Space[Any]:
    kind = description.get("type")
    if kind == "UnicodeText":
        return UnicodeText(max_length=int(description["max_length"]))
    if kind == "Text":
        return gym_spaces.Text(
            max_length=description["max_length"],
            min_length=description["min_length"],
            charset=description["charset"],
        )
    if kind == "Discrete":
        return gym_spaces.Discrete(description["n"], start=description["start"])
    raise RemoteEnvError("unsupported_space", f"cannot rebuild the space {description} on the client")


class _Session:
    """One server session over HTTP: create, call, delete, and the error mapping."""

    def __init__(
        self,
        url: str,
        env_id: str,
        view: str,
        seed: int | None,
        kwargs: dict[str, Any],
        client: httpx.Client | None,
        timeout: httpx.Timeout | float,
    ) -> None:
        self._owns_client = client is None
        self.client = client or httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self.session_id: str | None = None
        try:
            self.description = self.request(
                "POST", "/sessions", {"env_id": env_id, "kwargs": kwargs, "view": view, "seed": seed}
            )
        except BaseException:
            self.close()
            raise
        self.session_id = self.description["session_id"]

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self.client.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise RemoteEnvError("connection_error", f"{method} {path}: {error!r}") from error
        if response.is_success:
            return response.json()
        try:
            error = response.json()["error"]
            kind, message = str(error["type"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            kind, message = "http_error", response.text[:500]
        raise RemoteEnvError(kind, message, response.status_code)

    def call(self, verb: str, body: dict[str, Any]) -> Any:
        if self.session_id is None:
            raise RemoteEnvError("closed", "the remote env is closed")
        return self.request("POST", f"/sessions/{self.session_id}/{verb}", body)

    def close(self) -> None:
        """Delete the session (best effort: the server reaps it anyway once it idles out)."""
        session_id, self.session_id = self.session_id, None
        try:
            if session_id is not None:
                self.request("DELETE", f"/sessions/{session_id}")
        except RemoteEnvError:
            pass
        finally:
            if self._owns_client:
                self.client.close()


class RemoteGymEnv(gymnasium.Env[Any, Any]):
    """A gymnasium env whose state lives in a server session."""

    def __init__(self, session: _Session) -> None:
        self._session = session
        description = session.description
        self.session_id: str = description["session_id"]
        self.env_id: str = description["env_id"]
        self.observation_space = _space(description["observation_space"])
        self.action_space = _space(description["action_space"])
        # Rendering stays on the server; a remote env has no render modes of its own.
        self.metadata = {**description.get("metadata", {}), "render_modes": []}
        self.render_mode = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)  # a local np_random too, as gymnasium's checks expect
        result = self._session.call("reset", {"seed": seed, "options": options})
        return result["observation"], result["info"]

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        result = self._session.call("step", {"action": action})
        return (
            result["observation"],
            result["reward"],
            result["terminated"],
            result["truncated"],
            result["info"],
        )

    def state(self) -> dict[str, Any]:
        """The server's view of this session (steps, episodes, idle time)."""
        return self._session.request("GET", f"/sessions/{self.session_id}")

    def close(self) -> None:
        self._session.close()
        super().close()


class RemoteAECEnv(AECEnv):
    """A PettingZoo AEC env whose state lives in a server session; every response carries the state
    of all live agents, so ``last()``, ``observe()`` and the agent dicts are local reads."""

    def __init__(self, session: _Session) -> None:
        super().__init__()
        self._session = session
        description = session.description
        self.session_id: str = description["session_id"]
        self.env_id: str = description["env_id"]
        self.metadata = {**description.get("metadata", {}), "render_modes": []}
        self.render_mode = None
        self.possible_agents = list(description["possible_agents"])
        self.agents = list(self.possible_agents)
        self._observation_spaces = {a: _space(s) for a, s in description["observation_space"].items()}
        self._action_spaces = {a: _space(s) for a, s in description["action_space"].items()}
        self._observations: dict[str, Any] = {}
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict[str, Any]] = {agent: {} for agent in self.agents}
        self.agent_selection = self.agents[0] if self.agents else ""

    def observation_space(self, agent: str) -> gymnasium.Space[Any]:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.Space[Any]:
        return self._action_spaces[agent]

    def _apply(self, state: dict[str, Any]) -> None:
        self.agents = list(state["agents"])
        self.agent_selection = state["agent_selection"]
        self._observations = state["observations"]
        self.rewards = state["rewards"]
        self._cumulative_rewards = state["cumulative_rewards"]
        self.terminations = state["terminations"]
        self.truncations = state["truncations"]
        self.infos = state["infos"]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        self._apply(self._session.call("reset", {"seed": seed, "options": options}))

    def step(self, action: Any) -> None:
        self._apply(self._session.call("step", {"action": action}))

    def observe(self, agent: str) -> Any:
        observation = self._observations.get(agent)
        if isinstance(observation, str) and isinstance(self._observation_spaces.get(agent), gym_spaces.Text):
            return TextObservation(observation)  # answers .dtype, like our local AEC envs
        return observation

    def state(self) -> dict[str, Any]:
        """The server's view of this session (steps, episodes, idle time, the AEC state)."""
        return self._session.request("GET", f"/sessions/{self.session_id}")

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> RemoteAECEnv:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def make(
    url: str,
    env_id: str,
    *,
    view: str = "gym",
    seed: int | None = None,
    client: httpx.Client | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    **kwargs: Any,
) -> Any:
    """A remote ``env_id`` on the server at ``url``: a ``gymnasium.Env`` or, with ``view="aec"``, a
    PettingZoo ``AECEnv``. ``kwargs`` go to the env's constructor on the server; ``seed`` seeds the
    first ``reset()`` that names none. A shared ``client`` is not closed by ``close()``."""
    if view not in ("gym", "aec"):
        raise ValueError(f"view must be 'gym' or 'aec', got {view!r}")
    session = _Session(url, env_id, view, seed, kwargs, client, timeout)
    return RemoteGymEnv(session) if view == "gym" else RemoteAECEnv(session)


__all__ = ["RemoteAECEnv", "RemoteEnvError", "RemoteGymEnv", "make"]
