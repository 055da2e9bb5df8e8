"""One episode being played, seen from the runner: who must act now, and what happens when they do.

The runner drives gymnasium envs (one seat) and PettingZoo AEC envs (several seats) the same way,
through ``EpisodeRun``: ``start`` resets and plays forward to the first seat that needs a policy,
``act`` applies that seat's reply and plays forward again (scripted bots in other seats move inside
it, without a policy call), and ``pending`` says which seat waits. Both calls may block (a sandboxed
step, an HTTP tool), so the runner may run them in a worker thread; nothing here touches asyncio.

Rewards are attributed the PettingZoo way: what a seat receives between two of its actions belongs to
its earlier action, and the sum over its turns is its return.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlvr.agents.base import Completion
from rlvr.agents.conversation import Conversation
from rlvr.agents.scripted import BotSeat
from rlvr.core.records import Message, Trajectory, Turn
from rlvr.core.registry import get_entry, make, make_aec


@dataclass(frozen=True)
class EpisodeSpec:
    """What to play: an env, a seed, and who sits in each seat.

    ``seats`` maps each role to a player name (a key of the runner's ``players``). A single-agent env
    has exactly one seat; its role name is free (``"agent"`` by convention). Episodes with the same
    ``group_id`` are samples of one task (same env, options and seed) for group baselines.
    """

    env_id: str
    seed: int
    seats: Mapping[str, str]
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    group_id: str | None = None
    sample_index: int = 0
    reset_options: Mapping[str, Any] | None = None

    @property
    def episode_id(self) -> str:
        suffix = f"/{self.sample_index}" if self.group_id is not None else ""
        seats = ",".join(f"{role}={name}" for role, name in self.seats.items())
        return f"{self.env_id}#seed={self.seed}#{seats}{suffix}"


@dataclass
class PendingTurn:
    """A seat waiting for its reply: the prompt is built, the policy has not answered yet."""

    role: str
    observation: str
    info: dict[str, Any]
    messages: list[Message]


def completion_tokens(completion: Completion) -> int:
    """Tokens generated for ``completion``: its ids when given, else the backend's usage count."""
    if completion.completion_token_ids is not None:
        return len(completion.completion_token_ids)
    return int(completion.usage.get("completion_tokens", 0))


def _public_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """The info worth keeping in a turn record: everything but the rules text repeated every turn."""
    return {key: value for key, value in info.items() if key != "instructions"}


class EpisodeRun:
    """The state of one episode between runner ticks.

    Arguments:
        spec: what to play.
        bots: the seats played by env bots, by role (AEC envs only).
        conversation_options: passed to ``Conversation`` for every policy seat (history window, ...).
        env: an env to reuse (already built for this spec's env id and options), else one is made.
        max_turns: a safety net against an env that never ends; the episode fails past it.
    """

    def __init__(
        self,
        spec: EpisodeSpec,
        *,
        bots: Mapping[str, BotSeat] | None = None,
        conversation_options: Mapping[str, Mapping[str, Any]] | None = None,
        env: Any = None,
        max_turns: int = 10_000,
    ) -> None:
        self.spec = spec
        self.bots = dict(bots or {})
        self.conversation_options = dict(conversation_options or {})
        self.max_turns = max_turns
        entry = get_entry(spec.env_id)
        self.multi_seat = entry.aec_entry_point is not None and len(spec.seats) > 1
        if self.bots and not self.multi_seat:
            raise ValueError(f"bot seats need a multi-seat env in its AEC view; {spec.env_id} has none")
        self.env = env
        self.trajectory = Trajectory(
            env_id=spec.env_id,
            episode_id=spec.episode_id,
            seed=spec.seed,
            group_id=spec.group_id,
            metadata={"seats": dict(spec.seats), "env_kwargs": dict(spec.env_kwargs)},
        )
        self.conversations: dict[str, Conversation] = {}
        self._instructions: dict[str, str | None] = {}
        """Each seat's rules as given at reset (AEC envs)."""
        self.pending: PendingTurn | None = None
        self.done = False
        self.env_seconds = 0.0
        self.started = time.perf_counter()
        self._last_turn: dict[str, Turn] = {}
        self._returns: dict[str, float] = {}
        self._bot_rng = np.random.default_rng([spec.seed, 1])
        self._bot_players: dict[str, Callable[..., str]] = {}

    # -- building and reusing envs -----------------------------------------------------------------

    def new_env(self) -> Any:
        kwargs = dict(self.spec.env_kwargs)
        return make_aec(self.spec.env_id, **kwargs) if self.multi_seat else make(self.spec.env_id, **kwargs)

    @property
    def env_key(self) -> tuple[str, str, bool]:
        """Episodes with equal keys can share one env object, one after the other."""
        return (self.spec.env_id, repr(sorted(self.spec.env_kwargs.items())), self.multi_seat)

    # -- the two calls the runner makes ------------------------------------------------------------

    def start(self) -> None:
        """Reset the env and play forward to the first seat that needs a policy."""
        self._timed(self._start)

    def act(self, completion: Completion, action: str) -> None:
        """Apply the pending seat's reply (``action`` is what the env receives) and play forward."""
        self._timed(self._act, completion, action)

    def fail(self, reason: str) -> Trajectory:
        """End the episode as failed; the turns so far are kept for diagnosis."""
        self.done = True
        self.pending = None
        self.trajectory.error = reason
        return self.trajectory

    # -- internals ---------------------------------------------------------------------------------

    def _timed(self, fn: Callable[..., None], *args: Any) -> None:
        began = time.perf_counter()
        try:
            fn(*args)
        finally:
            self.env_seconds += time.perf_counter() - began

    def _start(self) -> None:
        if self.env is None:
            self.env = self.new_env()
        options = dict(self.spec.reset_options) if self.spec.reset_options is not None else None
        if self.multi_seat:
            unknown = set(self.spec.seats) ^ set(self.env.possible_agents)
            if unknown:
                raise ValueError(
                    f"seats {sorted(self.spec.seats)} do not match {self.spec.env_id}'s roles "
                    f"{list(self.env.possible_agents)}"
                )
            self.env.reset(seed=self.spec.seed, options=options)
            # Every seat's rules arrive in the infos at reset; a seat that moves later would only see
            # the infos of its first turn, which no longer carry them.
            self._instructions = {
                role: self.env.infos.get(role, {}).get("instructions") for role in self.env.possible_agents
            }
            self._advance_aec()
        else:
            (role,) = self.spec.seats
            observation, info = self.env.reset(seed=self.spec.seed, options=options)
            self._returns[role] = 0.0
            self._wait_for(role, str(observation), info)

    def _wait_for(self, role: str, observation: str, info: Mapping[str, Any]) -> None:
        conversation = self.conversations.get(role)
        # ``info["new_context"]``: the env starts this seat on a fresh chat (a new Reflexion trial
        # carries its memory in the observation; the old transcript would only crowd the prompt).
        if conversation is None or info.get("new_context"):
            options = dict(self.conversation_options.get(role, {}))
            # A seat may replace the env's rules with its own system prompt, or go without one.
            rules = info.get("instructions") or self._instructions.get(role)
            if conversation is not None and rules is None:
                rules = conversation.instructions
            system_prompt = options.pop("system_prompt", rules)
            conversation = Conversation(system_prompt, **options)
            self.conversations[role] = conversation
        conversation.add_observation(observation)
        self.pending = PendingTurn(role, observation, _public_info(info), conversation.to_messages())

    def _record(self, role: str, observation: str, info: dict[str, Any], action: str, **extra: Any) -> Turn:
        if len(self.trajectory.turns) >= self.max_turns:
            raise RuntimeError(f"episode exceeded {self.max_turns} turns without ending")
        turn = Turn(
            env_id=self.spec.env_id,
            episode_id=self.trajectory.episode_id,
            role=role,
            index=len(self.trajectory.turns),
            observation=observation,
            action=action,
            info=info,
            **extra,
        )
        self.trajectory.turns.append(turn)
        self._last_turn[role] = turn
        return turn

    def _act(self, completion: Completion, action: str) -> None:
        pending = self.pending
        if pending is None:
            raise RuntimeError("no seat is waiting for an action")
        self.pending = None
        self.conversations[pending.role].add_action(completion.text)
        turn = self._record(
            pending.role,
            pending.observation,
            pending.info,
            action,
            completion=completion.text,
            prompt=pending.messages,
            prompt_token_ids=completion.prompt_token_ids,
            completion_token_ids=completion.completion_token_ids,
            completion_logprobs=completion.completion_logprobs,
        )
        if completion.finish_reason is not None:
            turn.info["finish_reason"] = completion.finish_reason
        turn.info["completion_tokens"] = completion_tokens(completion)
        if self.multi_seat:
            self.env.step(action)
            self._note_invalid(turn, self.env.infos.get(pending.role, {}))
            self._advance_aec()
            return
        observation, reward, terminated, truncated, info = self.env.step(action)
        turn.reward = float(reward)
        self._returns[pending.role] += float(reward)
        self._note_invalid(turn, info)
        if terminated or truncated:
            self._finish(terminated, truncated, {pending.role: dict(info.get("metrics", {}))})
        else:
            self._wait_for(pending.role, str(observation), info)

    @staticmethod
    def _note_invalid(turn: Turn, info: Mapping[str, Any]) -> None:
        if info.get("invalid_action"):
            turn.info["invalid_action"] = True
            turn.info["invalid_reason"] = info.get("invalid_reason")

    def _advance_aec(self) -> None:
        """Play the AEC env forward until a policy seat must act or everyone is done."""
        env = self.env
        metrics: dict[str, dict[str, float]] = {}
        terminated = truncated = False
        while env.agents:
            role = env.agent_selection
            observation, reward, is_terminated, is_truncated, info = env.last()
            self._returns[role] = self._returns.get(role, 0.0) + float(reward)
            if role in self._last_turn:
                self._last_turn[role].reward += float(reward)
            if is_terminated or is_truncated:
                metrics[role] = dict(info.get("metrics", {}))
                terminated, truncated = terminated or is_terminated, truncated or is_truncated
                env.step(None)
                continue
            bot = self.bots.get(role)
            if bot is None:
                self._wait_for(role, str(observation), info)
                return
            player = self._bot_players.get(role)
            if player is None:
                player = self._bot_players[role] = env.game.make_bot(bot.name, **dict(bot.options))
            action = player(env.game, role, self._bot_rng)
            turn = self._record(role, str(observation), _public_info(info), action)
            env.step(action)
            self._note_invalid(turn, env.infos.get(role, {}))
        self._finish(terminated, truncated, metrics)

    def _finish(self, terminated: bool, truncated: bool, metrics: dict[str, dict[str, float]]) -> None:
        trajectory = self.trajectory
        trajectory.returns = dict(self._returns)
        trajectory.metrics = metrics
        trajectory.terminated = bool(terminated)
        trajectory.truncated = bool(truncated) and not terminated
        self.done = True
