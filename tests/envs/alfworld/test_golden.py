"""Golden transcripts: one expert game per task type, pinned word for word.

They pin the generator (same game number, same room), the expert's plan and every feedback sentence
at once. Regenerate them only deliberately, when a change to one of those is intended: print
``"\\n".join(play_expert(ALFWorldEnv("train"), task_type=..., game=...)[0])`` and paste it here.
"""

# ruff: noqa: E501 (the transcripts are pinned verbatim, long lines included)

from __future__ import annotations

import pytest

from rlvr.envs.alfworld.env import ALFWorldEnv
from tests.envs.alfworld.conftest import play_expert

GOLDEN: dict[tuple[str, int], str] = {
    ("pick_and_place_simple", 11): """\
-= Welcome to TextWorld, ALFRED! =-

You are in the middle of a room. Looking quickly around you, you see a armchair 1, a bed 1, a desk 1, a drawer 2, a drawer 1, a dresser 1, a garbagecan 1, a safe 1, a shelf 1, and a sidetable 1.

Your task is to: put some cellphone on safe.
> go to bed 1
You arrive at bed 1. On the bed 1, you see a cellphone 3.
> take cellphone 3 from bed 1
You pick up the cellphone 3 from the bed 1.
> go to safe 1
You arrive at safe 1. The safe 1 is closed.
> open safe 1
You open the safe 1. The safe 1 is open. In it, you see a watch 3.
> move cellphone 3 to safe 1
You move the cellphone 3 to the safe 1.
""",
    ("look_at_obj_in_light", 15): """\
-= Welcome to TextWorld, ALFRED! =-

You are in the middle of a room. Looking quickly around you, you see a bed 1, a drawer 1, a dresser 1, a garbagecan 1, and a sidetable 1.

Your task is to: examine the basketball with the floorlamp.
> go to bed 1
You arrive at bed 1. On the bed 1, you see a baseballbat 2, a baseballbat 1, a basketball 1, a newspaper 1, a pillow 2, a pillow 1, and a tennisracket 1.
> take basketball 1 from bed 1
You pick up the basketball 1 from the bed 1.
> go to sidetable 1
You arrive at sidetable 1. On the sidetable 1, you see a cd 2, a floorlamp 1, and a laptop 1.
> use floorlamp 1
You turn on the floorlamp 1.
""",
    ("pick_clean_then_place_in_recep", 0): """\
-= Welcome to TextWorld, ALFRED! =-

You are in the middle of a room. Looking quickly around you, you see a cabinet 2, a cabinet 1, a countertop 1, a drawer 2, a drawer 1, a garbagecan 1, a shelf 1, a sinkbasin 2, a sinkbasin 1, a toilet 1, and a toiletpaperhanger 1.

Your task is to: clean some soapbar and put it in shelf.
> go to cabinet 1
You arrive at cabinet 1. The cabinet 1 is closed.
> open cabinet 1
You open the cabinet 1. The cabinet 1 is open. In it, you see a soapbar 1, a soapbottle 2, and a spraybottle 1.
> take soapbar 1 from cabinet 1
You pick up the soapbar 1 from the cabinet 1.
> go to sinkbasin 1
You arrive at sinkbasin 1. On the sinkbasin 1, you see a dishsponge 2.
> clean soapbar 1 with sinkbasin 1
You clean the soapbar 1 using the sinkbasin 1.
> go to shelf 1
You arrive at shelf 1. On the shelf 1, you see a handtowel 2, and a soapbottle 1.
> move soapbar 1 to shelf 1
You move the soapbar 1 to the shelf 1.
""",
    ("pick_heat_then_place_in_recep", 16): """\
-= Welcome to TextWorld, ALFRED! =-

You are in the middle of a room. Looking quickly around you, you see a cabinet 6, a cabinet 5, a cabinet 4, a cabinet 3, a cabinet 2, a cabinet 1, a coffeemachine 1, a countertop 1, a diningtable 1, a drawer 3, a drawer 2, a drawer 1, a fridge 1, a garbagecan 1, a microwave 1, a shelf 2, a shelf 1, a sinkbasin 1, a stoveburner 3, a stoveburner 2, a stoveburner 1, and a toaster 1.

Your task is to: put a hot potato in fridge.
> go to countertop 1
You arrive at countertop 1. On the countertop 1, you see a apple 1, a bread 3, a bread 1, a egg 3, a knife 2, a potato 3, and a spatula 2.
> take potato 3 from countertop 1
You pick up the potato 3 from the countertop 1.
> go to microwave 1
You arrive at microwave 1. The microwave 1 is closed.
> heat potato 3 with microwave 1
You heat the potato 3 using the microwave 1.
> go to fridge 1
You arrive at fridge 1. The fridge 1 is closed.
> open fridge 1
You open the fridge 1. The fridge 1 is open. In it, you see a bread 2, a cup 1, and a pan 1.
> move potato 3 to fridge 1
You move the potato 3 to the fridge 1.
""",
    ("pick_cool_then_place_in_recep", 11): """\
-= Welcome to TextWorld, ALFRED! =-

You are in the middle of a room. Looking quickly around you, you see a cabinet 5, a cabinet 4, a cabinet 3, a cabinet 2, a cabinet 1, a coffeemachine 1, a countertop 2, a countertop 1, a drawer 5, a drawer 4, a drawer 3, a drawer 2, a drawer 1, a fridge 1, a garbagecan 1, a microwave 1, a shelf 2, a shelf 1, a sinkbasin 1, a stoveburner 2, a stoveburner 1, and a toaster 1.

Your task is to: put a cool pan in sinkbasin.
> go to cabinet 4
You arrive at cabinet 4. The cabinet 4 is closed.
> open cabinet 4
You open the cabinet 4. The cabinet 4 is open. In it, you see a pan 2, and a pan 1.
> take pan 1 from cabinet 4
You pick up the pan 1 from the cabinet 4.
> go to fridge 1
You arrive at fridge 1. The fridge 1 is closed.
> cool pan 1 with fridge 1
You cool the pan 1 using the fridge 1.
> go to sinkbasin 1
You arrive at sinkbasin 1. On the sinkbasin 1, you see a egg 2, a egg 1, a fork 1, a ladle 1, a spatula 1, and a tomato 3.
> move pan 1 to sinkbasin 1
You move the pan 1 to the sinkbasin 1.
""",
    ("pick_two_obj_and_place", 0): """\
-= Welcome to TextWorld, ALFRED! =-

You are in the middle of a room. Looking quickly around you, you see a bed 1, a desk 2, a desk 1, a drawer 4, a drawer 3, a drawer 2, a drawer 1, a garbagecan 1, a shelf 2, a shelf 1, and a sidetable 1.

Your task is to: find two watch and put them in sidetable.
> go to drawer 1
You arrive at drawer 1. The drawer 1 is closed.
> open drawer 1
You open the drawer 1. The drawer 1 is open. In it, you see a watch 1.
> take watch 1 from drawer 1
You pick up the watch 1 from the drawer 1.
> go to sidetable 1
You arrive at sidetable 1. On the sidetable 1, you see a alarmclock 1, a desklamp 1, and a floorlamp 1.
> move watch 1 to sidetable 1
You move the watch 1 to the sidetable 1.
> go to drawer 2
You arrive at drawer 2. The drawer 2 is closed.
> open drawer 2
You open the drawer 2. The drawer 2 is open. In it, you see a cellphone 1, and a watch 2.
> take watch 2 from drawer 2
You pick up the watch 2 from the drawer 2.
> go to sidetable 1
You arrive at sidetable 1. On the sidetable 1, you see a alarmclock 1, a desklamp 1, a floorlamp 1, and a watch 1.
> move watch 2 to sidetable 1
You move the watch 2 to the sidetable 1.
""",
}


@pytest.mark.parametrize(("task_type", "game"), list(GOLDEN))
def test_expert_game_matches_its_golden_transcript(task_type: str, game: int) -> None:
    lines, info = play_expert(ALFWorldEnv("train"), task_type=task_type, game=game)
    assert "\n".join(lines) + "\n" == GOLDEN[task_type, game]
    assert info["won"] and info["metrics"]["success"] == 1.0 and info["task_type"] == task_type


def test_goldens_cover_all_six_task_types() -> None:
    from rlvr.envs.alfworld.tasks import TASK_TYPES

    assert sorted(task_type for task_type, _ in GOLDEN) == sorted(TASK_TYPES)
