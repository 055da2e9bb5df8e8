"""Simple Negotiation as a ``TurnGame``: two traders, private prices, a fixed number of turns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from rlvr.core.game import Bot, TurnGame
from rlvr.envs.games.simple_negotiation import rules
from rlvr.envs.games.simple_negotiation.bots import greedy_move, random_move
from rlvr.envs.games.simple_negotiation.rules import Offer

SeatPolicy = Callable[[Mapping[str, int], Mapping[str, int], Offer | None, np.random.Generator], str]
"""A bot's decision from one seat's view: (inventory, values, offer to it, rng) -> reply."""


def _seat_bot(policy: SeatPolicy) -> Bot:
    """Hand ``policy`` only what its seat may see."""

    def bot(game: TurnGame, role: str, rng: np.random.Generator) -> str:
        assert isinstance(game, SimpleNegotiation)
        return policy(game.inventories[role], game.values[role], game.offer_to(role), rng)

    return bot


class SimpleNegotiation(TurnGame):
    """Two players trade resources they value differently; each scores its own gain in value.

    The game ends *naturally* after ``turns`` valid moves with rewards from the final inventories;
    the base class's ``max_turns`` stays a safety limit (truncation, 0 / 0) and must exceed ``turns``.
    """

    name: ClassVar[str] = "SimpleNegotiation"
    bots: ClassVar[dict[str, Bot]] = {
        "random": _seat_bot(random_move),
        "greedy": _seat_bot(greedy_move),
    }

    def __init__(self, *, turns: int = 10, **options: Any) -> None:
        super().__init__(**options)
        if turns < 1:
            raise ValueError("turns must be >= 1")
        if self.max_turns <= turns:
            raise ValueError(
                f"max_turns ({self.max_turns}) must exceed turns ({turns}): the negotiation ends by "
                "itself after `turns` moves and max_turns is only the safety limit"
            )
        self.turns = int(turns)
        self.inventories: dict[str, dict[str, int]] = {}
        self.initial_inventories: dict[str, dict[str, int]] = {}
        self.values: dict[str, dict[str, int]] = {}
        self.pending: tuple[str, Offer] | None = None
        """The standing offer and who made it; void after the other player's next move."""
        self.moves = 0
        self.trades = 0

    # ----------------------------------------------------------------- helpers
    def _other(self, role: str) -> str:
        return self.roles[1 - self.roles.index(role)]

    def offer_to(self, role: str) -> Offer | None:
        """The offer ``role`` may accept right now, if any."""
        if self.pending is None or self.pending[0] == role:
            return None
        return self.pending[1]

    def _inventory_line(self, role: str) -> str:
        now = rules.bundle_value(self.inventories[role], self.values[role])
        start = rules.bundle_value(self.initial_inventories[role], self.values[role])
        return (
            f"Your inventory: {rules.format_bundle(self.inventories[role])} "
            f"(worth {now} at your prices; {start} at the start)."
        )

    # ----------------------------------------------------------------- TurnGame
    def instructions(self, role: str) -> str:
        values = self.values[role]
        start = self.initial_inventories[role]
        holdings = "\n".join(
            f"  {name}: {start[name]} units, worth {values[name]} each" for name in rules.RESOURCES
        )
        own_turns = (self.turns + (role == self.roles[0])) // 2
        retry = f" You may retry {self.invalid_retries} time(s) first." if self.invalid_retries else ""
        return (
            f"You are {role} in Simple Negotiation, a trading game for two players.\n"
            "You start with these resources, at your own private values per unit (the other player "
            "values them differently and cannot see your values):\n"
            f"{holdings}\n"
            f"Total value: {rules.bundle_value(start, values)}.\n\n"
            f"The game lasts {self.turns} turns in total; players alternate, {self.roles[0]} first, so "
            f"you have {own_turns}. On your turn write whatever you like to the other player, plus at "
            "most one action (if you write several, the last one counts):\n"
            "  [Offer: 3 Sheep, 2 Ore -> 5 Brick]  you give what is left of the arrow and receive what "
            "is right of it; you must own what you give.\n"
            "  [Accept]  take the offer the other player made on their last turn (you must own what it "
            "asks of you).\n"
            "  [Deny]    decline it. A reply with no action declines too and just passes on your words.\n"
            "An offer stands only until the other player's next move.\n"
            "A malformed or unaffordable offer, or [Accept] with no offer to accept or that you cannot "
            f"pay, is an invalid move: it ends the game with reward {self.invalid_penalty:+g} for you "
            f"and {self.invalid_reward_others:+g} for the other player.{retry}\n"
            "Your reward at the end is (final value - starting value) / starting value at your own "
            "prices, clipped to [-1, 1]: trade away what you value little for what you value more."
        )

    def _setup(self) -> None:
        self.initial_inventories = {role: rules.deal_inventory(self.rng) for role in self.roles}
        self.values = {role: rules.draw_values(self.rng) for role in self.roles}
        self.inventories = {role: dict(start) for role, start in self.initial_inventories.items()}
        self.pending = None
        self.moves = 0
        self.trades = 0
        self.tell(f"The negotiation begins: {self.turns} turns, {self.roles[0]} moves first.")
        for role in self.roles:
            self.tell(self._inventory_line(role), to=role)

    def _legal_actions(self) -> list[str] | None:
        """Offers are open-ended, so there is no finite move list (the bots are this game's own)."""
        return None

    def _play(self, text: str) -> str | None:
        role = self.current_role
        assert role is not None
        other = self._other(role)
        move = rules.parse_move(text)
        if isinstance(move, str):
            return move
        incoming = self.offer_to(role)
        reason = self._why_impossible(role, move, incoming)
        if reason is not None:
            return reason

        if move.talk:
            self.tell(f"{role} says: {move.talk}", to=other)
        self.pending = None
        declined = f"{role} declines {other}'s offer. " if incoming is not None else ""
        if move.kind == "accept":
            assert incoming is not None
            self._trade(offerer=other, acceptor=role, offer=incoming)
        elif move.kind == "offer":
            assert move.offer is not None
            self.pending = (role, move.offer)
            self.tell(
                f"{declined}{role} offers to give {rules.format_bundle(move.offer.give)} in exchange for "
                f"{rules.format_bundle(move.offer.receive)} from {other}; {other} may [Accept] next turn."
            )
        else:
            self.tell(f"{declined}{role} makes no offer.")

        self.moves += 1
        if self.moves >= self.turns:
            self._finish_naturally()
        else:
            self.current_role = other
            left = self.turns - self.moves
            self.tell(f"{left} turn{'s' if left != 1 else ''} left; {other} to move.")
        return None

    def _why_impossible(self, role: str, move: rules.Move, incoming: Offer | None) -> str | None:
        """Why ``move`` cannot be carried out from ``role``'s inventory, or ``None`` if it can."""
        holdings = rules.format_bundle(self.inventories[role])
        if move.kind == "offer":
            assert move.offer is not None
            if not rules.can_afford(self.inventories[role], move.offer.give):
                return f"You offered {rules.format_bundle(move.offer.give)} but hold only {holdings}."
        if move.kind == "accept":
            if incoming is None:
                return f"There is no offer from {self._other(role)} to accept; make an offer or [Deny]."
            if not rules.can_afford(self.inventories[role], incoming.receive):
                return (
                    f"You cannot accept: the offer asks for {rules.format_bundle(incoming.receive)} "
                    f"and you hold only {holdings}."
                )
        return None

    def _trade(self, *, offerer: str, acceptor: str, offer: Offer) -> None:
        self.inventories[offerer], self.inventories[acceptor] = rules.apply_trade(
            self.inventories[offerer], self.inventories[acceptor], offer
        )
        self.trades += 1
        self.tell(
            f"{acceptor} accepts: {offerer} gave {rules.format_bundle(offer.give)} and received "
            f"{rules.format_bundle(offer.receive)}."
        )
        for role in (offerer, acceptor):
            self.tell(self._inventory_line(role), to=role)

    def _finish_naturally(self) -> None:
        returns = {}
        for role in self.roles:
            initial, final = self.initial_inventories[role], self.inventories[role]
            returns[role] = rules.trade_reward(initial, final, self.values[role])
            change = rules.value_change(initial, final, self.values[role])
            self.tell(
                f"Your inventory value changed by {change:+d} at your prices; your reward is "
                f"{returns[role]:+.4f}.",
                to=role,
            )
        deals = f"{self.trades} trade{'s' if self.trades != 1 else ''}"
        self.finish(returns, f"The negotiation ended after {self.turns} turns with {deals}.")

    def _role_metrics(self, role: str) -> dict[str, float]:
        initial = rules.bundle_value(self.initial_inventories[role], self.values[role])
        final = rules.bundle_value(self.inventories[role], self.values[role])
        return {
            "value_change": float(final - initial),
            "initial_value": float(initial),
            "final_value": float(final),
            "trades": float(self.trades),
            "deal": float(self.trades > 0),
        }

    def render(self) -> str:
        lines = [f"Turn {self.moves}/{self.turns}, {self.trades} trade(s)."]
        for role in self.roles:
            holdings = ", ".join(
                f"{self.inventories[role][name]} {name} @{self.values[role][name]}"
                for name in rules.RESOURCES
            )
            lines.append(f"{role}: {holdings}")
        if self.pending is not None:
            offerer, offer = self.pending
            lines.append(f"Pending from {offerer}: {rules.format_offer(offer)}")
        return "\n".join(lines)
