"""Scripted Kuhn Poker players that follow a behaviour strategy from ``strategy``.

A bot sees only what its seat may see: its own card, the public history of the current hand, and
whether it acts first in this hand. It draws from the rng it is given, so a seeded env replays it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from rlvr.core.game import Bot, TurnGame
from rlvr.envs.games.kuhn_poker.rules import aggressive_move, passive_move
from rlvr.envs.games.kuhn_poker.strategy import (
    DEFAULT_ALPHA,
    Probability,
    Strategy,
    nash_second_strategy,
    nash_strategy,
)

if TYPE_CHECKING:
    from rlvr.envs.games.kuhn_poker.game import KuhnPoker


def strategy_bot(first_strategy: Strategy, second_strategy: Strategy) -> Bot:
    """A bot playing ``first_strategy`` in hands it opens and ``second_strategy`` in the others."""

    def bot(game: TurnGame, role: str, rng: np.random.Generator) -> str:
        kuhn = cast("KuhnPoker", game)
        history = kuhn.public_history()
        strategy = first_strategy if kuhn.position_of(role) == 0 else second_strategy
        p_aggressive = strategy[(kuhn.card_of(role), history)]
        move = aggressive_move(history) if rng.random() < p_aggressive else passive_move(history)
        return f"[{move}]"

    return bot


def nash_bot(alpha: Probability = DEFAULT_ALPHA) -> Bot:
    """Kuhn's (1950) equilibrium: the alpha member of the family when opening, the unique second
    player strategy otherwise. No opponent can expect more than the game value against it: -1/18 per
    hand the opponent opens, +1/18 per hand it answers."""
    return strategy_bot(nash_strategy(alpha), nash_second_strategy())
