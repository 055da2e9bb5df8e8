"""The adapters onto the real TextWorld engine: a game made here with ``tw-make``, ALFWorld-format sample
games, and ALFWorld's own games where ``alfworld-download`` has put them in ``$ALFWORLD_DATA``.

TextWorld and ALFWorld are optional (hundreds of MB with spaCy and Fast Downward), so the tests that play
them skip where they are not installed; the error paths and text helpers run everywhere.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlvr.core.game import GameOverError
from rlvr.envs.alfworld.textworld_adapter import (
    TASK_TYPES,
    ALFWorldTWEnv,
    TextWorldGameEnv,
    clean_feedback,
    normalize_command,
    task_type_from_path,
    write_sample_alfworld_data,
)

HAS_TEXTWORLD = importlib.util.find_spec("textworld") is not None
HAS_ALFWORLD = HAS_TEXTWORLD and importlib.util.find_spec("alfworld") is not None
needs_textworld = pytest.mark.skipif(
    not HAS_TEXTWORLD, reason="needs TextWorld (its wheel ships tw-make and Inform7): pip install textworld"
)
needs_alfworld = pytest.mark.skipif(not HAS_ALFWORLD, reason="needs ALFWorld: pip install alfworld")
ALFWORLD_DATA = os.environ.get("ALFWORLD_DATA", "")
HAS_ALFWORLD_DATA = HAS_ALFWORLD and Path(ALFWORLD_DATA, "json_2.1.1", "valid_seen").is_dir()


@pytest.fixture(scope="session")
def tw_game(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small TextWorld game (9-step walkthrough, dense rewards), compiled by ``tw-make`` offline."""
    if not HAS_TEXTWORLD:
        pytest.skip("needs TextWorld: pip install textworld")
    tw_make = shutil.which("tw-make", path=str(Path(sys.executable).parent)) or shutil.which("tw-make")
    assert tw_make is not None, "textworld is installed but its tw-make script is not on PATH"
    output = tmp_path_factory.mktemp("tw") / "game.z8"
    command = [tw_make, "tw-simple", "--rewards", "dense", "--goal", "brief", "--seed", "1"]
    subprocess.run([*command, "--output", str(output), "--silent"], check=True, capture_output=True)
    return output


@pytest.fixture(scope="session")
def alfworld_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_ALFWORLD:
        pytest.skip("needs ALFWorld: pip install alfworld")
    return write_sample_alfworld_data(tmp_path_factory.mktemp("alfworld"))


def play(env: Any, commands: list[Any]) -> list[tuple[str, float, bool, bool, dict[str, Any]]]:
    return [env.step(command) for command in commands]


def random_transcript(env: Any, seed: int, steps: int) -> list[str]:
    rng = np.random.default_rng(seed)
    observation, info = env.reset(seed=seed)
    lines = [info["game_file"], observation]
    for _ in range(steps):
        commands = info["admissible_commands"]
        command = commands[int(rng.integers(len(commands)))]
        observation, reward, terminated, truncated, info = env.step(command)
        lines += [command, observation, str(reward)]
        if terminated or truncated:
            break
    return lines


# -- everywhere ------------------------------------------------------------------------------------


