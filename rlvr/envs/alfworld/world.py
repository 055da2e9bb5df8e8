"""What a household is made of: object kinds, receptacle kinds, rooms, and what fits where.

The tables follow ALFRED's scenes in spirit (the same four room types, the same object and
receptacle vocabulary, the same affordances: only sinks clean, microwaves heat, fridges cool) but
are our own, smaller and written by category, so a reader can check a placement at a glance. Names
are ALFWorld's lower-case, space-free type names (``"sinkbasin"``, ``"remotecontrol"``), because
those are the words agents trained on ALFWorld expect.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- objects -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ObjectKind:
    """Affordances of one object type; every object but a lamp can be picked up."""

    name: str
    cleanable: bool = False
    heatable: bool = False
    coolable: bool = False
    sliceable: bool = False
    sharp: bool = False
    """Can slice things (knives)."""
    light: bool = False
    """A lamp: cannot be picked up, can be switched on and off with ``use``."""

    @property
    def pickupable(self) -> bool:
        return not self.light


def _kinds(flags: dict[str, str]) -> dict[str, ObjectKind]:
    """Flags: c cleanable, h heatable, k coolable (cold), s sliceable, x sharp, l light source."""
    return {
        name: ObjectKind(
            name,
            cleanable="c" in code,
            heatable="h" in code,
            coolable="k" in code,
            sliceable="s" in code,
            sharp="x" in code,
            light="l" in code,
        )
        for name, code in flags.items()
    }


OBJECT_KINDS: dict[str, ObjectKind] = _kinds(
    {
        # food
        "apple": "chks",
        "bread": "hks",
        "egg": "chk",
        "lettuce": "cks",
        "potato": "chks",
        "tomato": "chks",
        # dishes
        "bowl": "ck",
        "cup": "chk",
        "mug": "chk",
        "plate": "chk",
        # utensils
        "butterknife": "cx",
        "fork": "c",
        "knife": "cx",
        "ladle": "c",
        "spatula": "c",
        "spoon": "c",
        # cookware
        "kettle": "c",
        "pan": "ck",
        "pot": "ck",
        # kitchen odds and ends
        "dishsponge": "c",
        "peppershaker": "",
        "saltshaker": "",
        "winebottle": "k",
        # bathroom
        "candle": "",
        "cloth": "c",
        "handtowel": "",
        "soapbar": "c",
        "soapbottle": "",
        "spraybottle": "",
        "tissuebox": "",
        "toiletpaper": "",
        "towel": "",
        # bedroom and living room
        "alarmclock": "",
        "baseballbat": "",
        "basketball": "",
        "book": "",
        "box": "",
        "cd": "",
        "cellphone": "",
        "creditcard": "",
        "keychain": "",
        "laptop": "",
        "newspaper": "",
        "pen": "",
        "pencil": "",
        "pillow": "",
        "remotecontrol": "",
        "statue": "",
        "tennisracket": "",
        "vase": "",
        "watch": "",
        # lamps
        "desklamp": "l",
        "floorlamp": "l",
    }
)

LAMP_KINDS: tuple[str, ...] = ("desklamp", "floorlamp")

# -- what fits where -------------------------------------------------------------------------------------

_FOOD = {"apple", "bread", "egg", "lettuce", "potato", "tomato"}
_DISHES = {"bowl", "cup", "mug", "plate"}
_UTENSILS = {"butterknife", "fork", "knife", "ladle", "spatula", "spoon"}
_COOKWARE = {"kettle", "pan", "pot"}
_SHAKERS = {"peppershaker", "saltshaker"}
_WASHING = {"cloth", "dishsponge", "handtowel", "soapbar"}
_TOILETRIES = {"candle", "soapbottle", "spraybottle", "tissuebox", "toiletpaper"}
_SMALL = {
    "alarmclock",
    "cd",
    "cellphone",
    "creditcard",
    "keychain",
    "pen",
    "pencil",
    "remotecontrol",
    "watch",
}
_READING = {"book", "newspaper"}
_DECOR = {"candle", "statue", "vase"}
_SPORTS = {"baseballbat", "basketball", "tennisracket"}
_SURFACE = (
    _FOOD
    | _DISHES
    | _UTENSILS
    | _COOKWARE
    | _SHAKERS
    | _WASHING
    | _TOILETRIES
    | _SMALL
    | _READING
    | _DECOR
    | {"box", "laptop", "winebottle"}
)
"""Tables and countertops take nearly anything that is not too big for them."""
_FURNITURE_TOP = (
    _SMALL | _READING | _DECOR | _DISHES | {"box", "laptop", "tissuebox", "spraybottle"} | _SPORTS
)
_SEAT = {
    "book",
    "box",
    "cellphone",
    "creditcard",
    "keychain",
    "laptop",
    "newspaper",
    "pillow",
    "remotecontrol",
}

RECEPTACLE_HOLDS: dict[str, frozenset[str]] = {
    kind: frozenset(contents)
    for kind, contents in {
        "armchair": _SEAT,
        "bathtubbasin": {"cloth", "dishsponge", "handtowel", "soapbar"},
        "bed": {"book", "cellphone", "laptop", "newspaper", "pillow"} | _SPORTS,
        "cabinet": _DISHES
        | _COOKWARE
        | _SHAKERS
        | _WASHING
        | _TOILETRIES
        | {"book", "box", "newspaper", "vase", "winebottle"},
        "coffeemachine": {"mug"},
        "coffeetable": _SURFACE - _COOKWARE,
        "countertop": _SURFACE,
        "desk": _FURNITURE_TOP,
        "diningtable": _SURFACE,
        "drawer": _UTENSILS | _SHAKERS | _WASHING | _TOILETRIES | (_SMALL - {"alarmclock"}) | _READING,
        "dresser": _FURNITURE_TOP,
        "fridge": _FOOD | _DISHES | {"pan", "pot", "winebottle"},
        "garbagecan": (_FOOD - {"egg"})
        | {"cd", "cloth", "dishsponge", "newspaper", "pen", "pencil", "soapbar", "soapbottle"}
        | {"spraybottle", "tissuebox", "toiletpaper", "winebottle"},
        "handtowelholder": {"handtowel"},
        "microwave": (_FOOD - {"lettuce"}) | _DISHES,
        "safe": {"cd", "cellphone", "creditcard", "keychain", "statue", "vase", "watch"},
        "shelf": _DISHES
        | _SHAKERS
        | _TOILETRIES
        | _SMALL
        | _READING
        | _DECOR
        | {"box", "kettle", "pot", "soapbar", "cloth", "handtowel", "winebottle"},
        "sidetable": _SURFACE - _COOKWARE,
        "sinkbasin": (_FOOD - {"bread"}) | _DISHES | _UTENSILS | _COOKWARE | _WASHING,
        "sofa": _SEAT,
        "stoveburner": _COOKWARE,
        "toaster": set(),
        "toilet": _WASHING | _TOILETRIES,
        "toiletpaperhanger": {"toiletpaper"},
        "towelholder": {"towel"},
        "tvstand": {"remotecontrol", "statue", "tissuebox", "vase"},
    }.items()
}
"""Receptacle kind -> the object kinds that can be put in or on it (ALFWorld's ``canContain``)."""

OPENABLE: frozenset[str] = frozenset({"cabinet", "drawer", "fridge", "microwave", "safe"})
"""Receptacles that start closed and must be opened before anything goes in or comes out."""

LAMP_HOLDERS: dict[str, tuple[str, ...]] = {
    "desklamp": ("desk", "dresser", "sidetable"),
    "floorlamp": ("armchair", "sidetable", "sofa"),
}
"""Where a lamp stands; it is listed with what is on that receptacle, as ALFWorld lists it."""

APPLIANCE_FOR: dict[str, str] = {"clean": "sinkbasin", "heat": "microwave", "cool": "fridge"}
"""The one receptacle kind that cleans, heats or cools what the agent holds."""

# -- rooms ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoomKind:
    """A room type: how many receptacles of each kind it gets, and which objects can appear in it."""

    name: str
    receptacles: tuple[tuple[str, int, int], ...]
    """(kind, fewest, most); a goal's target kind is always present."""
    objects: frozenset[str]
    lamps: tuple[str, ...] = ()


ROOMS: dict[str, RoomKind] = {
    room.name: room
    for room in (
        RoomKind(
            "kitchen",
            (
                ("cabinet", 4, 13),
                ("coffeemachine", 1, 1),
                ("countertop", 1, 3),
                ("diningtable", 0, 1),
                ("drawer", 1, 6),
                ("fridge", 1, 1),
                ("garbagecan", 1, 1),
                ("microwave", 1, 1),
                ("shelf", 0, 3),
                ("sinkbasin", 1, 1),
                ("stoveburner", 2, 4),
                ("toaster", 1, 1),
            ),
            frozenset(
                _FOOD
                | _DISHES
                | _UTENSILS
                | _COOKWARE
                | _SHAKERS
                | {"dishsponge", "soapbottle", "winebottle"}
            ),
        ),
        RoomKind(
            "bathroom",
            (
                ("bathtubbasin", 0, 1),
                ("cabinet", 1, 4),
                ("countertop", 1, 1),
                ("drawer", 0, 4),
                ("garbagecan", 1, 1),
                ("handtowelholder", 0, 2),
                ("shelf", 0, 2),
                ("sinkbasin", 1, 2),
                ("toilet", 1, 1),
                ("toiletpaperhanger", 1, 1),
                ("towelholder", 0, 1),
            ),
            frozenset(_WASHING | _TOILETRIES | {"towel"}),
        ),
        RoomKind(
            "bedroom",
            (
                ("armchair", 0, 1),
                ("bed", 1, 1),
                ("desk", 0, 2),
                ("drawer", 1, 6),
                ("dresser", 0, 1),
                ("garbagecan", 1, 1),
                ("safe", 0, 1),
                ("shelf", 0, 6),
                ("sidetable", 1, 2),
            ),
            frozenset(_SMALL | _READING | _SPORTS | {"bowl", "box", "cloth", "laptop", "mug", "pillow"}),
            lamps=LAMP_KINDS,
        ),
        RoomKind(
            "livingroom",
            (
                ("armchair", 0, 2),
                ("cabinet", 0, 4),
                ("coffeetable", 1, 2),
                ("diningtable", 0, 1),
                ("drawer", 0, 4),
                ("dresser", 0, 1),
                ("garbagecan", 1, 1),
                ("safe", 0, 1),
                ("shelf", 0, 6),
                ("sidetable", 1, 3),
                ("sofa", 1, 1),
                ("tvstand", 0, 1),
            ),
            frozenset(
                (_SMALL - {"alarmclock"})
                | _READING
                | _DECOR
                | {"bowl", "box", "laptop", "pillow", "plate", "tissuebox"}
            ),
            lamps=LAMP_KINDS,
        ),
    )
}


def can_hold(receptacle_kind: str, object_kind: str) -> bool:
    return object_kind in RECEPTACLE_HOLDS[receptacle_kind]
