"""The engine's rules and texts on a small hand-built kitchen, and admissible commands on generated games."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from rlvr.envs.alfworld.engine import Engine
from rlvr.envs.alfworld.generate import generate_game
from rlvr.envs.alfworld.state import Goal, Household, Receptacle, Thing
from rlvr.envs.alfworld.tasks import TASK_TYPES
from rlvr.envs.alfworld.texts import HELP, NOTHING_HAPPENS, a_list

NOTHING = NOTHING_HAPPENS


def kitchen(
    task_type: str = "pick_clean_then_place_in_recep", obj: str = "mug", target: str = "coffeemachine"
):
    """countertop 1: apple 1, knife 1, mug 1; fridge 1 (closed): egg 1; cabinet 1 (closed): nothing;
    microwave 1, sinkbasin 1, coffeemachine 1, sidetable 1: desklamp 1, book 1."""
    receptacles = [
        Receptacle("countertop", 1, contents=[0, 1, 2]),
        Receptacle("fridge", 1, contents=[3]),
        Receptacle("cabinet", 1),
        Receptacle("microwave", 1),
        Receptacle("sinkbasin", 1),
        Receptacle("coffeemachine", 1),
        Receptacle("sidetable", 1, contents=[4, 5]),
    ]
    things = [
        Thing("apple", 1, 0),
        Thing("knife", 1, 0),
        Thing("mug", 1, 0),
        Thing("egg", 1, 1),
        Thing("desklamp", 1, 6),
        Thing("book", 1, 6),
    ]
    goal = Goal(task_type, obj, target, f"put a clean {obj} in {target}.")
    return Engine(Household("kitchen", receptacles, things, goal))


def run(engine: Engine, *commands: str) -> list[str]:
    return [engine.execute(command).text for command in commands]


def test_lists_read_as_textworld_writes_them() -> None:
    assert a_list([]) == "nothing"
    assert a_list(["apple 1"]) == "a apple 1"
    assert a_list(["apple 1", "mug 2"]) == "a apple 1, and a mug 2"
    assert a_list(["a 1", "b 1", "c 1"]) == "a a 1, a b 1, and a c 1"


def test_intro_lists_receptacles_by_kind_then_number_downwards() -> None:
    engine = kitchen()
    engine.house.receptacles.append(Receptacle("cabinet", 2))
    assert engine.intro() == (
        "-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking quickly around you, "
        "you see a cabinet 2, a cabinet 1, a coffeemachine 1, a countertop 1, a fridge 1, a microwave 1, "
        "a sidetable 1, and a sinkbasin 1.\n\nYour task is to: put a clean mug in coffeemachine."
    )


def test_going_to_receptacles_shows_them() -> None:
    engine = kitchen()
    assert run(engine, "go to countertop 1", "go to fridge 1", "go to fridge 1") == [
        "You arrive at countertop 1. On the countertop 1, you see a apple 1, a knife 1, and a mug 1.",
        "You arrive at fridge 1. The fridge 1 is closed.",
        NOTHING,  # already there
    ]
    assert run(engine, "open fridge 1", "open fridge 1", "close fridge 1", "close fridge 1") == [
        "You open the fridge 1. The fridge 1 is open. In it, you see a egg 1.",
        NOTHING,
        "You close the fridge 1.",
        NOTHING,
    ]
    assert run(engine, "go to cabinet 1", "open cabinet 1") == [
        "You arrive at cabinet 1. The cabinet 1 is closed.",
        "You open the cabinet 1. The cabinet 1 is open. In it, you see nothing.",
    ]
    assert run(engine, "go to cabinet 1") == [NOTHING]
    assert run(engine, "go to sinkbasin 1") == [
        "You arrive at sinkbasin 1. On the sinkbasin 1, you see nothing."
    ]


def test_the_agent_must_be_at_a_receptacle_to_touch_it() -> None:
    engine = kitchen()
    outcome = engine.execute("take apple 1 from countertop 1")
    assert (outcome.text, outcome.valid) == (NOTHING, False) and "go to" in (outcome.reason or "")
    assert run(engine, "open fridge 1", "examine countertop 1", "examine apple 1") == [NOTHING] * 3
    assert run(engine, "go to countertop 1", "take apple 1 from countertop 1") == [
        "You arrive at countertop 1. On the countertop 1, you see a apple 1, a knife 1, and a mug 1.",
        "You pick up the apple 1 from the countertop 1.",
    ]


def test_closed_receptacles_hide_and_guard_their_contents() -> None:
    engine = kitchen()
    run(engine, "go to fridge 1")
    assert run(engine, "take egg 1 from fridge 1", "examine egg 1") == [NOTHING, NOTHING]
    assert run(engine, "examine fridge 1") == ["The fridge 1 is closed."]
    run(engine, "open fridge 1")
    assert run(engine, "examine egg 1", "take egg 1 from fridge 1") == [
        "There's nothing special about egg 1.",
        "You pick up the egg 1 from the fridge 1.",
    ]
    run(engine, "close fridge 1")
    assert run(engine, "move egg 1 to fridge 1") == [NOTHING]  # closed again


def test_one_object_at_a_time_and_only_where_it_fits() -> None:
    engine = kitchen()
    run(engine, "go to countertop 1", "take apple 1 from countertop 1")
    assert run(engine, "take mug 1 from countertop 1", "inventory") == [
        NOTHING,
        "You are carrying: a apple 1.",
    ]
    assert run(engine, "go to coffeemachine 1", "move apple 1 to coffeemachine 1") == [
        "You arrive at coffeemachine 1. On the coffeemachine 1, you see nothing.",
        NOTHING,  # an apple does not go in a coffee machine
    ]
    assert run(engine, "go to countertop 1", "move apple 1 to countertop 1", "inventory") == [
        "You arrive at countertop 1. On the countertop 1, you see a knife 1, and a mug 1.",
        "You move the apple 1 to the countertop 1.",
        "You are not carrying anything.",
    ]
    assert run(engine, "move apple 1 to countertop 1", "take book 1 from countertop 1") == [NOTHING, NOTHING]


@pytest.mark.parametrize(
    "command",
    [
        "move mug 1 to coffeemachine 1",
        "put mug 1 in coffeemachine 1",
        "put mug 1 on coffeemachine 1",
        "put mug 1 in/on coffeemachine 1",
        "  PUT Mug 1 IN the CoffeeMachine 1.  ",
        "place mug1 into coffeemachine1",
    ],
)
def test_every_placing_verb_places(command: str) -> None:
    engine = kitchen()
    run(engine, "go to countertop 1", "take mug 1 from countertop 1", "go to sinkbasin 1")
    assert run(engine, "clean mug 1 with sinkbasin 1", "go to coffeemachine 1") == [
        "You clean the mug 1 using the sinkbasin 1.",
        "You arrive at coffeemachine 1. On the coffeemachine 1, you see nothing.",
    ]
    assert not engine.won
    assert run(engine, command) == ["You move the mug 1 to the coffeemachine 1."]
    assert engine.won


def test_heat_cool_and_clean_change_the_held_object() -> None:
    engine = kitchen()
    run(engine, "go to countertop 1", "take apple 1 from countertop 1")
    assert run(engine, "heat apple 1 with microwave 1", "examine apple 1") == [
        NOTHING,
        "There's nothing special about apple 1.",
    ]
    assert run(engine, "go to microwave 1", "heat apple 1 with microwave 1", "examine apple 1") == [
        "You arrive at microwave 1. The microwave 1 is closed.",
        "You heat the apple 1 using the microwave 1.",  # no need to open it, as in ALFWorld
        "This is a hot apple 1.",
    ]
    assert run(engine, "cool apple 1 with microwave 1", "clean apple 1 with microwave 1") == [
        NOTHING,
        NOTHING,
    ]
    assert run(engine, "go to fridge 1", "cool apple 1 with fridge 1", "examine apple 1") == [
        "You arrive at fridge 1. The fridge 1 is closed.",
        "You cool the apple 1 using the fridge 1.",
        "This is a cold apple 1.",  # cooling undoes heating
    ]
    assert run(engine, "go to sinkbasin 1", "clean apple 1 with sinkbasin 1", "examine apple 1") == [
        "You arrive at sinkbasin 1. On the sinkbasin 1, you see nothing.",
        "You clean the apple 1 using the sinkbasin 1.",
        "This is a cool and clean apple 1.",
    ]
    engine.execute("move apple 1 to sinkbasin 1")
    assert run(engine, "take book 1 from sidetable 1") == [NOTHING]
    run(engine, "go to sidetable 1", "take book 1 from sidetable 1", "go to microwave 1")
    assert run(engine, "heat book 1 with microwave 1") == [NOTHING]  # not heatable


def test_lamps_switch_on_and_off_where_they_stand() -> None:
    engine = kitchen()
    assert run(engine, "use desklamp 1") == [NOTHING]
    assert run(engine, "go to sidetable 1", "use desklamp 1", "examine desklamp 1", "use desklamp 1") == [
        "You arrive at sidetable 1. On the sidetable 1, you see a book 1, and a desklamp 1.",
        "You turn on the desklamp 1.",
        "This desklamp 1 is on.",
        "You turn off the desklamp 1.",
    ]
    assert run(engine, "take desklamp 1 from sidetable 1", "use book 1") == [NOTHING, NOTHING]


def test_look_at_needs_the_object_in_hand_by_a_lit_lamp() -> None:
    engine = kitchen("look_at_obj_in_light", "book", "desklamp")
    run(engine, "go to sidetable 1", "use desklamp 1")
    assert not engine.won
    run(engine, "take book 1 from sidetable 1")
    assert engine.won
    run(engine, "go to countertop 1")
    assert not engine.won  # the lamp is not here


def test_slicing_needs_a_knife_in_hand() -> None:
    engine = kitchen()
    run(engine, "go to countertop 1")
    assert run(engine, "slice apple 1 with knife 1") == [NOTHING]
    assert run(engine, "take knife 1 from countertop 1", "slice mug 1 with knife 1") == [
        "You pick up the knife 1 from the countertop 1.",
        NOTHING,
    ]
    assert run(engine, "slice apple 1 with knife 1", "examine apple 1") == [
        "You sliced the apple 1 with the knife 1.",
        "This is a sliced apple 1.",
    ]


def test_look_inventory_help_and_nonsense() -> None:
    engine = kitchen()
    assert run(engine, "look")[0].startswith(
        "You are in the middle of a room. Looking quickly around you, you see"
    )
    assert run(engine, "inventory", "help") == ["You are not carrying anything.", HELP]
    run(engine, "go to sidetable 1")
    assert run(engine, "look") == ["You are facing the sidetable 1. Next to it, you see nothing."]
    for nonsense in [
        "",
        "dance",
        "go to moon 1",
        "take apple 7 from countertop 1",
        "open apple 1",
        "use fridge 1",
    ]:
        outcome = engine.execute(nonsense)
        assert (outcome.text, outcome.valid) == (NOTHING, False) and outcome.reason


def _states(count: int) -> list[Engine]:
    """Engines in assorted mid-game states: generated games after some random admissible commands."""
    rng = np.random.default_rng(5)
    engines = []
    for index in range(count):
        engine = Engine(generate_game("train", TASK_TYPES[index % len(TASK_TYPES)], index))
        for _ in range(int(rng.integers(0, 25))):
            commands = engine.admissible_commands()
            engine.execute(commands[int(rng.integers(len(commands)))])
        engines.append(engine)
    return engines


def test_admissible_commands_are_exactly_the_valid_canonical_commands() -> None:
    """Every admissible command succeeds, and every other command built from the game's names fails."""
    for engine in _states(60):
        admissible = engine.admissible_commands()
        assert admissible == sorted(set(admissible))
        house = engine.house
        receptacles = [r.name for r in house.receptacles]
        things = [t.name for t in house.things]
        here = [] if house.location is None else [house.receptacles[house.location].name]
        held = [] if house.held is None else [house.things[house.held].name]
        candidates = {"look", "inventory", "help"}
        candidates |= {f"{verb} {r}" for verb in ("go to", "open", "close", "examine") for r in receptacles}
        candidates |= {f"examine {t}" for t in things} | {f"use {t}" for t in things}
        candidates |= {f"take {t} from {r}" for t in things for r in here}
        candidates |= {f"move {t} to {r}" for t in held for r in receptacles}
        candidates |= {
            f"{verb} {t} with {r}" for verb in ("heat", "cool", "clean") for t in held for r in here
        }
        candidates |= {f"slice {t} with {k}" for t in things for k in held}
        assert set(admissible) <= candidates
        snapshot = copy.deepcopy(house)
        for command in sorted(candidates):
            trial = Engine(copy.deepcopy(snapshot)) if engine.house != snapshot else engine
            outcome = trial.execute(command)
            assert outcome.valid == (command in admissible), command
            if not outcome.valid:
                assert trial.house == snapshot, f"{command!r} was refused but changed the state"
            engine = trial
