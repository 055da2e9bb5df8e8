"""Kuhn Poker (Kuhn 1950): ``rlvr/KuhnPoker-v0``, a two-seat zero-sum text game with a known solution.

``rules`` is one hand as pure functions, ``game`` the match as a ``TurnGame``, ``strategy`` an exact
solver (Nash family, expected values, best responses, exploitability) and ``bots`` the scripted seats.
"""

from __future__ import annotations

from rlvr.core.game_envs import GameAECEnv, GameEnv
from rlvr.envs.games.kuhn_poker.game import HandRecord, KuhnPoker
from rlvr.envs.games.kuhn_poker.strategy import (
    DEFAULT_ALPHA,
    best_response_value,
    brute_force_best_response_value,
    expected_value,
    exploitability,
    nash_second_strategy,
    nash_strategy,
    uniform_random_strategy,
)

__all__ = [
    "DEFAULT_ALPHA",
    "HandRecord",
    "KuhnPoker",
    "KuhnPokerAECEnv",
    "KuhnPokerEnv",
    "best_response_value",
    "brute_force_best_response_value",
    "expected_value",
    "exploitability",
    "nash_second_strategy",
    "nash_strategy",
    "uniform_random_strategy",
]


class KuhnPokerEnv(GameEnv):
    """Kuhn Poker, one seat learning against a scripted or text opponent.

    **Rules** (Kuhn 1950). A deck of three cards, J < Q < K. Each hand both players ante 1 chip and
    get one private card. With no bet pending a player may ``check`` or ``bet`` (1 chip); facing a
    bet, ``call`` (1 chip) or ``fold``. Check-check and bet-call go to showdown, where the higher card
    takes the pot; after a fold the bettor takes it. Net result of a hand: +-1 for an unbet showdown
    or a fold, +-2 for a called showdown. Every chip bet goes into the pot and the winner takes the
    whole pot, so chips are conserved and the game is zero-sum with the textbook solution: the first
    player's value under Nash play is -1/18 per hand. A match is ``rounds`` hands; ``player_0`` acts
    first in hand 1 and the first seat alternates each hand.

    Unlike TextArena 0.7.4's ``KuhnPoker`` (which SPIRAL trains on), bets and calls are added to the
    pot: there they never are, so betting is free, every hand is worth +-1 whatever is played, and
    the game is not Kuhn Poker (its values and equilibria differ).

    **Observation.** Text: what this seat was told since its last move. At a hand's start: the hand
    number and who opens, then the seat's own card ("Your card: Q."); the other seat's moves
    ("player_1 bets (pot: 3)."; a seat is not told its own move back); at the mover's turn its legal
    moves ("Your move. Legal moves: [check], [bet]."); at a hand's end the last move, the showdown
    cards (not shown after a fold), the winner, the pot and both chip totals.
    ``info["instructions"]`` on reset holds the rules prompt; ``info["legal_actions"]`` the legal
    moves when it is this seat's turn.

    **Action.** Text naming one of ``check``, ``bet``, ``call``, ``fold`` as ``[bet]``,
    ``\\boxed{bet}`` or the bare word; case does not matter and the last tagged move wins. A move that
    is not legal now (``[call]`` with no bet pending) or names none is invalid.

    **Reward.** Once, at the end of the match: +1 for more chips than the opponent, -1 for fewer, 0
    if level. An invalid move ends the episode at once with -1.5 for the offender and +0.5 for the
    other seat (SPIRAL; ``invalid_penalty``, ``invalid_reward_others``, ``invalid_retries``).
    ``info["metrics"]`` at the end adds ``chip_diff`` (own chips minus opponent's) and
    ``hands_played``.

    **Episode end.** Terminated after the last hand or an invalid move. Truncated with reward 0 for
    both after ``max_turns`` moves (default ``max(50, 3 * rounds)``: SPIRAL's 50, raised so that a
    long match, at most 3 moves a hand, is never cut short by the limit alone).

    **Arguments.** ``rounds`` (3, as TextArena; 5/9/15/25 are common variants), ``opponent``
    (``"random"``, ``"optimal"`` = ``"nash"`` with alpha 1/6, ``("nash", {"alpha": 0.2})``, or a
    ``str -> str`` callable), ``seat``, ``max_action_length``, and the ``TurnGame`` options above.

    **Version history.** v0: initial.
    """

    game_class = KuhnPoker


class KuhnPokerAECEnv(GameAECEnv):
    """Kuhn Poker with both seats as PettingZoo agents ``player_0`` and ``player_1``.

    Rules, observations, actions and rewards are those of ``KuhnPokerEnv``; ``observe(agent)`` is the
    text queued for that agent since it last moved.
    """

    game_class = KuhnPoker
