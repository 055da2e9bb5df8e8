"""The splits: valid_unseen's goal combinations never occur in train or valid_seen, and games keep to
their split's pool; plus the generator's guarantees on every game."""

from __future__ import annotations

import zlib

import pytest

from rlvr.envs.alfworld.generate import generate_game
from rlvr.envs.alfworld.tasks import (
    HOLDOUT_MODULUS,
    SPLITS,
    TASK_TYPES,
    TREATMENT,
    all_combinations,
    combinations,
    goal_met,
    held_out,
)
from rlvr.envs.alfworld.world import APPLIANCE_FOR, LAMP_HOLDERS, RECEPTACLE_HOLDS


def test_held_out_rule_is_the_documented_crc() -> None:
    for combo in all_combinations("pick_and_place_simple"):
        assert held_out(*combo) == (zlib.crc32("/".join(combo).encode()) % HOLDOUT_MODULUS == 0)


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_every_task_type_has_seen_and_unseen_goals_that_do_not_overlap(task_type: str) -> None:
    train, seen, unseen = (set(combinations(task_type, split)) for split in SPLITS)
    assert train == seen and train and unseen
    assert not train & unseen
    assert train | unseen == set(all_combinations(task_type))


def test_no_unseen_combination_is_seen_under_any_task_type() -> None:
    unseen = {combo for task_type in TASK_TYPES for combo in combinations(task_type, "valid_unseen")}
    seen = {combo for task_type in TASK_TYPES for combo in combinations(task_type, "train")}
    assert not unseen & seen


@pytest.mark.parametrize("split", SPLITS)
def test_generated_games_keep_to_their_pool_and_are_winnable(split: str) -> None:
    for task_type in TASK_TYPES:
        pool = set(combinations(task_type, split))
        for game in range(150):
            house = generate_game(split, task_type, game)
            goal = house.goal
            assert (house.room, goal.object_kind, goal.target_kind) in pool
            assert not goal_met(house) and house.location is None and house.held is None
            kinds = [r.kind for r in house.receptacles]
            things = [t.kind for t in house.things]
            assert things.count(goal.object_kind) >= (2 if task_type == "pick_two_obj_and_place" else 1)
            if task_type == "look_at_obj_in_light":
                assert goal.target_kind in things
                continue
            assert goal.target_kind in kinds and goal.object_kind in RECEPTACLE_HOLDS[goal.target_kind]
            if task_type in TREATMENT:
                assert APPLIANCE_FOR[TREATMENT[task_type]] in kinds
            for receptacle in house.receptacles:
                for kind in (house.things[i].kind for i in receptacle.contents):
                    if kind in LAMP_HOLDERS:
                        assert receptacle.kind in LAMP_HOLDERS[kind]
                    else:
                        assert kind in RECEPTACLE_HOLDS[receptacle.kind]
                if receptacle.kind == goal.target_kind:
                    assert goal.object_kind not in {house.things[i].kind for i in receptacle.contents}


def test_train_and_valid_seen_are_different_games() -> None:
    for task_type in TASK_TYPES:
        same = sum(
            generate_game("train", task_type, game) == generate_game("valid_seen", task_type, game)
            for game in range(50)
        )
        assert same == 0
