"""Simple Negotiation (``rlvr/SimpleNegotiation-v0``): two traders with private prices swap resources.

The rules live in ``rules`` (pure functions, including the verifier), the turn logic in ``game``, the
scripted traders in ``bots``; this module only names the two env views.
"""

from __future__ import annotations

from rlvr.core.game_envs import GameAECEnv, GameEnv
from rlvr.envs.games.simple_negotiation.game import SimpleNegotiation

__all__ = ["SimpleNegotiation", "SimpleNegotiationAECEnv", "SimpleNegotiationEnv"]


class SimpleNegotiationEnv(GameEnv):
    """Simple Negotiation, after TextArena's ``SimpleNegotiation-v0``, seen from one seat.

    ## Rules
    Each player holds 5 to 25 units of each of Wheat, Wood, Sheep, Brick and Ore and values them at
    private per-unit prices: the base values 5 / 10 / 15 / 25 / 40 plus or minus 20% (integer
    part), kept within [5, 40]. Players alternate for ``turns`` moves (``player_0`` first). On a
    turn a player may write any text to the other player plus one action; if a reply holds several
    action tags the last one counts (``\\boxed{...}`` works as well as ``[...]``):

    * ``[Offer: 3 Sheep, 2 Ore -> 5 Brick]``: give the left side for the right side. The offerer must
      hold what it gives. Case, a missing colon, an "I give" prefix, plural names and "and" between
      items are tolerated; unknown resources, quantities other than whole numbers >= 1, and a
      resource on both sides are not.
    * ``[Accept]``: carry out the offer the other player made on its last move; the acceptor must
      hold what the offer asks for.
    * ``[Deny]``, or no action at all: decline any pending offer and pass. Plain talk is a valid move.

    An offer is void after the other player's next move unless accepted. Trades move units between
    the players: none are created or destroyed.

    ## Observation
    Text: the other player's words (``player_0 says: ...``), each action and trade as it happens,
    one's own inventory after each trade, and the turns left. ``info["instructions"]`` (the system
    prompt) lists one's own starting inventory and private values. The other player's values are
    never shown.

    ## Action
    Any string; see the rules. There is no finite move list, so ``info`` has no ``legal_actions``.

    ## Reward
    At the natural end, per player: ``clip((final value - starting value) / starting value, -1, 1)``
    at that player's own prices (``rules.trade_reward``). The game is general-sum: both players can
    gain from a trade. ``info["metrics"]`` adds the raw numbers ``value_change``, ``initial_value``,
    ``final_value``, ``trades`` and ``deal`` (1 if any trade happened). TextArena instead declares the
    player with the larger gain the winner (+1 / -1); we keep the gain itself as the verifiable
    reward, and ``metrics["win"]`` still says who gained more in relative terms.

    An invalid move (malformed or unaffordable offer, ``[Accept]`` with no offer or without the means
    to pay) ends the game: ``invalid_penalty`` (-1.5) for the offender, ``invalid_reward_others``
    (+0.5) for the other (SPIRAL), after ``invalid_retries`` (0) retries.

    ## Episode end
    Terminated after ``turns`` valid moves, or by an invalid move. Truncated (0 / 0) after
    ``max_turns`` moves counting invalid ones, which only retries can reach.

    ## Arguments
    * ``turns`` (10): moves in the whole negotiation, both players together.
    * ``max_turns`` (50): the safety limit; must exceed ``turns``.
    * ``invalid_penalty``, ``invalid_reward_others``, ``invalid_retries``: see ``TurnGame``.
    * ``opponent`` (``"random"``): ``"random"`` (declines, makes a small random affordable offer, or
      accepts when it can, uniformly) or ``"greedy"`` (accepts any offer that raises its own value,
      else proposes the swap that is even at base values and gains it most); ``seat`` and
      ``max_action_length``: see ``GameEnv``.

    ## Version history
    * v0: initial.
    """

    game_class = SimpleNegotiation


class SimpleNegotiationAECEnv(GameAECEnv):
    """Simple Negotiation with both traders as PettingZoo agents; the rules are those of
    ``SimpleNegotiationEnv``. Rewards arrive for both seats when the game ends."""

    game_class = SimpleNegotiation
