"""Exact solver for one hand of Kuhn Poker: Nash strategies, expected values, best responses.

A behaviour strategy maps an information set ``(own card, public history)`` to the probability of the
aggressive move there (``bet``, or ``call`` facing a bet; see ``rules.aggressive_move``). The first
player to act decides at histories ``""`` and ``"cb"``, the second at ``"c"`` and ``"b"``, so one
dict may hold both seats' strategies without clashing.

Everything is computed by enumeration of the 6 deals and the action tree, with no sampling; given
``fractions.Fraction`` probabilities the results are exact, which is what lets the tests assert the
game value -1/18 (Kuhn 1950) and zero exploitability at Nash with ``==``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from fractions import Fraction

from rlvr.envs.games.kuhn_poker.rules import (
    CARD_NAMES,
    DECISION_HISTORIES,
    aggressive_move,
    hand_result,
    is_terminal,
    passive_move,
    play,
    player_to_act,
)

Probability = float | Fraction
InfoSet = tuple[int, str]
Strategy = Mapping[InfoSet, Probability]

CARDS: tuple[int, ...] = tuple(range(len(CARD_NAMES)))
DEALS: tuple[tuple[int, int], ...] = tuple(itertools.permutations(CARDS, 2))
_DEAL_CHANCE = Fraction(1, len(DEALS))


def info_sets(position: int) -> tuple[InfoSet, ...]:
    """The information sets of the hand's first (``0``) or second (``1``) player."""
    histories = [h for h in DECISION_HISTORIES if player_to_act(h) == position]
    return tuple((card, history) for card in CARDS for history in histories)


def _check_position(position: int) -> None:
    if position not in (0, 1):
        raise ValueError(f"position must be 0 (first to act) or 1 (second), got {position!r}")


def _check_strategy(strategy: Strategy, position: int) -> None:
    for info_set in info_sets(position):
        if info_set not in strategy:
            raise ValueError(f"the strategy of position {position} has no probability for {info_set}")
        if not 0 <= strategy[info_set] <= 1:
            raise ValueError(f"probability {strategy[info_set]!r} at {info_set} is outside [0, 1]")


DEFAULT_ALPHA = Fraction(1, 6)
"""The middle of the Nash family: the bots' default, because it mixes wherever Nash allows (bluffs J
1/6 of the time, bets K half the time), which makes it the hardest member to read."""


def nash_strategy(alpha: Probability) -> dict[InfoSet, Probability]:
    """The first player's Nash equilibrium family of Kuhn (1950), one member per alpha in [0, 1/3].

    Bet J with probability alpha (a bluff), never open with Q, bet K with 3*alpha (slow-playing it
    otherwise); after check-bet, fold J, call with Q with alpha + 1/3, always call with K. Every member
    has the same value, -1/18 per hand, against the second player's Nash strategy.
    """
    if not 0 <= alpha <= Fraction(1, 3):
        raise ValueError(f"alpha must lie in [0, 1/3] for a Nash strategy, got {alpha!r}")
    jack, queen, king = CARDS
    return {
        (jack, ""): alpha,
        (queen, ""): 0,
        (king, ""): 3 * alpha,
        (jack, "cb"): 0,
        (queen, "cb"): alpha + Fraction(1, 3),
        (king, "cb"): 1,
    }


def nash_second_strategy() -> dict[InfoSet, Probability]:
    """The second player's Nash strategy, unique (Kuhn 1950).

    Always bet or call with K; with Q check behind and call a bet 1/3 of the time; with J bluff 1/3
    of the time after a check and fold to a bet.
    """
    jack, queen, king = CARDS
    return {
        (jack, "c"): Fraction(1, 3),
        (queen, "c"): 0,
        (king, "c"): 1,
        (jack, "b"): 0,
        (queen, "b"): Fraction(1, 3),
        (king, "b"): 1,
    }


def uniform_random_strategy() -> dict[InfoSet, Probability]:
    """Aggressive or passive with equal chance everywhere; valid for either position."""
    return {(card, history): Fraction(1, 2) for card in CARDS for history in DECISION_HISTORIES}


def _hand_value(deal: tuple[int, int], history: str, first: Strategy, second: Strategy) -> Probability:
    """The first player's expected net chips from ``history`` on, given the deal."""
    if is_terminal(history):
        result = hand_result(deal, history)
        assert result is not None
        return result
    mover = player_to_act(history)
    p_aggressive = (first, second)[mover][(deal[mover], history)]
    aggressive = _hand_value(deal, play(history, aggressive_move(history)), first, second)
    passive = _hand_value(deal, play(history, passive_move(history)), first, second)
    return p_aggressive * aggressive + (1 - p_aggressive) * passive


