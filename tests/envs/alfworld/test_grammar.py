"""Command parsing: the accepted spellings, and fuzzed input that must never raise."""

from __future__ import annotations

import numpy as np
import pytest

from rlvr.envs.alfworld.env import ALFWorldEnv
from rlvr.envs.alfworld.grammar import Command, normalize, parse
from rlvr.envs.alfworld.texts import NOTHING_HAPPENS


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("go to countertop 1", Command("goto", "countertop 1")),
        ("  Go   To Countertop 1. ", Command("goto", "countertop 1")),
        ('> "go to cabinet 10"', Command("goto", "cabinet 10")),
        ("take apple 1 from countertop 1", Command("take", "apple 1", "countertop 1")),
        ("take the apple1 from the countertop1", Command("take", "apple 1", "countertop 1")),
        ("move apple 1 to fridge 1", Command("put", "apple 1", "fridge 1")),
        ("put apple 1 in fridge 1", Command("put", "apple 1", "fridge 1")),
        ("put apple 1 on fridge 1", Command("put", "apple 1", "fridge 1")),
        ("put apple 1 in/on fridge 1", Command("put", "apple 1", "fridge 1")),
        ("heat egg 1 with microwave 1", Command("heat", "egg 1", "microwave 1")),
        ("cool egg 1 with fridge 1", Command("cool", "egg 1", "fridge 1")),
        ("clean egg 1 with sinkbasin 1", Command("clean", "egg 1", "sinkbasin 1")),
        ("slice bread 1 with knife 2", Command("slice", "bread 1", "knife 2")),
        ("use desklamp 1", Command("use", "desklamp 1")),
        ("examine mug 1", Command("examine", "mug 1")),
        ("LOOK", Command("look")),
        ("inventory", Command("inventory")),
        ("help!", Command("help")),
    ],
)
def test_spellings_parse(text: str, command: Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    "text", ["", "   ", "go to", "take apple 1", "put apple 1", "fly to the moon", "go to 1", "x" * 5000]
)
def test_non_commands_parse_to_none(text: str) -> None:
    assert parse(text) is None


def test_normalize_is_what_repeats_are_compared_on() -> None:
    assert normalize("  Go  to Cabinet1. ") == normalize("go to cabinet 1") == "go to cabinet 1"


def _mutations(command: str, rng: np.random.Generator) -> list[str]:
    """Near misses: a character dropped, doubled or swapped, a wrong number, a word left out."""
    out = []
    for _ in range(4):
        i = int(rng.integers(len(command)))
        out += [command[:i] + command[i + 1 :], command[:i] + command[i] + command[i:]]
        if i + 1 < len(command):
            out.append(command[:i] + command[i + 1] + command[i] + command[i + 2 :])
    words = command.split()
    out.append(" ".join(words[:-1]))
    out.append(" ".join(word if not word.isdigit() else str(int(word) + 7) for word in words))
    out.append(command.upper() + " please")
    return out


def test_fuzzed_commands_never_raise() -> None:
    env = ALFWorldEnv("train", max_steps=10_000)
    rng = np.random.default_rng(11)
    _, info = env.reset(seed=4)
    junk = [
        "",
        "\x00\x01\x02",
        "🙂🙂 go to 🙂",
        "go to cabinet 1" * 200,
        "é" * 999,
        "ｇｏ ｔｏ ｃａｂｉｎｅｔ １",
        "\ud800 lone surrogate",
        "take  from ",
        "move to to to to",
        "put put in in on on",
        "go to go to",
        "examine examine 1",
        "take desklamp 1 from sidetable 1",
        "slice slice 1 with with 1",
    ]
    junk += [env.action_space.sample() for _ in range(200)]
    for command in info["admissible_commands"]:
        junk += _mutations(command, rng)
    for text in junk:
        observation, reward, terminated, _, info = env.step(text)
        assert isinstance(observation, str) and reward in (0.0, 1.0)
        assert info["invalid_action"] == (
            observation == NOTHING_HAPPENS or info["invalid_reason"] is not None
        )
        if terminated:
            _, info = env.reset(seed=4)
    for bad in [None, 3, b"go to cabinet 1", ["look"], "x" * (env.max_action_length + 1)]:
        observation, _, _, _, info = env.step(bad)  # type: ignore[arg-type]
        assert isinstance(observation, str)