def test_import_pulls_in_neither_engine() -> None:
    code = (
        "import sys, rlvr.envs.alfworld.textworld_adapter\n"
        "assert not {'textworld', 'alfworld'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_alfworld_data_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as caught:
        ALFWorldTWEnv("valid_seen", data_dir=tmp_path)
    message = str(caught.value)
    assert str(tmp_path) in message
    for fix in ("pip install alfworld", "alfworld-download", "ALFWORLD_DATA"):
        assert fix in message


def test_missing_packages_name_the_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    game = tmp_path / "game.z8"
    game.write_bytes(b"")
    (tmp_path / "json_2.1.1" / "train").mkdir(parents=True)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(ImportError, match="pip install textworld"):
        TextWorldGameEnv(game)
    with pytest.raises(ImportError, match=r"pip install alfworld.*alfworld-download"):
        ALFWorldTWEnv("train", data_dir=tmp_path)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        TextWorldGameEnv(tmp_path / "nope.z8")
    with pytest.raises(ValueError, match="split"):
        ALFWorldTWEnv("test", data_dir=tmp_path)
    with pytest.raises(ValueError, match="task types"):
        ALFWorldTWEnv("train", data_dir=tmp_path, task_types=["juggle"])


def test_text_helpers() -> None:
    assert normalize_command('  "Go to\n Fridge 1."  ') == "go to fridge 1"
    assert normalize_command("\n\t") == ""
    status = "\nYou open it.\n\n>" + " " * 40 + "-= Bedroom =-0/1"
    assert clean_feedback(status) == "You open it."
    assert (
        clean_feedback("\nLine one\n> not a prompt\nLine three\n") == "Line one\n> not a prompt\nLine three"
    )
    path = "/data/json_2.1.1/train/pick_heat_then_place_in_recep-Egg-None-CounterTop-5/trial_T1/game.tw-pddl"
    assert task_type_from_path(path) == "pick_heat_then_place_in_recep"
    assert task_type_from_path("/tmp/game.z8") is None
    assert len(TASK_TYPES) == 6


# -- a tw-make game --------------------------------------------------------------------------------


@needs_textworld
def test_reset_and_step_follow_the_contract(tw_game: Path) -> None:
    env = TextWorldGameEnv(tw_game, max_steps=10)
    observation, info = env.reset(seed=0)
    assert isinstance(observation, str) and env.observation_space.contains(observation)
    assert "Bedroom" in observation and not observation.endswith(">")
    assert info["turn"] == 0 and info["player"] == "agent" and info["role"] == "agent"
    assert info["invalid_action"] is False and info["invalid_reason"] is None
    assert "look" in info["admissible_commands"] and info["won"] is False
    assert info["max_score"] == 8 and info["game"] == 0 and info["game_file"] == str(tw_game)
    assert "one command" in info["instructions"] and info["metrics"] == {}
    observation, reward, terminated, truncated, info = env.step("look")
    assert isinstance(observation, str) and "Bedroom" in observation
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert info["turn"] == 1 and info["invalid_action"] is False
    env.close()


@needs_textworld
def test_passes_gymnasium_check_env(tw_game: Path) -> None:
    check_env(TextWorldGameEnv(tw_game), skip_render_check=True)


@needs_textworld
def test_walkthrough_wins_with_dense_rewards_summing_to_one(tw_game: Path) -> None:
    env = TextWorldGameEnv(tw_game, walkthrough=True)
    _, info = env.reset(seed=1)
    walkthrough = info["walkthrough"]
    assert walkthrough and walkthrough[0] == "open antique trunk"
    results = play(env, walkthrough)
    rewards = [reward for _, reward, _, _, _ in results]
    assert rewards[0] == pytest.approx(1 / 8)
    assert sum(rewards) == pytest.approx(1.0)
    assert not any(terminated for _, _, terminated, _, _ in results[:-1])
    _, _, terminated, truncated, info = results[-1]
    assert terminated and not truncated and info["won"] and info["player"] is None
    assert info["metrics"]["success"] == 1.0 and info["metrics"]["return"] == pytest.approx(1.0)
    assert info["metrics"]["steps"] == len(walkthrough) and info["metrics"]["invalid_actions"] == 0
    with pytest.raises(GameOverError):
        env.step("look")


@needs_textworld
def test_invalid_actions_never_raise(tw_game: Path) -> None:
    env = TextWorldGameEnv(tw_game, max_action_length=200)
    env.reset(seed=0)
    for action in ["dance wildly", "", "   ", 5, None, "x" * 201, "café 🙂", "\ud800"]:
        observation, reward, terminated, truncated, info = env.step(action)  # type: ignore[arg-type]
        assert isinstance(observation, str) and observation
        assert info["invalid_action"] and info["invalid_reason"]
        assert (reward, terminated, truncated) == (0.0, False, False)
    assert env.step(b"look")[4]["invalid_action"] is False
    # A newline would make the Z-machine run the second line on the *next* step; it is flattened.
    env.step("inventory\nopen antique trunk")
    observation, *_ = env.step("inventory")
    assert "carrying nothing" in observation
    assert env.step("OPEN Antique Trunk.")[1] == pytest.approx(1 / 8)


@needs_textworld
def test_an_engine_failure_is_an_invalid_action(tw_game: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = TextWorldGameEnv(tw_game)
    _, before = env.reset(seed=0)

    def broken(command: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(env._tw_env, "step", broken)
    observation, reward, terminated, truncated, info = env.step("look")
    assert observation == "Nothing happens." and (reward, terminated, truncated) == (0.0, False, False)
    assert info["invalid_action"] and "boom" in info["invalid_reason"]
    assert info["admissible_commands"] == before["admissible_commands"]


@needs_textworld
def test_truncated_after_max_steps(tw_game: Path) -> None:
    env = TextWorldGameEnv(tw_game, max_steps=3)
    env.reset(seed=0)
    results = play(env, ["look", "dance", "look"])
    assert [truncated for *_, truncated, _ in results] == [False, False, True]
    info = results[-1][4]
    assert info["player"] is None and info["metrics"]["truncated"] == 1.0
    assert info["metrics"]["success"] == 0.0 and info["metrics"]["invalid_actions"] == 1.0
    with pytest.raises(GameOverError):
        env.step("look")
    with pytest.raises(GameOverError):
        TextWorldGameEnv(tw_game).step("look")


@needs_textworld
def test_stop_on_repeat_and_admissible_listing(tw_game: Path) -> None:
    env = TextWorldGameEnv(tw_game, stop_on_repeat=True, show_admissible_commands=True)
    observation, _ = env.reset(seed=0)
    assert "Admissible commands:\n  examine antique trunk" in observation
    assert env.step("look")[2] is False
    _, _, terminated, _, info = env.step("Look")
    assert terminated and info["metrics"]["stopped_on_repeat"] == 1.0


@needs_textworld
def test_seed_fixes_game_and_transcript(tw_game: Path) -> None:
    # The .json beside tw-make's .z8 is the same game on TextWorld's own engine (without prose).
    files = [tw_game, tw_game.with_suffix(".json")]
    env = TextWorldGameEnv(files)
    assert env.game_files == tuple(sorted(str(path) for path in files))
    for seed in range(4):
        expected = int(np.random.default_rng(seed).integers(2))
        assert env.reset(seed=seed)[1]["game"] == expected
    assert env.reset(options={"game_file": tw_game})[1]["game_file"] == str(tw_game)
    with pytest.raises(ValueError):
        env.reset(options={"game": 2})
    one, two = TextWorldGameEnv(files), TextWorldGameEnv(files)
    for seed in (3, 4):
        assert random_transcript(one, seed, 30) == random_transcript(two, seed, 30)


# -- ALFWorld-format sample games on the real ALFWorld engine ----------------------------------------


@needs_alfworld
def test_alfworld_splits_and_task_filter(alfworld_sample: Path) -> None:
    train = ALFWorldTWEnv("train", data_dir=alfworld_sample)
    kinds = ["pick_and_place_simple", "pick_clean_then_place_in_recep", "pick_heat_then_place_in_recep"]
    kinds.append("pick_cool_then_place_in_recep")
    assert [task_type_from_path(path) for path in train.game_files] == sorted(kinds)
    assert len(ALFWorldTWEnv("valid_seen", data_dir=alfworld_sample).game_files) == 1
    cool = ALFWorldTWEnv("train", data_dir=alfworld_sample, task_types="pick_cool_then_place_in_recep")
    assert len(cool.game_files) == 1
    with pytest.raises(RuntimeError, match="no solvable ALFWorld games"):
        ALFWorldTWEnv("valid_seen", data_dir=alfworld_sample, task_types="pick_two_obj_and_place")


@needs_alfworld
def test_alfworld_walkthrough_wins(alfworld_sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALFWORLD_DATA", str(alfworld_sample))
    env = ALFWorldTWEnv("train", walkthrough=True, max_steps=20)
    observation, info = env.reset(options={"game": 0})
    assert observation.startswith("-= Welcome to TextWorld, ALFRED! =-")
    assert info["task_type"] == "pick_and_place_simple" and info["goal"] == "put a apple in fridge."
    assert info["split"] == "train" and "go to fridge 1" in info["admissible_commands"]
    assert "move {object} to {receptacle}" in info["instructions"]
    observation, reward, terminated, _, invalid = env.step("jump around")
    assert observation == "Nothing happens." and invalid["invalid_action"] and reward == 0.0
    walkthrough = info["walkthrough"]
    assert walkthrough[-1].startswith("move ") and len(walkthrough) >= 4
    results = play(env, walkthrough[:-1])
    assert all(reward == 0.0 and not info["invalid_action"] for _, reward, _, _, info in results)
    # ALFWorld's older wording, as its ReAct prompts use it, is read as the admissible "move".
    obj, recep = walkthrough[-1].removeprefix("move ").split(" to ")
    observation, reward, terminated, truncated, info = env.step(f"Put {obj} in/on {recep}.")
    assert observation.startswith("You move the") and reward == 1.0 and terminated and not truncated
    metrics = info["metrics"]
    assert metrics["success"] == 1.0 and metrics["return"] == 1.0 and metrics["invalid_actions"] == 1.0
    assert metrics["steps"] == len(walkthrough) + 1
    assert metrics["task_pick_and_place_simple"] == 1.0 and metrics["task_pick_two_obj_and_place"] == 0.0


# -- ALFWorld's own games --------------------------------------------------------------------------


@pytest.mark.skipif(
    not HAS_ALFWORLD_DATA,
    reason="needs `pip install alfworld` and ALFWorld's games: run alfworld-download, export ALFWORLD_DATA",
)
def test_real_alfworld_game_is_won_by_its_walkthrough() -> None:
    env = ALFWorldTWEnv("valid_seen", walkthrough=True)
    assert len(env.game_files) > 100
    observation, info = env.reset(seed=0)
    assert "Your task is to:" in observation and info["task_type"] in TASK_TYPES
    results = play(env, info["walkthrough"])
    _, reward, terminated, _, info = results[-1]
    assert reward == 1.0 and terminated and info["metrics"]["success"] == 1.0