def expected_value(first_strategy: Strategy, second_strategy: Strategy) -> Probability:
    """The first player's expected net chips per hand, averaged over the 6 equally likely deals."""
    _check_strategy(first_strategy, 0)
    _check_strategy(second_strategy, 1)
    return sum(
        (_DEAL_CHANCE * _hand_value(deal, "", first_strategy, second_strategy) for deal in DEALS),
        start=Fraction(0),
    )


def _responder_value(
    card: int,
    history: str,
    reach: dict[int, Probability],
    opponent: Strategy,
    position: int,
    choices: dict[InfoSet, Probability],
) -> Probability:
    """The responder's best value below ``history`` holding ``card``, summed over opponent cards.

    ``reach`` weighs each opponent card by chance times the opponent's probability of playing to
    ``history``. The responder cannot tell these cards apart, so at its own information set it picks
    the move that is best against the weighted mixture, recording it in ``choices``. Information sets
    below are solved first (backward induction), and the value is linear in ``reach``.
    """
    if is_terminal(history):
        sign = 1 if position == 0 else -1
        total: Probability = 0
        for other, weight in reach.items():
            deal = (card, other) if position == 0 else (other, card)
            result = hand_result(deal, history)
            assert result is not None
            total += weight * sign * result
        return total
    if player_to_act(history) == position:
        values = {
            move: _responder_value(card, play(history, move), reach, opponent, position, choices)
            for move in (passive_move(history), aggressive_move(history))
        }
        best = max(values, key=lambda move: values[move])  # ties go to the passive move
        choices[(card, history)] = int(best == aggressive_move(history))
        return values[best]
    to_aggressive = {other: w * opponent[(other, history)] for other, w in reach.items()}
    to_passive = {other: w * (1 - opponent[(other, history)]) for other, w in reach.items()}
    return _responder_value(
        card, play(history, aggressive_move(history)), to_aggressive, opponent, position, choices
    ) + _responder_value(card, play(history, passive_move(history)), to_passive, opponent, position, choices)


def best_response_value(
    opponent_strategy: Strategy, responder_position: int
) -> tuple[Probability, dict[InfoSet, Probability]]:
    """The best expected value per hand against ``opponent_strategy``, and a pure strategy that gets it.

    ``responder_position`` is the responder's seat in the hand (0 first to act, 1 second); the value is
    from the responder's side, so at Nash it is -1/18 for position 0 and +1/18 for position 1.
    """
    _check_position(responder_position)
    _check_strategy(opponent_strategy, 1 - responder_position)
    choices: dict[InfoSet, Probability] = {}
    value = sum(
        (
            _responder_value(
                card,
                "",
                {other: _DEAL_CHANCE for other in CARDS if other != card},
                opponent_strategy,
                responder_position,
                choices,
            )
            for card in CARDS
        ),
        start=Fraction(0),
    )
    return value, {info_set: choices[info_set] for info_set in info_sets(responder_position)}


def brute_force_best_response_value(opponent_strategy: Strategy, responder_position: int) -> Probability:
    """The best value against ``opponent_strategy`` found by trying all 2**6 pure strategies.

    Independent of ``best_response_value`` (it only uses ``expected_value``), so the two check each
    other in the tests.
    """
    _check_position(responder_position)
    sets = info_sets(responder_position)
    values = []
    for bits in itertools.product((0, 1), repeat=len(sets)):
        pure = dict(zip(sets, bits, strict=True))
        if responder_position == 0:
            values.append(expected_value(pure, opponent_strategy))
        else:
            values.append(-expected_value(opponent_strategy, pure))
    return max(values)


def exploitability(first_strategy: Strategy, second_strategy: Strategy) -> Probability:
    """How much a best responder gains on average over both seats; 0 exactly at a Nash equilibrium.

    ``(BR_0(second) + BR_1(first)) / 2``: the game value cancels (-1/18 + 1/18), so what remains is
    what the pair leaves on the table.
    """
    first_br, _ = best_response_value(second_strategy, 0)
    second_br, _ = best_response_value(first_strategy, 1)
    return (first_br + second_br) / 2
