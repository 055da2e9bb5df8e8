"""Simple Negotiation's rules as pure functions: resources, offers, trades, and the reward.

Nothing here knows about turns or seats, so the verifier (``value_change`` and ``trade_reward``) and
the offer parser can be tested on hand-worked numbers without playing a game.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

RESOURCES: tuple[str, ...] = ("Wheat", "Wood", "Sheep", "Brick", "Ore")
BASE_VALUES: dict[str, int] = {"Wheat": 5, "Wood": 10, "Sheep": 15, "Brick": 25, "Ore": 40}
"""TextArena's per-unit base values; each player's private value is drawn around them."""
MIN_QUANTITY, MAX_QUANTITY = 5, 25
VALUE_SPREAD = 0.2
MIN_VALUE, MAX_VALUE = 5, 40

Bundle = Mapping[str, int]
"""Units per resource: an inventory, or one side of an offer."""


@dataclass(frozen=True)
class Offer:
    """A proposed swap, seen from the player who makes it."""

    give: dict[str, int]
    """What the offerer hands over."""
    receive: dict[str, int]
    """What the offerer asks for in return."""


@dataclass(frozen=True)
class Move:
    """One reply, split into its action and the talk around it."""

    kind: Literal["offer", "accept", "deny", "talk"]
    talk: str
    offer: Offer | None = None


def deal_inventory(rng: np.random.Generator) -> dict[str, int]:
    """Between ``MIN_QUANTITY`` and ``MAX_QUANTITY`` units of every resource (TextArena's deal)."""
    return {name: int(rng.integers(MIN_QUANTITY, MAX_QUANTITY + 1)) for name in RESOURCES}


def draw_values(rng: np.random.Generator) -> dict[str, int]:
    """Private per-unit values: base value +-20% (integer part), kept within [5, 40] as in TextArena."""
    values = {}
    for name in RESOURCES:
        base = BASE_VALUES[name]
        spread = int(VALUE_SPREAD * base)
        low, high = max(base - spread, MIN_VALUE), min(base + spread, MAX_VALUE)
        values[name] = int(rng.integers(low, high + 1))
    return values


def bundle_value(bundle: Bundle, values: Mapping[str, int]) -> int:
    """What ``bundle`` is worth at the per-unit prices ``values``."""
    return sum(units * values[name] for name, units in bundle.items())


def value_change(initial_inventory: Bundle, final_inventory: Bundle, values: Mapping[str, int]) -> int:
    """The verifier: how much a player's inventory gained (or lost) at that player's own prices."""
    return bundle_value(final_inventory, values) - bundle_value(initial_inventory, values)


def trade_reward(initial_inventory: Bundle, final_inventory: Bundle, values: Mapping[str, int]) -> float:
    """``clip(value_change / initial_value, -1, 1)``: the relative gain, on the scale of a win (+1).

    Dividing by the starting value makes rewards comparable across deals (inventories are worth
    several hundred to a few thousand); the clip keeps an extreme windfall from dwarfing the invalid-
    move penalty. A loss can never pass -1 anyway, since an inventory is never worth less than 0.
    """
    initial_value = bundle_value(initial_inventory, values)
    if initial_value == 0:
        return 0.0
    change = value_change(initial_inventory, final_inventory, values)
    return float(np.clip(change / initial_value, -1.0, 1.0))


def can_afford(inventory: Bundle, bundle: Bundle) -> bool:
    """Whether ``inventory`` holds at least ``bundle``."""
    return all(inventory.get(name, 0) >= units for name, units in bundle.items())


def apply_trade(
    offerer_inventory: Bundle, acceptor_inventory: Bundle, offer: Offer
) -> tuple[dict[str, int], dict[str, int]]:
    """The two inventories after ``offer`` is carried out; units move, none appear or vanish."""
    if not can_afford(offerer_inventory, offer.give) or not can_afford(acceptor_inventory, offer.receive):
        raise ValueError("a trade needs both sides to hold what they hand over")
    offerer, acceptor = dict(offerer_inventory), dict(acceptor_inventory)
    for name, units in offer.give.items():
        offerer[name] -= units
        acceptor[name] = acceptor.get(name, 0) + units
    for name, units in offer.receive.items():
        acceptor[name] -= units
        offerer[name] = offerer.get(name, 0) + units
    return offerer, acceptor


def format_bundle(bundle: Bundle) -> str:
    """``3 Sheep, 2 Ore`` in the fixed resource order; the form players are asked to write."""
    return ", ".join(f"{bundle[name]} {name}" for name in RESOURCES if bundle.get(name, 0))


def format_offer(offer: Offer) -> str:
    return f"[Offer: {format_bundle(offer.give)} -> {format_bundle(offer.receive)}]"


# The last action tag wins, as everywhere in rlvr (rlvr.core.parsing); offers may be longer than the
# core tags' 64 characters, hence a pattern of our own. Other bracketed text is just talk.
_ACTION_TAG = re.compile(
    r"\[\s*(offer\b[^\[\]]*?|accept|deny)\s*\]|\\boxed\{\s*(offer\b[^{}]*?|accept|deny)\s*\}",
    re.IGNORECASE,
)
_OFFER_HEAD = re.compile(r"^offer\s*:?\s*(?:i\s+(?:give|offer)\s+)?", re.IGNORECASE)
_ARROW = re.compile(r"->|→|=>")
_SEPARATOR = re.compile(r",|;|&|\+|\band\b", re.IGNORECASE)
_ITEM = re.compile(r"^([-+]?\d*\.?\d+)\s*(?:x\s+)?([a-z]+)$", re.IGNORECASE)
_NAMES = {name.casefold(): name for name in RESOURCES}


def parse_move(text: str) -> Move | str:
    """Split a reply into its last action tag and the talk around it; a string says why it is invalid.

    A reply without an action tag is talk, which declines any pending offer.
    """
    matches = list(_ACTION_TAG.finditer(text))
    if not matches:
        return Move("talk", text.strip())
    last = matches[-1]
    talk = " ".join(part.strip() for part in (text[: last.start()], text[last.end() :]) if part.strip())
    payload = " ".join((last.group(1) or last.group(2)).split())
    keyword = payload.casefold()
    if keyword in ("accept", "deny"):
        return Move("accept" if keyword == "accept" else "deny", talk)
    offer = parse_offer(payload)
    if isinstance(offer, str):
        return offer
    return Move("offer", talk, offer)


def parse_offer(text: str) -> Offer | str:
    """Read ``Offer: 3 Sheep, 2 Ore -> 5 Brick`` (the tag's inside); a string says what is wrong.

    Tolerant of case, a missing colon, an "I give"/"I offer" prefix, plural names, "and" between items
    and trailing punctuation; strict about what would change the deal (unknown resources, quantities
    that are not whole numbers of at least 1, a resource on both sides).
    """
    body = _OFFER_HEAD.sub("", " ".join(text.split()), count=1).rstrip(" .!?")
    sides = _ARROW.split(body)
    if len(sides) != 2:
        return f"An offer needs exactly one '->' between what you give and what you ask for, got '{text}'."
    give = _parse_bundle(sides[0], "give")
    if isinstance(give, str):
        return give
    receive = _parse_bundle(sides[1], "ask for")
    if isinstance(receive, str):
        return receive
    both = [name for name in RESOURCES if name in give and name in receive]
    if both:
        return f"{both[0]} is on both sides of the offer; list each resource once."
    return Offer(give=give, receive=receive)


def _parse_bundle(text: str, side: str) -> dict[str, int] | str:
    bundle: dict[str, int] = {}
    for item in (piece.strip(" .!?") for piece in _SEPARATOR.split(text)):
        if not item:
            continue
        match = _ITEM.match(item)
        if match is None:
            return f"Could not read '{item}'; write each item as a quantity and a resource, like '3 Sheep'."
        quantity, word = match.groups()
        if not quantity.isdigit() or int(quantity) < 1:
            return f"Quantities must be whole numbers of at least 1, got '{item}'."
        name = _resource_name(word)
        if name is None:
            return f"Unknown resource '{word}'; the resources are {', '.join(RESOURCES)}."
        bundle[name] = bundle.get(name, 0) + int(quantity)
    if not bundle:
        return f"The offer names nothing to {side}."
    return bundle


def _resource_name(word: str) -> str | None:
    key = word.casefold()
    if key not in _NAMES and key.endswith("s"):
        key = key[:-1]
    return _NAMES.get(key)
