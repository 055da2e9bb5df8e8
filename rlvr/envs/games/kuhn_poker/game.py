"""Kuhn Poker as a ``TurnGame``: a match of several hands with alternating first player.

The hand itself is ``rules``; this module deals cards, keeps the chip count over the match, words
the messages each seat sees, and turns the final chip totals into the match reward.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from rlvr.core.game import Bot, TurnGame
from rlvr.core.parsing import extract_choice
from rlvr.envs.games.kuhn_poker.bots import nash_bot
from rlvr.envs.games.kuhn_poker.rules import (
    ANTE,
    BET_SIZE,
    CARD_NAMES,
    MOVE_CODES,
    MOVES,
    TERMINAL_HISTORIES,
    Move,
    bet_pending,
    card_name,
    contributions,
    hand_result,
    legal_moves,
    moves_of,
)
from rlvr.envs.games.kuhn_poker.strategy import DEFAULT_ALPHA

_DEALS: tuple[tuple[int, int], ...] = tuple(itertools.permutations(range(len(CARD_NAMES)), 2))


@cache
def _tagged_legal_moves(history: str) -> tuple[str, ...]:
    return tuple(f"[{move}]" for move in legal_moves(history))


@cache
def _announcement(role: str, move: Move, history: str) -> str:
    """``player_0 bets (pot: 3).`` for the move that led to ``history``; folds name no pot."""
    pot = "" if move == "fold" else f" (pot: {sum(contributions(history))})"
    return f"{role} {_VERBS[move]}{pot}."


@cache
def _hand_opening(hand: int, rounds: int, first_role: str, card: int, role: str) -> str:
    opening = (
        f"Hand {hand} of {rounds}. Both players ante {ANTE} chip (pot: {2 * ANTE}). "
        f"{first_role} acts first.\nYour card: {card_name(card)}."
    )
    return f"{opening}\n{_move_prompt('')}" if role == first_role else opening


@cache
def _hand_result_text(first: str, second: str, first_card: int, second_card: int, history: str) -> str:
    """``Showdown: ... player_0 wins the pot of 4 chips (+2).`` (folded cards stay hidden)."""
    first_net = hand_result((first_card, second_card), history)
    assert first_net is not None
    winner = first if first_net > 0 else second
    pot = sum(contributions(history))
    showdown = ""
    if not history.endswith("f"):  # folded cards stay hidden, as at a real table
        showdown = f"Showdown: {first} has {card_name(first_card)}, {second} has {card_name(second_card)}. "
    return f"{showdown}{winner} wins the pot of {pot} chips ({_signed(abs(first_net))})."


@cache
def _reply_prompt(role: str, move: Move, history: str) -> str:
    return f"{_announcement(role, move, history)}\n{_move_prompt(history)}"


@cache
def _move_prompt(history: str) -> str:
    return f"Your move. Legal moves: {', '.join(_tagged_legal_moves(history))}."


_VERBS: dict[Move, str] = {"check": "checks", "bet": "bets", "call": "calls", "fold": "folds"}
_NASH_BOT_NAMES = ("optimal", "nash")


@dataclass(frozen=True)
class HandRecord:
    """One finished hand: who opened, who held what, what was played, and the chips it moved."""

    first_role: str
    cards: dict[str, int]
    history: str
    chip_changes: dict[str, int]


def _signed(chips: int) -> str:
    return f"{chips:+d}"


class KuhnPoker(TurnGame):
    """A match of ``rounds`` hands of Kuhn Poker (Kuhn 1950) between ``player_0`` and ``player_1``.

    ``player_0`` acts first in hand 1 and the first seat alternates from then on, so over an even
    number of hands neither seat has the positional edge (the first player's game value is -1/18).

    State that bots may read is public: ``public_history()`` and ``position_of(role)`` for anybody,
    ``card_of(role)`` for the seat's own card only. ``cards``, ``completed_hands`` and ``render()``
    hold private information and are for tests and spectators.
    """

    name: ClassVar[str] = "KuhnPoker"
    bots: ClassVar[dict[str, Bot]] = {
        **TurnGame.bots,
        "optimal": nash_bot(DEFAULT_ALPHA),
    }
    """``"optimal"`` plays Nash with alpha = 1/6 (``make_bot`` also knows it as ``"nash"`` and takes
    ``alpha``); listed once so that loops over the bots do not play it twice."""

    def __init__(self, rounds: int = 3, **base_options: Any) -> None:
        # SPIRAL truncates at 50 turns; a hand takes up to 3 moves, so long matches need more room.
        base_options.setdefault("max_turns", max(50, 3 * int(rounds)))
        super().__init__(**base_options)
        if rounds < 1:
            raise ValueError(f"rounds must be >= 1, got {rounds}")
        self.rounds = int(rounds)
        first, second = self.roles
        self._opponent_of = {first: second, second: first}
        self._instructions: dict[str, str] = {}
        self.hand_number = 0
        self.first_role = self.roles[0]
        self.cards: dict[str, int] = {}
        self.history = ""
        self.chips: dict[str, int] = dict.fromkeys(self.roles, 0)
        self.completed_hands: list[HandRecord] = []

    # ----------------------------------------------------------------- what seats may see
    def card_of(self, role: str) -> int:
        """``role``'s card in the current hand (0 = J, 1 = Q, 2 = K)."""
        return self.cards[role]

    def public_history(self) -> str:
        """The current hand's action codes (see ``rules``): ``""``, ``"c"``, ``"b"``, ``"cb"``, ..."""
        return self.history

    def position_of(self, role: str) -> int:
        """0 if ``role`` acts first in the current hand, 1 if second."""
        return 0 if role == self.first_role else 1

    def _other(self, role: str) -> str:
        return self._opponent_of[role]

    # ----------------------------------------------------------------- TurnGame hooks
    def instructions(self, role: str) -> str:
        # The rules depend only on the constructor's options: build them once per seat.
        if role not in self._instructions:
            self._instructions[role] = self._build_instructions(role)
        return self._instructions[role]

    def _build_instructions(self, role: str) -> str:
        if self.invalid_retries:
            on_invalid = (
                f"is refused and you may try again ({self.invalid_retries} time(s) per match); "
                "after that it forfeits the match"
            )
        else:
            on_invalid = "forfeits the match"
        return (
            f"You are {role} in a match of {self.rounds} hand(s) of Kuhn Poker against "
            f"{self._other(role)}.\n\n"
            "Rules:\n"
            "- The deck has three cards: J < Q < K. Each hand, both players ante "
            f"{ANTE} chip into the pot and get one card, which only its holder sees.\n"
            f"- {self.roles[0]} acts first in hand 1; the first player alternates every hand.\n"
            f"- With no bet pending: [check], or [bet] (put {BET_SIZE} more chip in the pot).\n"
            f"- Facing a bet: [call] (put {BET_SIZE} chip in to match it), or [fold] (give up the pot).\n"
            "- The hand ends after check-check or a call (showdown: the higher card takes the pot) or "
            "a fold (the bettor takes the pot). So a called showdown wins or loses 2 chips; an "
            "unbet showdown or a fold, 1 chip.\n\n"
            "Move format: write your move in square brackets, e.g. [bet]. \\boxed{bet} or the bare "
            "word alone also work; if your reply names several moves in tags, the last one counts.\n"
            f"An illegal or unreadable move {on_invalid}: reward {self.invalid_penalty:+g} for you, "
            f"{self.invalid_reward_others:+g} for your opponent.\n\n"
            f"Reward: after hand {self.rounds}, +1 if you have won more chips than your opponent, "
            "-1 if fewer, 0 if the chips are level."
        )

    def _setup(self) -> None:
        self.hand_number = 0
        self.chips = dict.fromkeys(self.roles, 0)
        self.completed_hands = []
        self._deal_hand()

    def _legal_actions(self) -> list[str]:
        return list(_tagged_legal_moves(self.history))

    def _play(self, text: str) -> str | None:
        role = self.current_role
        assert role is not None
        choice = extract_choice(text, MOVES)
        if choice is None:
            legal = ", ".join(self._legal_actions())
            return f"No move found; write one of [check], [bet], [call], [fold]. Legal moves: {legal}."
        if choice not in legal_moves(self.history):
            legal = ", ".join(self._legal_actions())
            why = "a bet is pending" if bet_pending(self.history) else "no bet is pending"
            return f"[{choice}] is not legal now: {why}. Legal moves: {legal}."
        self.history = history = self.history + MOVE_CODES[choice]
        # The mover is not told its own move back (its reply is already in its history); the other
        # seat hears it with its own options, or everybody hears it with the hand's result.
        if history in TERMINAL_HISTORIES:
            self._settle(hand_result(self._deal(), history), _announcement(role, choice, history))
        else:
            self.current_role = self._opponent_of[role]
            self.tell(_reply_prompt(role, choice, history), to=self.current_role)
        return None

    def _role_metrics(self, role: str) -> dict[str, float]:
        return {
            "chip_diff": float(self.chips[role] - self.chips[self._other(role)]),
            "hands_played": float(len(self.completed_hands)),
        }

    def make_bot(self, name: str, **options: Any) -> Bot:
        """As the base, plus ``alpha`` in [0, 1/3] for ``"optimal"`` / ``"nash"`` (default 1/6)."""
        if name not in _NASH_BOT_NAMES:
            return super().make_bot(name, **options)
        unknown = set(options) - {"alpha"}
        if unknown:
            raise TypeError(f"bot {name!r} of {self.name} takes only alpha, got {sorted(unknown)}")
        return nash_bot(options.get("alpha", DEFAULT_ALPHA))

    def render(self) -> str:
        if self.hand_number == 0:
            return "Kuhn Poker: no hand dealt yet; call reset()."
        cards = ", ".join(f"{role} {card_name(card)}" for role, card in self.cards.items())
        played = ", ".join(moves_of(self.history)) or "no moves yet"
        lines = [
            f"Kuhn Poker, hand {self.hand_number} of {self.rounds} ({self.first_role} first)",
            f"Cards: {cards}",
            f"Moves: {played}",
            f"Chips: {self._chip_totals()}",
        ]
        if self.is_over:
            lines.append(f"Over: {self.end_reason}")
        return "\n".join(lines)

    # ----------------------------------------------------------------- the match
    def _deal(self) -> tuple[int, int]:
        """The current cards as (first player's, second player's), the order ``rules`` expects."""
        return self.cards[self.first_role], self.cards[self._other(self.first_role)]

    def _chip_totals(self) -> str:
        first, second = self.roles
        return f"{first} {_signed(self.chips[first])}, {second} {_signed(self.chips[second])}"

    def _deal_hand(self) -> None:
        self.hand_number += 1
        self.first_role = self.roles[(self.hand_number - 1) % 2]
        # One of the six deals, uniformly: a float draw costs a third of rng.integers on this hot path.
        dealt = _DEALS[int(self.rng.random() * len(_DEALS))]
        first, second = self.roles
        self.cards = {first: dealt[0], second: dealt[1]}
        self.history = ""
        self.current_role = self.first_role
        # One private message per seat (header, own card, and for the mover its options): fewer,
        # memoised messages keep the per-hand cost down (benchmarks/env_speed.py).
        for role in self.roles:
            self.tell(
                _hand_opening(self.hand_number, self.rounds, self.first_role, self.cards[role], role),
                to=role,
            )

    def _settle(self, first_net: int, announcement: str) -> None:
        first = self.first_role
        second = self._opponent_of[first]
        changes = {first: first_net, second: -first_net}
        self.chips[first] += first_net
        self.chips[second] -= first_net
        result = _hand_result_text(first, second, self.cards[first], self.cards[second], self.history)
        self.tell(f"{announcement}\n{result} Chip totals: {self._chip_totals()}.")
        self.completed_hands.append(HandRecord(first, dict(self.cards), self.history, changes))
        if self.hand_number < self.rounds:
            self._deal_hand()
        else:
            self._finish_match()

    def _finish_match(self) -> None:
        first, second = self.roles
        lead = self.chips[first] - self.chips[second]
        if lead == 0:
            returns, verdict = {first: 0.0, second: 0.0}, "the match is a draw"
        else:
            winner = first if lead > 0 else second
            returns = {winner: 1.0, self._other(winner): -1.0}
            verdict = f"{winner} wins the match"
        self.finish(returns, f"After {self.rounds} hand(s), chip totals: {self._chip_totals()}; {verdict}.")
