"""The sentences the engine answers with, worded as ALFWorld's TextWorld grammar words them.

Agents prompted or trained on ALFWorld transcripts key on these exact strings ("Nothing happens.",
"You arrive at ...", "a apple 1" with TextWorld's fixed article), so they are reproduced verbatim,
quirks included; only ``help`` is our own wording, listing the ``put`` variants we also accept.
"""

from __future__ import annotations

from collections.abc import Iterable

from rlvr.envs.alfworld.state import Household, Receptacle, Thing

NOTHING_HAPPENS = "Nothing happens."

INSTRUCTIONS_HEAD = (
    "You are a robot in a household, in a text game (ALFWorld). Each game is one room and one "
    "task: put an object somewhere, possibly after cleaning, heating or cooling it, put two "
    "objects somewhere, or examine an object under a lamp.\n\n"
    "Reply with exactly one command per turn:\n"
    "  look | inventory | go to {receptacle} | open {receptacle} | close {receptacle}\n"
    "  take {object} from {receptacle} | move {object} to {receptacle}\n"
    "  heat {object} with {microwave} | clean {object} with {sinkbasin} | cool {object} with "
    "{fridge}\n"
    "  use {lamp} | slice {object} with {knife} | examine {something} | help\n\n"
    'Use the names exactly as you see them ("cabinet 3", "apple 1"). '
)
"""The task and the command grammar, the same for the native engine and the TextWorld adapter; each
env appends the rules its engine enforces and the step budget."""
WELCOME = "-= Welcome to TextWorld, ALFRED! =-"

HELP = """
Available commands:
  look:                                  look around your current location
  inventory:                             check your current inventory
  go to (receptacle):                    move to a receptacle
  open (receptacle):                     open a receptacle
  close (receptacle):                    close a receptacle
  take (object) from (receptacle):       take an object from a receptacle
  move (object) to (receptacle):         place an object in or on a receptacle
  put (object) in/on (receptacle):       the same, in ALFWorld's older wording
  examine (something):                   examine a receptacle or an object
  use (object):                          switch a lamp on or off
  heat (object) with (receptacle):       heat an object using a microwave
  clean (object) with (receptacle):      clean an object using a sink basin
  cool (object) with (receptacle):       cool an object using a fridge
  slice (object) with (object):          slice an object using a knife you hold
"""


def listing_key(entity: Receptacle | Thing) -> tuple[str, int]:
    """ALFWorld lists things by kind, and within a kind from the highest number down."""
    return entity.kind, -entity.number


def a_list(names: Iterable[str]) -> str:
    """TextWorld's list: "nothing", "a x", or "a x, a y, and a z" (its serial ", and" even for two)."""
    items = [f"a {name}" for name in names]
    if not items:
        return "nothing"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + ", and " + items[-1]


def contents(house: Household, receptacle: Receptacle) -> str:
    things = sorted((house.things[index] for index in receptacle.contents), key=listing_key)
    return a_list(thing.name for thing in things)


def receptacle_view(house: Household, receptacle: Receptacle) -> str:
    name = receptacle.name
    if receptacle.openable:
        if receptacle.is_open:
            return f"The {name} is open. In it, you see {contents(house, receptacle)}."
        return f"The {name} is closed."
    return f"On the {name}, you see {contents(house, receptacle)}."


def room_view(house: Household) -> str:
    names = a_list(r.name for r in sorted(house.receptacles, key=listing_key))
    return f"You are in the middle of a room. Looking quickly around you, you see {names}."


def look(house: Household) -> str:
    if house.location is None:
        return room_view(house)
    return f"You are facing the {house.receptacles[house.location].name}. Next to it, you see nothing."


def intro(house: Household) -> str:
    return f"{WELCOME}\n\n{room_view(house)}\n\nYour task is to: {house.goal.text}"


def inventory(house: Household) -> str:
    if house.held is None:
        return "You are not carrying anything."
    return f"You are carrying: a {house.things[house.held].name}."


def describe(thing: Thing) -> str:
    """ALFWorld's ``examine`` of an object: its most specific state sentence."""
    name = thing.name
    if thing.sliced:
        if thing.clean and thing.hot:
            return f"This is a hot and clean sliced {name}."
        if thing.clean and thing.cool:
            return f"This is a cool and clean sliced {name}."
        if thing.clean:
            return f"This is a clean sliced {name}."
        if thing.hot:
            return f"This is a hot sliced {name}."
        if thing.cool:
            return f"This is a cool sliced {name}."
    if thing.clean and thing.hot:
        return f"This is a hot and clean {name}."
    if thing.clean and thing.cool:
        return f"This is a cool and clean {name}."
    if thing.hot:
        return f"This is a hot {name}."
    if thing.clean:
        return f"This is a clean {name}."
    if thing.cool:
        return f"This is a cold {name}."
    if thing.props.light:
        return f"This {name} is {'on' if thing.on else 'off'}."
    if thing.sliced:
        return f"This is a sliced {name}."
    return f"There's nothing special about {name}."
