"""ALFWorld's six task types: which goals exist, how they read, when they are met, and the splits.

A goal is a combination (room, object kind, target kind): the target is a receptacle kind, or a lamp
kind for ``look_at_obj_in_light``. Every combination the world tables allow is enumerated here, and
the ``valid_unseen`` split is the deterministic subset whose CRC-32 of ``"room/object/target"`` is
divisible by ``HOLDOUT_MODULUS``; ``train`` and ``valid_seen`` draw only from the rest. The rule looks
at the combination and not at the task type, so a held-out pairing (say a mug in a coffee machine in a
kitchen) is never seen in training under any task type.
"""

from __future__ import annotations

import zlib
from functools import cache

from rlvr.envs.alfworld.state import Household
from rlvr.envs.alfworld.world import APPLIANCE_FOR, OBJECT_KINDS, RECEPTACLE_HOLDS, ROOMS

TASK_TYPES: tuple[str, ...] = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)
SPLITS: tuple[str, ...] = ("train", "valid_seen", "valid_unseen")
HOLDOUT_MODULUS = 5

TEMPLATES: dict[str, tuple[str, str]] = {
    "pick_and_place_simple": ("put a {obj} in {recep}.", "put some {obj} on {recep}."),
    "look_at_obj_in_light": ("look at {obj} under the {lamp}.", "examine the {obj} with the {lamp}."),
    "pick_clean_then_place_in_recep": (
        "put a clean {obj} in {recep}.",
        "clean some {obj} and put it in {recep}.",
    ),
    "pick_heat_then_place_in_recep": (
        "put a hot {obj} in {recep}.",
        "heat some {obj} and put it in {recep}.",
    ),
    "pick_cool_then_place_in_recep": (
        "put a cool {obj} in {recep}.",
        "cool some {obj} and put it in {recep}.",
    ),
    "pick_two_obj_and_place": ("put two {obj} in {recep}.", "find two {obj} and put them in {recep}."),
}
"""ALFWorld's two phrasings per task type; a game picks one."""

TREATMENT: dict[str, str] = {
    "pick_clean_then_place_in_recep": "clean",
    "pick_heat_then_place_in_recep": "heat",
    "pick_cool_then_place_in_recep": "cool",
}
"""The state change a task asks for before placing, by task type."""

_ROOMS_FOR: dict[str, tuple[str, ...]] = {
    "pick_and_place_simple": ("kitchen", "bathroom", "bedroom", "livingroom"),
    "look_at_obj_in_light": ("bedroom", "livingroom"),
    "pick_clean_then_place_in_recep": ("kitchen", "bathroom"),
    "pick_heat_then_place_in_recep": ("kitchen",),
    "pick_cool_then_place_in_recep": ("kitchen",),
    "pick_two_obj_and_place": ("kitchen", "bathroom", "bedroom", "livingroom"),
}
"""ALFRED's rooms per task type (heating and cooling need a kitchen, cleaning a sink)."""

_NEVER_TARGET: dict[str, frozenset[str]] = {
    "pick_and_place_simple": frozenset({"toaster"}),
    "pick_clean_then_place_in_recep": frozenset({"toaster", "sinkbasin"}),
    "pick_heat_then_place_in_recep": frozenset({"toaster", "microwave"}),
    "pick_cool_then_place_in_recep": frozenset({"toaster", "fridge"}),
    # Two of a kind do not go on a one-item holder.
    "pick_two_obj_and_place": frozenset(
        {"toaster", "coffeemachine", "stoveburner", "towelholder", "handtowelholder", "toiletpaperhanger"}
    ),
}


def check_task_type(task_type: str) -> str:
    if task_type not in TASK_TYPES:
        raise ValueError(f"unknown task type {task_type!r}; choose from {', '.join(TASK_TYPES)}")
    return task_type


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    return split


def held_out(room: str, object_kind: str, target_kind: str) -> bool:
    """Whether a goal combination belongs to ``valid_unseen`` (and never to train or valid_seen)."""
    return zlib.crc32(f"{room}/{object_kind}/{target_kind}".encode()) % HOLDOUT_MODULUS == 0


def _treatable(object_kind: str, treatment: str | None) -> bool:
    props = OBJECT_KINDS[object_kind]
    return {
        None: props.pickupable,
        "clean": props.cleanable,
        "heat": props.heatable,
        "cool": props.coolable,
    }[treatment]


@cache
def all_combinations(task_type: str) -> tuple[tuple[str, str, str], ...]:
    """Every achievable (room, object kind, target kind) for a task type, in a fixed order.

    An object qualifies only if some receptacle kind every room of its type has (other than the target
    kind) can hold it, so the generator always has somewhere to put it that does not already meet the
    goal.
    """
    check_task_type(task_type)
    combos: list[tuple[str, str, str]] = []
    for room_name in _ROOMS_FOR[task_type]:
        room = ROOMS[room_name]
        present = [kind for kind, _, _ in room.receptacles]
        always = [kind for kind, fewest, _ in room.receptacles if fewest >= 1]
        for object_kind in sorted(room.objects):
            if not _treatable(object_kind, TREATMENT.get(task_type)):
                continue
            if task_type == "look_at_obj_in_light":
                if any(object_kind in RECEPTACLE_HOLDS[kind] for kind in always):
                    combos.extend((room_name, object_kind, lamp) for lamp in room.lamps)
                continue
            for target in present:
                if target in _NEVER_TARGET[task_type] or object_kind not in RECEPTACLE_HOLDS[target]:
                    continue
                if any(object_kind in RECEPTACLE_HOLDS[kind] for kind in always if kind != target):
                    combos.append((room_name, object_kind, target))
    return tuple(combos)


@cache
def combinations(task_type: str, split: str) -> tuple[tuple[str, str, str], ...]:
    """The goal combinations a split draws from: the held-out ones for ``valid_unseen``, the rest else."""
    unseen = check_split(split) == "valid_unseen"
    return tuple(combo for combo in all_combinations(task_type) if held_out(*combo) == unseen)


def goal_text(task_type: str, object_kind: str, target_kind: str, phrasing: int) -> str:
    template = TEMPLATES[task_type][phrasing]
    return template.format(obj=object_kind, recep=target_kind, lamp=target_kind)


def goal_met(house: Household) -> bool:
    """ALFWorld's goal conditions, checked on the current state."""
    goal = house.goal
    things, receptacles = house.things, house.receptacles
    if goal.task_type == "look_at_obj_in_light":
        if house.held is None or things[house.held].kind != goal.object_kind or house.location is None:
            return False
        return any(
            things[index].kind == goal.target_kind and things[index].on
            for index in receptacles[house.location].contents
        )
    treatment = TREATMENT.get(goal.task_type)
    needed = 2 if goal.task_type == "pick_two_obj_and_place" else 1
    for receptacle in receptacles:
        if receptacle.kind != goal.target_kind:
            continue
        count = 0
        for index in receptacle.contents:
            thing = things[index]
            if thing.kind == goal.object_kind and (treatment is None or getattr(thing, _STATE[treatment])):
                count += 1
                if count >= needed:
                    return True
    return False


_STATE = {"clean": "clean", "heat": "hot", "cool": "cool"}
"""Treatment -> the ``Thing`` flag it sets."""

assert set(_STATE) == set(APPLIANCE_FOR)
