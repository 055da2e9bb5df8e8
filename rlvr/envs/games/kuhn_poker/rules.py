"""Kuhn Poker (Kuhn 1950) as pure functions of one hand's cards and public action history.

Three cards J < Q < K (``0, 1, 2``); each player antes 1 chip and gets one card; a bet or a call puts
1 more chip in the pot. A hand's history is a string of action codes in order of play, first player
first: ``c`` is a check or a call (a call is a ``c`` that answers a ``b``), ``b`` a bet, ``f`` a fold.
The five terminal histories are ``cc``, ``bc``, ``bf``, ``cbc`` and ``cbf``.

Everything here is written so chips are conserved: each player's contribution to the pot is counted,
and the winner takes the whole pot, so the two players' net changes always sum to zero.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

Move = Literal["check", "bet", "call", "fold"]

CARD_NAMES: tuple[str, ...] = ("J", "Q", "K")
MOVES: tuple[Move, ...] = ("check", "bet", "call", "fold")
ANTE = 1
BET_SIZE = 1

DECISION_HISTORIES: tuple[str, ...] = ("", "c", "b", "cb")
"""Every history at which somebody must still move; ``player_to_act`` says who."""
TERMINAL_HISTORIES: tuple[str, ...] = ("cc", "bc", "bf", "cbc", "cbf")

MOVE_CODES: dict[Move, str] = {"check": "c", "bet": "b", "call": "c", "fold": "f"}


def card_name(card: int) -> str:
    return CARD_NAMES[card]


def is_terminal(history: str) -> bool:
    return history in TERMINAL_HISTORIES


def _check_history(history: str) -> None:
    if history not in DECISION_HISTORIES and history not in TERMINAL_HISTORIES:
        raise ValueError(f"{history!r} is not a Kuhn Poker history")


def bet_pending(history: str) -> bool:
    """Whether the player to act faces a bet (and so must call or fold)."""
    return history.endswith("b")


def player_to_act(history: str) -> int:
    """0 for the hand's first player, 1 for the second: they alternate move by move."""
    return len(history) % 2


# Only nine histories exist, and these three run on every move: ``cache`` turns them into dict
# look-ups (benchmarks/env_speed.py). Invalid histories raise, and exceptions are not cached.
@cache
def legal_moves(history: str) -> tuple[Move, ...]:
    """The moves open to the player to act, in the order the game lists them; empty once over."""
    _check_history(history)
    if is_terminal(history):
        return ()
    return ("call", "fold") if bet_pending(history) else ("check", "bet")


def aggressive_move(history: str) -> Move:
    """The move a behaviour strategy's probability refers to: ``bet``, or ``call`` facing a bet."""
    return "call" if bet_pending(history) else "bet"


def passive_move(history: str) -> Move:
    return "fold" if bet_pending(history) else "check"


def play(history: str, move: Move) -> str:
    """The history after ``move``; ``ValueError`` if ``move`` is not legal at ``history``."""
    if move not in legal_moves(history):
        raise ValueError(f"{move!r} is not legal after {history!r}")
    return history + MOVE_CODES[move]


@cache
def moves_of(history: str) -> tuple[Move, ...]:
    """The moves a history encodes, telling a check from a call by whether a bet was pending."""
    _check_history(history)
    moves: list[Move] = []
    for index, code in enumerate(history):
        if code == "c":
            moves.append("call" if bet_pending(history[:index]) else "check")
        else:
            moves.append("bet" if code == "b" else "fold")
    return tuple(moves)


@cache
def contributions(history: str) -> tuple[int, int]:
    """Chips each player has put in the pot so far: the ante plus every bet or call."""
    paid = [ANTE, ANTE]
    for index, move in enumerate(moves_of(history)):
        if move in ("bet", "call"):
            paid[index % 2] += BET_SIZE
    return paid[0], paid[1]


def hand_result(cards: tuple[int, int], history: str) -> int | None:
    """Net chips won by the first player (``cards[0]``), or ``None`` while the hand goes on.

    The winner takes the whole pot, so this is what the second player loses: the hand is zero-sum.
    """
    _check_history(history)
    if not is_terminal(history):
        return None
    if cards[0] == cards[1]:
        raise ValueError(f"both players hold {card_name(cards[0])}; one deck has one of each card")
    folded = history.endswith("f")
    # A fold hands the pot to the player who did not fold; otherwise the higher card takes it.
    first_wins = player_to_act(history[:-1]) == 1 if folded else cards[0] > cards[1]
    paid_first, paid_second = contributions(history)
    return paid_second if first_wins else -paid_first
