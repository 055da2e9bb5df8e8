"""Turn-based text games, apart from any env view.

A game here is the rules and nothing else: who is to move, what each seat has been told, what a move
does, and who won. ``rlvr.core.game_envs`` turns any ``TurnGame`` into both a gymnasium env (one
seat learns, the others are played by an opponent) and a PettingZoo AEC env (every seat is an agent),
so a game is written once and the two views cannot drift apart.

What the base class owns, so that every game treats it the same way:

* **Messages.** ``tell`` queues text for one seat or all; a view hands a seat everything queued for it
  since it last moved. That is the "new message for this turn" of the env contract.
* **Invalid moves.** ``_play`` returns a reason instead of raising. The offender is told why and may
  retry ``invalid_retries`` times; after that the game ends with ``invalid_penalty`` for the offender
  and ``invalid_reward_others`` for everybody else (SPIRAL: -1.5 / +0.5, no retry).
* **Turn limit.** After ``max_turns`` moves (valid or not) the game is truncated and every seat
  scores 0 (SPIRAL: 50 turns, 0 / 0).
* **Transcript.** Every message and move is logged, so two runs can be compared byte for byte.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

Bot = Callable[["TurnGame", str, np.random.Generator], str]
"""A scripted player: ``bot(game, role, rng) -> action text``. It may read the game's state, but only
what its own seat is entitled to see (its own cards, the public history)."""


class GameOverError(RuntimeError):
    """A move was submitted after the game ended: the caller must reset first."""


class MoveResult(NamedTuple):
    """What one call to ``TurnGame.act`` did (a tuple: it is made on every move, so it must be cheap)."""

    role: str
    valid: bool
    reason: str | None = None


class TranscriptEvent(NamedTuple):
    kind: str  # "message" | "move" | "end"
    role: str | None  # the mover, the recipients ("*" for everybody), or None for "end"
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "role": self.role, "text": self.text}


# Several events are logged per move; building them (and move results) with tuple.__new__ skips the
# NamedTuple constructor's Python-level call: 5x cheaper, which benchmarks/env_speed.py notices.
_event = tuple.__new__


@dataclass
class _Outcome:
    returns: dict[str, float]
    reason: str
    truncated: bool = False
    offender: str | None = None


def random_legal_bot(game: TurnGame, role: str, rng: np.random.Generator) -> str:
    """Uniform over the legal moves; every game with a finite move set gets it for free."""
    legal = game.legal_actions()
    if not legal:
        raise ValueError(f"{type(game).__name__} has no finite move list; it must define its own bot")
    return legal[int(rng.random() * len(legal))]  # a float draw is cheaper than rng.integers


class TurnGame(abc.ABC):
    """Base class for sequential text games with a verifiable outcome.

    Subclasses implement ``instructions``, ``_setup``, ``_legal_actions``, ``_play`` and
    ``_natural_returns``; they move the turn by assigning ``self.current_role`` and end the game with
    ``self.finish(...)``.
    """

    name: ClassVar[str] = "TurnGame"
    roles: ClassVar[tuple[str, ...]] = ("player_0", "player_1")
    penalize_invalid_moves: ClassVar[bool] = True
    """False for games (such as wrapped TextArena games) that apply their own invalid-move rules."""

    def __init__(
        self,
        *,
        invalid_penalty: float = -1.5,
        invalid_reward_others: float = 0.5,
        invalid_retries: int = 0,
        max_turns: int = 50,
    ) -> None:
        if invalid_retries < 0:
            raise ValueError("invalid_retries must be >= 0")
        if max_turns < 1:
            raise ValueError("max_turns must be >= 1")
        self.invalid_penalty = float(invalid_penalty)
        self.invalid_reward_others = float(invalid_reward_others)
        self.invalid_retries = int(invalid_retries)
        self.max_turns = int(max_turns)
        self.current_role: str | None = None
        self.turn = 0
        self.transcript: list[TranscriptEvent] = []
        self._inboxes: dict[str, list[str]] = {}
        self._invalid_counts: dict[str, int] = {}
        self._outcome: _Outcome | None = None
        self.rng: np.random.Generator = np.random.default_rng(0)

    # ----------------------------------------------------------------- for subclasses
    @abc.abstractmethod
    def instructions(self, role: str) -> str:
        """The rules as the system prompt for ``role``: what the game is and how to write a move."""

    @abc.abstractmethod
    def _setup(self) -> None:
        """Start a game from ``self.rng``: deal, pick the first mover, ``tell`` the opening."""

    @abc.abstractmethod
    def _legal_actions(self) -> list[str] | None:
        """The current mover's legal moves as they should be written (``"[bet]"``), or ``None``."""

    @abc.abstractmethod
    def _play(self, text: str) -> str | None:
        """Apply ``text`` as ``self.current_role``'s move; return why it is invalid, or ``None``.

        Must leave the state untouched when the move is invalid.
        """

    def _role_metrics(self, role: str) -> dict[str, float]:
        """Game-specific numbers for the leaderboard (e.g. chip difference)."""
        return {}

    def render(self) -> str:
        """A human-readable picture of the full state (all private information included)."""
        return "\n".join(event.text for event in self.transcript[-10:])

    bots: ClassVar[dict[str, Bot]] = {"random": random_legal_bot}
    """Named scripted opponents; subclasses extend this (``"optimal"``, ...)."""

    def make_bot(self, name: str, **options: Any) -> Bot:
        """The scripted player called ``name``; subclasses with parameterised bots override this."""
        if options:
            raise TypeError(f"bot {name!r} of {self.name} takes no options, got {sorted(options)}")
        try:
            return self.bots[name]
        except KeyError:
            raise ValueError(
                f"{self.name} has no bot named {name!r}; choose from {sorted(self.bots)}"
            ) from None

    # ----------------------------------------------------------------- the game loop
    def reset(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.turn = 0
        self.transcript = []
        self._inboxes = {role: [] for role in self.roles}
        self._invalid_counts = dict.fromkeys(self.roles, 0)
        self._outcome = None
        self.current_role = self.roles[0]
        self._setup()

    @property
    def is_over(self) -> bool:
        return self._outcome is not None

    @property
    def is_truncated(self) -> bool:
        return self._outcome is not None and self._outcome.truncated

    @property
    def end_reason(self) -> str | None:
        return None if self._outcome is None else self._outcome.reason

    def legal_actions(self) -> list[str] | None:
        return None if self.is_over else self._legal_actions()

    def act(self, text: str, *, rejected: str | None = None) -> MoveResult:
        """Play ``text`` for the seat to move, applying the invalid-move and turn-limit rules.

        ``rejected`` is a reason found before the game's own parser (an over-long action, say): the
        move then counts as invalid without being parsed.
        """
        if self._outcome is not None or self.current_role is None:
            raise GameOverError(f"{self.name} is over ({self.end_reason}); call reset() first")
        role = self.current_role
        self.transcript.append(_event(TranscriptEvent, ("move", role, text)))
        reason = rejected if rejected is not None else self._play(text)
        if reason is not None:
            self._handle_invalid(role, reason)
        self.turn += 1
        if self._outcome is None and self.turn >= self.max_turns:
            self.finish(
                {seat: 0.0 for seat in self.roles},
                f"The game reached the limit of {self.max_turns} turns and ends without a result.",
                truncated=True,
            )
        return _event(MoveResult, (role, reason is None, reason))

    def _handle_invalid(self, role: str, reason: str) -> None:
        self._invalid_counts[role] += 1
        if not self.penalize_invalid_moves or self._outcome is not None:
            return
        retries_left = self.invalid_retries - self._invalid_counts[role] + 1
        if retries_left > 0:
            self.tell(
                f"Invalid move: {reason} Please try again ({retries_left} "
                f"{'retry' if retries_left == 1 else 'retries'} left).",
                to=role,
            )
            return
        returns = {
            seat_role: self.invalid_penalty if seat_role == role else self.invalid_reward_others
            for seat_role in self.roles
        }
        self.finish(returns, f"{role} made an invalid move ({reason}) and forfeits.", offender=role)

    def finish(
        self,
        returns: dict[str, float],
        reason: str,
        *,
        truncated: bool = False,
        offender: str | None = None,
    ) -> None:
        """End the game with final ``returns`` per seat and tell everybody why."""
        if set(returns) != set(self.roles):
            raise ValueError(f"returns must cover every seat {self.roles}, got {sorted(returns)}")
        self._outcome = _Outcome(
            returns={role: float(value) for role, value in returns.items()},
            reason=reason,
            truncated=truncated,
            offender=offender,
        )
        self.current_role = None
        self.tell(f"Game over. {reason}")
        self.transcript.append(_event(TranscriptEvent, ("end", None, reason)))

    # ----------------------------------------------------------------- messages
    def tell(self, message: str, to: str | Sequence[str] | None = None) -> None:
        """Queue ``message`` for one seat, several, or (``to=None``) all of them."""
        if to is None:
            for inbox in self._inboxes.values():
                inbox.append(message)
            self.transcript.append(_event(TranscriptEvent, ("message", "*", message)))
            return
        if isinstance(to, str):
            self._inboxes[to].append(message)
            self.transcript.append(_event(TranscriptEvent, ("message", to, message)))
            return
        targets = tuple(to)
        for role in targets:
            self._inboxes[role].append(message)
        self.transcript.append(_event(TranscriptEvent, ("message", ",".join(targets), message)))

    def pending_messages(self, role: str) -> str:
        return "\n".join(self._inboxes[role])

    def discard_messages(self, role: str) -> None:
        """Forget what is queued for ``role`` (its view already showed it)."""
        self._inboxes[role].clear()

    def take_messages(self, role: str) -> str:
        """Everything queued for ``role`` since it last took its messages, then clear the queue."""
        text = self.pending_messages(role)
        self._inboxes[role].clear()
        return text

    # ----------------------------------------------------------------- results
    def returns(self) -> dict[str, float]:
        """Final score per seat; all zeros while the game is running."""
        if self._outcome is None:
            return {role: 0.0 for role in self.roles}
        return dict(self._outcome.returns)

    def invalid_moves(self, role: str) -> int:
        return self._invalid_counts.get(role, 0)

    def metrics(self, role: str) -> dict[str, float]:
        """Leaderboard numbers for ``role``; empty until the game is over."""
        if self._outcome is None:
            return {}
        returns = self._outcome.returns
        mine = returns[role]
        best_other = max(value for seat, value in returns.items() if seat != role)
        decided = not self._outcome.truncated
        metrics = {
            "return": mine,
            "win": float(decided and mine > best_other),
            "loss": float(decided and mine < best_other),
            "draw": float(decided and mine == best_other),
            "invalid_move": float(self._invalid_counts[role] > 0),
            "forfeit": float(self._outcome.offender == role),
            "truncated": float(self._outcome.truncated),
            "turns": float(self.turn),
        }
        metrics.update(self._role_metrics(role))
        return metrics

    def transcript_dicts(self) -> list[dict[str, Any]]:
        return [event.as_dict() for event in self.transcript]
