"""A planner that reads the household's state and names the next command; it solves every game.

Like ALFWorld's handcoded expert it is omniscient (it knows where everything is), so its plans are
short and direct: fetch an object of the goal's kind, clean/heat/cool it if asked, and bring it to the
target (twice for ``pick_two_obj_and_place``), or carry it to the lamp and switch the lamp on. It
plans from whatever state it is given, so it can also take over halfway through an episode (DAgger
style): an object in the way is put down first, and work already done is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlvr.envs.alfworld.engine import Engine
from rlvr.envs.alfworld.state import Household, Receptacle, Thing
from rlvr.envs.alfworld.tasks import TREATMENT
from rlvr.envs.alfworld.world import APPLIANCE_FOR, RECEPTACLE_HOLDS

if TYPE_CHECKING:
    from rlvr.envs.alfworld.env import ALFWorldEnv

_STATE = {"clean": "clean", "heat": "hot", "cool": "cool"}


def expert_action(env: ALFWorldEnv | Engine) -> str:
    """The expert's next command for an env (after ``reset``) or an engine: a scripted agent."""
    engine = env if isinstance(env, Engine) else env.engine
    return next_command(engine.house)


def next_command(house: Household) -> str:
    """The next command of a shortest-ish plan from ``house``'s current state to its goal."""
    goal = house.goal
    if goal.task_type == "look_at_obj_in_light":
        return _look_step(house)
    return _place_step(house)


# -- shared steps ----------------------------------------------------------------------------------------


def _go_or(house: Household, index: int, command: str) -> str:
    """Go to receptacle ``index`` first, open it if ``command`` needs its inside, then ``command``."""
    receptacle = house.receptacles[index]
    if house.location != index:
        return f"go to {receptacle.name}"
    return command


def _reach_into(house: Household, index: int, command: str) -> str:
    receptacle = house.receptacles[index]
    if house.location == index and not receptacle.accessible:
        return f"open {receptacle.name}"
    return _go_or(house, index, command)


def _fetch(house: Household, candidates: list[int]) -> str:
    """Take the nearest candidate: one here first, then the lowest-numbered by receptacle order."""
    here = [index for index in candidates if house.things[index].receptacle == house.location]
    index = (here or candidates)[0]
    thing = house.things[index]
    assert thing.receptacle is not None
    where = house.receptacles[thing.receptacle]
    return _reach_into(house, thing.receptacle, f"take {thing.name} from {where.name}")


def _put_down(house: Household, thing: Thing) -> str:
    """Get rid of an object the plan does not need, as close as possible."""
    fits = [i for i, r in enumerate(house.receptacles) if thing.kind in RECEPTACLE_HOLDS[r.kind]]
    if house.location in fits:
        spot = house.location
    else:
        spot = min(fits, key=lambda i: (house.receptacles[i].openable, i))
    return _reach_into(house, spot, f"move {thing.name} to {house.receptacles[spot].name}")


def _first_of(house: Household, kind: str) -> int:
    return next(index for index, receptacle in enumerate(house.receptacles) if receptacle.kind == kind)


# -- task families ---------------------------------------------------------------------------------------


def _look_step(house: Household) -> str:
    goal = house.goal
    lamps = [i for i, thing in enumerate(house.things) if thing.kind == goal.target_kind]
    lit = [i for i in lamps if house.things[i].on]
    lamp_index = (lit or lamps)[0]
    lamp = house.things[lamp_index]
    assert lamp.receptacle is not None
    if house.held is not None:
        held = house.things[house.held]
        if held.kind != goal.object_kind:
            return _put_down(house, held)
        if house.location != lamp.receptacle:
            return f"go to {house.receptacles[lamp.receptacle].name}"
        return f"use {lamp.name}"
    candidates = [i for i, thing in enumerate(house.things) if thing.kind == goal.object_kind]
    return _fetch(house, _by_place(house, candidates))


def _place_step(house: Household) -> str:
    goal = house.goal
    treatment = TREATMENT.get(goal.task_type)
    needed = 2 if goal.task_type == "pick_two_obj_and_place" else 1

    def done(thing: Thing) -> bool:
        return treatment is None or getattr(thing, _STATE[treatment])

    def counted(index: int, target: int) -> bool:
        thing = house.things[index]
        return thing.receptacle == target and thing.kind == goal.object_kind and done(thing)

    targets = [i for i, r in enumerate(house.receptacles) if r.kind == goal.target_kind]
    # The target already holding the most finished objects (pick-two builds on earlier work).
    target = max(targets, key=lambda t: (sum(counted(i, t) for i in house.receptacles[t].contents), -t))
    receptacle: Receptacle = house.receptacles[target]
    if house.held is not None:
        held = house.things[house.held]
        if held.kind != goal.object_kind:
            return _put_down(house, held)
        if not done(held):
            assert treatment is not None
            appliance = _first_of(house, APPLIANCE_FOR[treatment])
            return _go_or(
                house, appliance, f"{treatment} {held.name} with {house.receptacles[appliance].name}"
            )
        return _reach_into(house, target, f"move {held.name} to {receptacle.name}")
    candidates = [
        i for i, thing in enumerate(house.things) if thing.kind == goal.object_kind and not counted(i, target)
    ]
    assert len(candidates) + sum(counted(i, target) for i in receptacle.contents) >= needed
    return _fetch(house, _by_place(house, candidates))


def _by_place(house: Household, candidates: list[int]) -> list[int]:
    """Candidates in a fixed order: by the receptacle they are in, then by name."""

    def key(index: int) -> tuple[int, int]:
        thing = house.things[index]
        return (-1 if thing.receptacle is None else thing.receptacle), thing.number

    return sorted(candidates, key=key)
