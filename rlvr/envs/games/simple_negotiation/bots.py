"""Scripted traders, written against one seat's view only: its inventory, its values, the offer to it.

Taking the view as arguments (rather than the game) makes it impossible for a bot to peek at the
other player's private values.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rlvr.envs.games.simple_negotiation.rules import (
    BASE_VALUES,
    RESOURCES,
    Offer,
    bundle_value,
    can_afford,
    format_offer,
)

MAX_UNITS_ASKED = 3
"""Bots ask for 1 to 3 units per offer, so their trades stay small and numerous."""


def random_move(
    inventory: Mapping[str, int],
    values: Mapping[str, int],
    incoming: Offer | None,
    rng: np.random.Generator,
) -> str:
    """Uniform over declining, a random affordable one-for-one-resource offer, and (if possible) accepting."""
    choices = ["deny", "offer"]
    if incoming is not None and can_afford(inventory, incoming.receive):
        choices.append("accept")
    choice = choices[int(rng.integers(len(choices)))]
    owned = [name for name in RESOURCES if inventory.get(name, 0) > 0]
    if choice == "accept":
        return "[Accept]"
    if choice == "deny" or not owned:
        return "[Deny]"
    give = owned[int(rng.integers(len(owned)))]
    wanted = [name for name in RESOURCES if name != give]
    receive = wanted[int(rng.integers(len(wanted)))]
    give_units = int(rng.integers(1, min(MAX_UNITS_ASKED, inventory[give]) + 1))
    receive_units = int(rng.integers(1, MAX_UNITS_ASKED + 1))
    return format_offer(Offer(give={give: give_units}, receive={receive: receive_units}))


def greedy_move(
    inventory: Mapping[str, int],
    values: Mapping[str, int],
    incoming: Offer | None,
    rng: np.random.Generator,
) -> str:
    """Accept any offer that raises its own value; otherwise propose its most profitable fair-looking swap.

    "Fair-looking" means even at the public base values (TextArena's 5/10/15/25/40), so a counterpart
    whose values lean the other way gains too and may accept. Deterministic: ``rng`` is unused.
    """
    if (
        incoming is not None
        and can_afford(inventory, incoming.receive)
        and bundle_value(incoming.give, values) > bundle_value(incoming.receive, values)
    ):
        return "[Accept]"
    offer = best_fair_swap(inventory, values)
    return "[Deny]" if offer is None else format_offer(offer)


def best_fair_swap(inventory: Mapping[str, int], values: Mapping[str, int]) -> Offer | None:
    """The swap of one resource for another, even at base values, that gains the most at ``values``."""
    best: Offer | None = None
    best_gain = 0
    for give in RESOURCES:
        for receive in RESOURCES:
            if receive == give:
                continue
            for receive_units in range(1, MAX_UNITS_ASKED + 1):
                give_units = max(1, round(receive_units * BASE_VALUES[receive] / BASE_VALUES[give]))
                if give_units > inventory.get(give, 0):
                    continue
                gain = receive_units * values[receive] - give_units * values[give]
                if gain > best_gain:
                    best, best_gain = Offer({give: give_units}, {receive: receive_units}), gain
    return best
