"""One game from (split, task type, game number): a furnished room, objects in it, and a goal.

The game number seeds its own generator (with the split and task type mixed in), so a game is the
same wherever it is asked for, whatever the env's own stream did before: ``game`` is to this engine
what a game file is to ALFWorld.

Guarantees: the goal's target receptacle kind (or lamp kind) and the appliance it needs are in the
room; at least one object of the goal's kind exists (two for ``pick_two_obj_and_place``); and no
object of that kind starts where the goal wants it, so no game is won before the first step.
"""

from __future__ import annotations

import numpy as np

from rlvr.envs.alfworld.state import Goal, Household, Receptacle, Thing
from rlvr.envs.alfworld.tasks import (
    SPLITS,
    TASK_TYPES,
    TREATMENT,
    check_split,
    check_task_type,
    combinations,
    goal_text,
)
from rlvr.envs.alfworld.world import APPLIANCE_FOR, LAMP_HOLDERS, OBJECT_KINDS, RECEPTACLE_HOLDS, ROOMS

MAX_GAME = 2**31 - 1
"""Game numbers are 0 .. MAX_GAME - 1."""

_DISTRACTOR_KINDS = (0.5, 0.9)
"""Each other object kind of the room appears with a probability drawn from this range per game."""
_INSTANCES = (1, 1, 2, 2, 3)
"""How many of an object kind a game gets, drawn uniformly from this list."""


def game_rng(split: str, task_type: str, game: int) -> np.random.Generator:
    if not 0 <= game < MAX_GAME:
        raise ValueError(f"game must be in [0, {MAX_GAME}), got {game}")
    return np.random.default_rng([SPLITS.index(split), TASK_TYPES.index(task_type), int(game)])


def _counts(room: str, required: set[str], rng: np.random.Generator) -> dict[str, int]:
    counts = {}
    for kind, fewest, most in ROOMS[room].receptacles:
        count = int(rng.integers(fewest, most + 1))
        counts[kind] = max(count, 1) if kind in required else count
    return counts


def generate_game(split: str, task_type: str, game: int) -> Household:
    check_split(split)
    check_task_type(task_type)
    rng = game_rng(split, task_type, game)
    pool = combinations(task_type, split)
    room_name, object_kind, target_kind = pool[int(rng.integers(len(pool)))]
    room = ROOMS[room_name]
    looking = task_type == "look_at_obj_in_light"

    required = set()
    if not looking:
        required.add(target_kind)
    if task_type in TREATMENT:
        required.add(APPLIANCE_FOR[TREATMENT[task_type]])
    counts = _counts(room_name, required, rng)
    receptacles = [
        Receptacle(kind, number) for kind, _, _ in room.receptacles for number in range(1, counts[kind] + 1)
    ]
    by_kind: dict[str, list[int]] = {}
    for index, receptacle in enumerate(receptacles):
        by_kind.setdefault(receptacle.kind, []).append(index)

    things: list[Thing] = []

    def place(kind: str, number: int, options: list[int]) -> None:
        spot = options[int(rng.integers(len(options)))]
        receptacles[spot].contents.append(len(things))
        things.append(Thing(kind, number, spot))

    # Lamps: one of each kind with some chance, the goal's lamp always, each by a holder present.
    for lamp in room.lamps:
        holders = [index for kind in LAMP_HOLDERS[lamp] for index in by_kind.get(kind, ())]
        if holders and ((looking and lamp == target_kind) or rng.random() < 0.6):
            place(lamp, 1, holders)

    # The goal's objects, never starting in a receptacle of the target kind.
    avoid = set() if looking else {target_kind}
    kinds = [object_kind]
    distractor_p = rng.uniform(*_DISTRACTOR_KINDS)
    kinds += [kind for kind in sorted(room.objects) if kind != object_kind and rng.random() < distractor_p]
    for kind in kinds:
        options = [
            index
            for index, receptacle in enumerate(receptacles)
            if kind in RECEPTACLE_HOLDS[receptacle.kind]
            and (kind != object_kind or receptacle.kind not in avoid)
        ]
        if not options:
            continue
        count = int(_INSTANCES[int(rng.integers(len(_INSTANCES)))])
        if kind == object_kind and task_type == "pick_two_obj_and_place":
            count = max(count, 2) + int(rng.integers(2))
        numbers = rng.permutation(count) + 1
        for number in numbers:
            place(kind, int(number), options)
    # Cannot fail: all_combinations keeps only objects that a receptacle every such room has can hold.
    assert any(thing.kind == object_kind for thing in things), (split, task_type, game)
    assert not OBJECT_KINDS[object_kind].light

    goal = Goal(
        task_type,
        object_kind,
        target_kind,
        goal_text(task_type, object_kind, target_kind, int(rng.integers(2))),
    )
    return Household(room_name, receptacles, things, goal)
