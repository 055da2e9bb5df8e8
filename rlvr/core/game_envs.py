"""The two env views of a ``TurnGame``: gymnasium (one seat) and PettingZoo AEC (all seats).

Subclass once per game and set ``game_class``::

    class KuhnPokerEnv(GameEnv):
        game_class = KuhnPoker

Constructor keywords that are not the view's own (``opponent``, ``seat``, ``render_mode``,
``max_action_length``) are passed to the game, so ``gym.make("rlvr/KuhnPoker-v0", rounds=5)`` works.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium
import numpy as np
from pettingzoo import AECEnv

from rlvr.core.game import Bot, GameOverError, MoveResult, TurnGame
from rlvr.core.seeding import draw_seed, new_generator, reseed
from rlvr.core.spaces import DEFAULT_MAX_LENGTH, TextObservation, UnicodeText

TextOpponent = Callable[[str], str]
"""An opponent that sees only text, exactly as an LLM would: observation in, action out."""

Opponent = str | TextOpponent | tuple[str, dict[str, Any]]


def coerce_action(action: Any, max_length: int) -> tuple[str, str | None]:
    """Turn whatever a caller passed into text; the second item says why it is unusable, if it is."""
    if isinstance(action, bytes):
        action = action.decode("utf-8", errors="replace")
    elif action is None:
        return "", "No action was given."
    elif not isinstance(action, str):
        action = str(action)
    if len(action) > max_length:
        return action[:200], f"The action is longer than {max_length} characters."
    return action, None


class _TextSeat:
    """Adapts a text-only opponent (``str -> str``) to the ``Bot`` signature.

    The first call of every episode prepends the seat's instructions, so a plain LLM callable gets
    the rules (and, in games that deal private information into them, this episode's). A callable
    with a ``new_episode()`` method (``rlvr.agents.as_opponent`` makes one from any policy) is told
    when an episode starts, so it can forget the last one.
    """

    def __init__(self, respond: TextOpponent) -> None:
        self.respond = respond
        self._briefed = False

    def new_episode(self) -> None:
        self._briefed = False
        reset = getattr(self.respond, "new_episode", None)
        if callable(reset):
            reset()

    def __call__(self, game: TurnGame, role: str, rng: np.random.Generator) -> str:
        observation = game.take_messages(role)
        if not self._briefed:
            observation = f"{game.instructions(role)}\n\n{observation}"
            self._briefed = True
        return self.respond(observation)


def resolve_opponent(game: TurnGame, opponent: Opponent) -> Bot:
    if isinstance(opponent, str):
        return game.make_bot(opponent)
    if isinstance(opponent, tuple):
        name, options = opponent
        return game.make_bot(name, **options)
    if callable(opponent):
        return _TextSeat(opponent)  # type: ignore[return-value]
    raise TypeError(
        f"opponent must be a bot name, (name, options) or a callable str -> str, got {opponent!r}"
    )


def _info(game: TurnGame, role: str, move: MoveResult | None) -> dict[str, Any]:
    mover = game.current_role
    info: dict[str, Any] = {
        "turn": game.turn,
        "player": mover,
        "role": role,
        "invalid_action": False,
        "invalid_reason": None,
        "metrics": game.metrics(role) if mover is None else {},
    }
    if move is not None and not move.valid and move.role == role:
        info["invalid_action"] = True
        info["invalid_reason"] = move.reason
    if mover == role:
        legal = game.legal_actions()
        if legal is not None:
            info["legal_actions"] = legal
    return info


class GameEnv(gymnasium.Env[str, str]):
    """Single-agent view: the agent holds one seat, scripted or text opponents hold the others.

    Arguments:
        opponent: a bot name (``"random"``, ``"optimal"``, ...), ``(name, options)``, or any callable
            ``str -> str`` that receives the opponent seat's observations. One value for all other
            seats, or a dict ``{role: opponent}``.
        seat: the agent's role name or index; ``None`` alternates by seed (``seed % n_seats``), or
            draws the seat from the env's RNG on an unseeded reset.
        max_action_length: longer actions are invalid moves.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 1}
    game_class: ClassVar[type[TurnGame]]

    def __init__(
        self,
        opponent: Opponent | dict[str, Opponent] = "random",
        seat: int | str | None = None,
        render_mode: str | None = None,
        max_action_length: int = DEFAULT_MAX_LENGTH,
        **game_options: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.game = self.game_class(**game_options)
        roles = self.game.roles
        self._seat_choice = seat
        self._choose_seat(0, seat)  # validate early: a bad seat should fail at construction
        opponents = opponent if isinstance(opponent, dict) else dict.fromkeys(roles, opponent)
        self._opponents = {role: resolve_opponent(self.game, opp) for role, opp in opponents.items()}
        self.render_mode = render_mode
        self.max_action_length = max_action_length
        self.observation_space = UnicodeText(max_length=DEFAULT_MAX_LENGTH)
        self.action_space = UnicodeText(max_length=max_action_length)
        self.agent_role = roles[0]
        # Re-seeded in place on every reset (see rlvr.core.seeding): separate streams, so that the
        # agent's choices never shift what the game deals.
        self._game_rng = new_generator()
        self._bot_rng = new_generator()

    def _choose_seat(self, seed: int | None, requested: int | str | None) -> str:
        roles = self.game.roles
        choice = self._seat_choice if requested is None else requested
        if isinstance(choice, int):
            if not 0 <= choice < len(roles):
                raise ValueError(f"seat index {choice} out of range for roles {roles}")
            return roles[choice]
        if isinstance(choice, str):
            if choice not in roles:
                raise ValueError(f"unknown seat {choice!r}; roles are {roles}")
            return choice
        index = seed % len(roles) if seed is not None else int(self.np_random.integers(len(roles)))
        return roles[index]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        if seed is not None:
            # Instead of super().reset(seed=seed), which builds a fresh SeedSequence-seeded Generator
            # (about 10 µs, a tenth of a Kuhn Poker episode), re-seed our PCG64 in place: same seed,
            # same state, and np_random / np_random_seed behave as gymnasium documents them.
            if self._np_random is None:
                self._np_random = new_generator()
            reseed(self._np_random, seed)
            self._np_random_seed = seed
        self.agent_role = self._choose_seat(seed, (options or {}).get("seat"))
        missing = [r for r in self.game.roles if r != self.agent_role and r not in self._opponents]
        if missing:
            raise ValueError(f"no opponent given for seats {missing}")
        for opponent in self._opponents.values():
            if isinstance(opponent, _TextSeat):
                opponent.new_episode()
        episode_seed = draw_seed(self.np_random)
        reseed(self._game_rng, episode_seed)
        reseed(self._bot_rng, episode_seed + 1)  # SplitMix64 makes neighbouring seeds unrelated
        self.game.reset(self._game_rng)
        self._reward_so_far = 0.0
        self._outcome_delivered = False
        self._play_opponents()
        observation = self.game.take_messages(self.agent_role)
        info = _info(self.game, self.agent_role, None)
        info["instructions"] = self.game.instructions(self.agent_role)
        return observation, info

    def _play_opponents(self) -> None:
        game = self.game
        while not game.is_over and game.current_role != self.agent_role:
            role = game.current_role
            assert role is not None
            text, unusable = coerce_action(
                self._opponents[role](game, role, self._bot_rng), self.max_action_length
            )
            game.act(text, rejected=unusable)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        move: MoveResult | None = None
        if self.game.is_over:
            if self._outcome_delivered:
                raise GameOverError("The episode has ended; call reset() before step().")
            # The opponents ended the game before the agent's first move (a text opponent's
            # forfeit, say). gymnasium cannot terminate inside reset, so this step reports it.
        else:
            text, unusable = coerce_action(action, self.max_action_length)
            move = self.game.act(text, rejected=unusable)
            self._play_opponents()
        self._outcome_delivered = self.game.is_over
        final = self.game.returns()[self.agent_role] if self.game.is_over else 0.0
        reward = final - self._reward_so_far
        self._reward_so_far = final
        terminated = self.game.is_over and not self.game.is_truncated
        truncated = self.game.is_truncated
        observation = self.game.take_messages(self.agent_role)
        return observation, reward, terminated, truncated, _info(self.game, self.agent_role, move)

    def render(self) -> str | None:
        text = self.game.render()
        if self.render_mode == "human":
            print(text)
            return None
        return text


class GameAECEnv(AECEnv):
    """PettingZoo AEC view: every seat is an agent named by its role.

    ``observe(agent)`` is the text queued for that agent since it last moved (the rules are in
    ``infos[agent]["instructions"]`` after reset). Rewards arrive when the game ends.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["ansi", "human"],
        "name": "rlvr_game",
        "is_parallelizable": False,
    }
    game_class: ClassVar[type[TurnGame]]

    def __init__(
        self,
        render_mode: str | None = None,
        max_action_length: int = DEFAULT_MAX_LENGTH,
        **game_options: Any,
    ) -> None:
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.game = self.game_class(**game_options)
        self.render_mode = render_mode
        self.max_action_length = max_action_length
        self.possible_agents = list(self.game.roles)
        self.agents = list(self.possible_agents)
        self._observation_space = UnicodeText(max_length=DEFAULT_MAX_LENGTH)
        self._action_space = UnicodeText(max_length=max_action_length)
        self._np_random = new_generator(int.from_bytes(os.urandom(8), "little"))
        self._reset_bookkeeping()

    def observation_space(self, agent: str) -> UnicodeText:
        return self._observation_space

    def action_space(self, agent: str) -> UnicodeText:
        return self._action_space

    def _reset_bookkeeping(self) -> None:
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict[str, Any]] = {agent: {} for agent in self.agents}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        if seed is not None:
            reseed(self._np_random, seed)
        self.agents = list(self.possible_agents)
        self._reset_bookkeeping()
        self.game.reset(self._np_random)
        self._paid = dict.fromkeys(self.agents, 0.0)
        for agent in self.agents:
            self.infos[agent] = _info(self.game, agent, None)
            self.infos[agent]["instructions"] = self.game.instructions(agent)
        self.agent_selection = self.game.current_role or self.agents[0]

    def observe(self, agent: str) -> str:
        return TextObservation(self.game.pending_messages(agent))

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        game = self.game
        self._cumulative_rewards[agent] = 0.0
        game.discard_messages(agent)
        if type(action) is str and len(action) <= self.max_action_length:
            move = game.act(action)  # the usual case, without coerce_action's checks
        else:
            text, unusable = coerce_action(action, self.max_action_length)
            move = game.act(text, rejected=unusable)
        if game.is_over:
            final = game.returns()
            for seat in self.agents:
                self.rewards[seat] = final[seat] - self._paid[seat]
                self._paid[seat] = final[seat]
                self.infos[seat] = _info(game, seat, move)
                self.terminations[seat] = not game.is_truncated
                self.truncations[seat] = game.is_truncated
            self._accumulate_rewards()
            # Dead agents are removed one by one through _was_dead_step, starting with the mover.
            self.agent_selection = agent
        else:
            # Rewards only arrive at the end (they are still 0 from reset), so only the infos change.
            for seat in self.agents:
                self.infos[seat] = _info(game, seat, move)
            assert game.current_role is not None
            self.agent_selection = game.current_role
        if self.render_mode == "human":
            self.render()

    def render(self) -> str | None:
        text = self.game.render()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        pass
