"""Commands on a household: their preconditions and effects (ALFWorld's PDDL domain), and the list of
commands that would succeed now.

The rules follow ALFWorld's ``alfred.pddl``: the agent must stand at a receptacle (``go to``) to touch
it or what is in it, holds one object at a time, must open an openable receptacle before taking from
or putting into it, can put an object only where its kind fits, and heats, cools and cleans what it
holds at a microwave, fridge or sink basin without opening them. Anything else is "Nothing happens.";
the engine also says why in ``Outcome.reason``, which the env reports in ``info`` but never shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from rlvr.envs.alfworld import texts
from rlvr.envs.alfworld.grammar import Command, parse
from rlvr.envs.alfworld.state import Household, Receptacle, Thing
from rlvr.envs.alfworld.tasks import goal_met
from rlvr.envs.alfworld.world import RECEPTACLE_HOLDS


class Outcome(NamedTuple):
    text: str
    valid: bool
    reason: str | None = None
    """Why nothing happened (``None`` for a valid command)."""


class _Refusal(Exception):
    """A precondition failed; carries the reason."""


_TREATMENTS: dict[str, tuple[str, str, str]] = {
    # verb: (appliance kind, affordance on ObjectKind, past tense for the feedback)
    "heat": ("microwave", "heatable", "heat"),
    "cool": ("fridge", "coolable", "cool"),
    "clean": ("sinkbasin", "cleanable", "clean"),
}


class Engine:
    """Plays commands on one ``Household``; ``won`` turns true once the goal holds."""

    def __init__(self, house: Household) -> None:
        self.house = house
        self._receptacles = {receptacle.name: index for index, receptacle in enumerate(house.receptacles)}
        self._things = {thing.name: index for index, thing in enumerate(house.things)}
        self._handlers: dict[str, Callable[[Command], str]] = {
            "look": lambda _: texts.look(self.house),
            "inventory": lambda _: texts.inventory(self.house),
            "help": lambda _: texts.HELP,
            "goto": self._go_to,
            "open": self._open,
            "close": self._close,
            "take": self._take,
            "put": self._put,
            "use": self._use,
            "heat": self._treat,
            "cool": self._treat,
            "clean": self._treat,
            "slice": self._slice,
            "examine": self._examine,
        }
        self.won = goal_met(house)

    # -- public -------------------------------------------------------------------------------------------

    def intro(self) -> str:
        return texts.intro(self.house)

    def execute(self, text: str) -> Outcome:
        command = parse(text)
        if command is None:
            return Outcome(texts.NOTHING_HAPPENS, False, "not a command this game understands")
        try:
            feedback = self._handlers[command.verb](command)
        except _Refusal as refusal:
            return Outcome(texts.NOTHING_HAPPENS, False, str(refusal))
        self.won = goal_met(self.house)
        return Outcome(feedback, True)

    def admissible_commands(self) -> list[str]:
        """Every command that would succeed now, in ALFWorld's canonical wording, sorted as ALFWorld does."""
        house = self.house
        commands = ["help", "inventory", "look"]
        commands += [
            f"go to {r.name}" for index, r in enumerate(house.receptacles) if index != house.location
        ]
        held = None if house.held is None else house.things[house.held]
        if held is not None:
            commands.append(f"examine {held.name}")
        if house.location is not None:
            here = house.receptacles[house.location]
            commands.append(f"examine {here.name}")
            if here.openable:
                commands.append(f"{'close' if here.is_open else 'open'} {here.name}")
            if here.accessible:
                for index in here.contents:
                    thing = house.things[index]
                    commands.append(f"examine {thing.name}")
                    if thing.props.light:
                        commands.append(f"use {thing.name}")
                    elif held is None:
                        commands.append(f"take {thing.name} from {here.name}")
                    elif held.props.sharp and thing.props.sliceable:
                        commands.append(f"slice {thing.name} with {held.name}")
                if held is not None and held.kind in RECEPTACLE_HOLDS[here.kind]:
                    commands.append(f"move {held.name} to {here.name}")
            if held is not None:
                for verb, (appliance, affordance, _) in _TREATMENTS.items():
                    if here.kind == appliance and getattr(held.props, affordance):
                        commands.append(f"{verb} {held.name} with {here.name}")
        commands.sort()
        return commands

    # -- lookups ------------------------------------------------------------------------------------------

    def _receptacle(self, name: str) -> tuple[int, Receptacle]:
        index = self._receptacles.get(name)
        if index is None:
            raise _Refusal(f"there is no receptacle called {name!r} here")
        return index, self.house.receptacles[index]

    def _thing(self, name: str) -> tuple[int, Thing]:
        index = self._things.get(name)
        if index is None:
            raise _Refusal(f"there is no object called {name!r} here")
        return index, self.house.things[index]

    def _standing_at(self, index: int, receptacle: Receptacle) -> None:
        if self.house.location != index:
            raise _Refusal(f"you are not at {receptacle.name}; go to it first")

    @staticmethod
    def _reachable_inside(receptacle: Receptacle) -> None:
        if not receptacle.accessible:
            raise _Refusal(f"{receptacle.name} is closed")

    def _holding(self, index: int, thing: Thing) -> None:
        if self.house.held != index:
            raise _Refusal(f"you are not holding {thing.name}")

    def _visible_here(self, thing: Thing) -> Receptacle:
        """The receptacle at the agent's location that ``thing`` is in, if its inside can be seen."""
        house = self.house
        if thing.receptacle is None or thing.receptacle != house.location:
            raise _Refusal(f"{thing.name} is not here")
        receptacle = house.receptacles[thing.receptacle]
        self._reachable_inside(receptacle)
        return receptacle

    # -- commands -----------------------------------------------------------------------------------------

    def _go_to(self, command: Command) -> str:
        index, receptacle = self._receptacle(command.subject)
        if self.house.location == index:
            raise _Refusal(f"you are already at {receptacle.name}")
        self.house.location = index
        return f"You arrive at {receptacle.name}. {texts.receptacle_view(self.house, receptacle)}"

    def _open(self, command: Command) -> str:
        index, receptacle = self._receptacle(command.subject)
        self._standing_at(index, receptacle)
        if not receptacle.openable:
            raise _Refusal(f"{receptacle.name} cannot be opened")
        if receptacle.is_open:
            raise _Refusal(f"{receptacle.name} is already open")
        receptacle.is_open = True
        return f"You open the {receptacle.name}. {texts.receptacle_view(self.house, receptacle)}"

    def _close(self, command: Command) -> str:
        index, receptacle = self._receptacle(command.subject)
        self._standing_at(index, receptacle)
        if not receptacle.openable:
            raise _Refusal(f"{receptacle.name} cannot be closed")
        if not receptacle.is_open:
            raise _Refusal(f"{receptacle.name} is already closed")
        receptacle.is_open = False
        return f"You close the {receptacle.name}."

    def _take(self, command: Command) -> str:
        index, thing = self._thing(command.subject)
        where, receptacle = self._receptacle(command.tool)
        self._standing_at(where, receptacle)
        self._reachable_inside(receptacle)
        if thing.receptacle != where:
            raise _Refusal(f"{thing.name} is not in {receptacle.name}")
        if not thing.props.pickupable:
            raise _Refusal(f"{thing.name} cannot be picked up")
        if self.house.held is not None:
            raise _Refusal(f"your hands are full: you are holding {self.house.things[self.house.held].name}")
        receptacle.contents.remove(index)
        thing.receptacle = None
        self.house.held = index
        return f"You pick up the {thing.name} from the {receptacle.name}."

    def _put(self, command: Command) -> str:
        index, thing = self._thing(command.subject)
        where, receptacle = self._receptacle(command.tool)
        self._holding(index, thing)
        self._standing_at(where, receptacle)
        self._reachable_inside(receptacle)
        if thing.kind not in RECEPTACLE_HOLDS[receptacle.kind]:
            raise _Refusal(f"a {thing.kind} does not go in or on a {receptacle.kind}")
        receptacle.contents.append(index)
        thing.receptacle = where
        self.house.held = None
        return f"You move the {thing.name} to the {receptacle.name}."

    def _use(self, command: Command) -> str:
        _, thing = self._thing(command.subject)
        self._visible_here(thing)
        if not thing.props.light:
            raise _Refusal(f"{thing.name} has no switch")
        thing.on = not thing.on
        return f"You turn {'on' if thing.on else 'off'} the {thing.name}."

    def _treat(self, command: Command) -> str:
        appliance, affordance, verb = _TREATMENTS[command.verb]
        index, thing = self._thing(command.subject)
        where, receptacle = self._receptacle(command.tool)
        self._holding(index, thing)
        self._standing_at(where, receptacle)
        if receptacle.kind != appliance:
            raise _Refusal(f"you can only {verb} things with a {appliance}")
        if not getattr(thing.props, affordance):
            raise _Refusal(f"a {thing.kind} cannot be {'cooled' if verb == 'cool' else verb + 'ed'}")
        if verb == "heat":
            thing.hot, thing.cool = True, False
        elif verb == "cool":
            thing.cool, thing.hot = True, False
        else:
            thing.clean = True
        return f"You {verb} the {thing.name} using the {receptacle.name}."

    def _slice(self, command: Command) -> str:
        _, thing = self._thing(command.subject)
        knife_index, knife = self._thing(command.tool)
        self._holding(knife_index, knife)
        if not knife.props.sharp:
            raise _Refusal(f"{knife.name} cannot slice anything")
        self._visible_here(thing)
        if not thing.props.sliceable:
            raise _Refusal(f"a {thing.kind} cannot be sliced")
        thing.sliced = True
        return f"You sliced the {thing.name} with the {knife.name}."

    def _examine(self, command: Command) -> str:
        name = command.subject
        if name in self._receptacles:
            index, receptacle = self._receptacle(name)
            self._standing_at(index, receptacle)
            return texts.receptacle_view(self.house, receptacle)
        index, thing = self._thing(name)
        if self.house.held != index:
            self._visible_here(thing)
        return texts.describe(thing)
