"""The Reflexion wrapper: trials, memory, reflections, rewards, the store, constitutions."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

from rlvr.core.game import GameOverError
from rlvr.core.registry import EnvEntry, register_env
from rlvr.core.spaces import UnicodeText
from rlvr.envs.reflection import (
    ConstitutionWrapper,
    ReflectionStore,
    ReflexionWrapper,
    format_constitution,
    format_memory,
    parse_principles,
)

GUESS = "tests.envs.test_reflection:GuessEnv"
REFLECT_MARK = "Reply with the reflection only"
CURATE_MARK = "Rewrite the constitution"


class GuessEnv(gymnasium.Env[str, str]):
    """Guess a secret digit (1-9) in one go; a wrong guess, or running out of time, reveals it.

    ``wait`` passes a step without guessing; after ``patience`` steps the episode is truncated. So an
    agent can only do better than chance on a retry if it remembers what the last trial revealed.
    """

    def __init__(self, patience: int = 3, wrong_reward: float = 0.0) -> None:
        self.observation_space = UnicodeText(max_length=10_000)
        self.action_space = UnicodeText(max_length=10_000)
        self.patience = patience
        self.wrong_reward = wrong_reward
        self.resets: list[int | None] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.resets.append(seed)
        self.secret = int(self.np_random.integers(1, 10))
        self.steps = 0
        info = {"instructions": "Reply with a single digit, or 'wait'.", "player": "agent", "role": "agent"}
        return "Guess the secret digit (1-9).", info

    def step(self, action: str):
        self.steps += 1
        text = str(action).strip()
        if text == "wait":
            if self.steps >= self.patience:
                info = {"player": None, "metrics": {"success": 0.0, "steps": float(self.steps)}}
                return f"Time is up. The secret was {self.secret}.", 0.0, False, True, info
            return "Waiting.", 0.0, False, False, {"player": "agent", "legal_actions": ["wait"]}
        won = text == str(self.secret)
        info = {
            "player": None,
            "invalid_action": not text.isdigit(),
            "invalid_reason": None if text.isdigit() else "not a digit",
            "metrics": {"success": float(won), "steps": float(self.steps)},
        }
        if won:
            return "Correct!", 1.0, True, False, info
        return f"Wrong. The secret was {self.secret}.", self.wrong_reward, True, False, info


class GuessReflexionEnv(ReflexionWrapper):
    """The subclass pattern a registry entry uses: the inner env is a class attribute."""

    inner_env = GUESS


def scripted_agent(observation: str, *, use_memory: bool = True, waits: int = 0) -> str:
    """Reflects the revealed secret; guesses the one its memory names, else 0 (always wrong)."""
    if CURATE_MARK in observation:
        return "Here you go:\n1. Read your memory first.\n2. Answer the digit you learned."
    if REFLECT_MARK in observation:
        revealed = re.findall(r"secret was (\d)", observation)
        return f"I guessed wrong. Next time answer {revealed[-1]}." if revealed else ""
    remembered = re.findall(r"Next time answer (\d)", observation)
    if use_memory and remembered:
        return remembered[-1]
    return "wait" if waits else "0"


def play(env: gymnasium.Env, seed: int | None, agent=scripted_agent, max_steps: int = 100):
    """Run one episode; returns the observations, rewards and infos, reset included."""
    observation, info = env.reset(seed=seed)
    record = [(observation, 0.0, info)]
    for _ in range(max_steps):
        observation, reward, terminated, truncated, info = env.step(agent(observation))
        record.append((observation, reward, info))
        assert not truncated
        if terminated:
            return record
    raise AssertionError("episode did not end")


# -- text helpers ------------------------------------------------------------------------------------


def test_parse_principles_reads_numbered_and_bulleted_lists() -> None:
    text = (
        "<think>1. not this</think>Sure! Here is the constitution:\n"
        "**1.** Check the **fridge** first.\n"
        "2) Use `go to` before\n   taking an object.\n"
        "- Never repeat a failed action.\n"
        "* never repeat a failed action.\n"
        "(4) Plan before acting.\n"
        "Principle 5: Verify the goal.\n"
        "3.14 is not an item and 2024 neither, but both continue item 5.\n\n"
        "That is all."
    )
    assert parse_principles(text) == [
        "Check the **fridge** first.",
        "Use `go to` before taking an object.",
        "Never repeat a failed action.",
        "Plan before acting.",
        "Verify the goal. 3.14 is not an item and 2024 neither, but both continue item 5.",
    ]
    assert parse_principles(text, max_principles=2) == parse_principles(text)[:2]
    assert parse_principles("I would rather not.") == []
    assert parse_principles("") == []
    assert parse_principles("1. " + "x" * 1000)[0].endswith("...")
    principles = ["Look first.", "Then act."]
    assert parse_principles(format_constitution(principles)) == principles
    with pytest.raises(ValueError):
        parse_principles("1. a", max_principles=0)


def test_format_memory_numbers_the_trials_of_a_window() -> None:
    assert format_memory([]) == ""
    memory = format_memory(["b", " "], first_trial=2)
    assert memory.splitlines()[1:] == ["Trial 2: b", "Trial 3: (no reflection given)"]
    assert memory.startswith("Your memory")


# -- trials and memory -------------------------------------------------------------------------------


def test_memory_lets_a_scripted_agent_solve_on_trial_two() -> None:
    env = ReflexionWrapper(GuessEnv())
    record = play(env, seed=5)
    secret = env.env.secret
    observations = [observation for observation, _, _ in record]
    # Trial 1: guess 0, wrong, asked to reflect; the reflection turn is not the end.
    assert record[0][2]["instructions"].startswith("Reply with a single digit")
    assert "up to 3 times" in record[0][2]["instructions"]
    assert observations[0] == "Guess the secret digit (1-9)."  # trial 1 is the inner env's own start
    assert REFLECT_MARK in observations[1] and f"secret was {secret}" in observations[1]
    assert record[1][2]["phase"] == "reflect" and "legal_actions" not in record[1][2]
    # Trial 2 shows the memory before the inner env's first observation, and the agent uses it.
    assert observations[2].startswith("Your memory")
    assert f"Trial 1: I guessed wrong. Next time answer {secret}." in observations[2]
    assert observations[2].endswith(
        "Trial 2 of 3. The task starts again from the beginning.\n\nGuess the secret digit (1-9)."
    )
    assert record[2][2]["trial"] == 2 and record[2][2]["phase"] == "act"
    assert observations[3].startswith("Correct!")
    metrics = record[-1][2]["metrics"]
    assert metrics == {
        "success": 1.0,
        "trials": 2.0,
        "reflections": 1.0,
        "invalid_reflections": 0.0,
        "return": 1.0,
        "constitution_version": 0.0,
        "curated": 0.0,
        "success@1": 0.0,
        "success@2": 1.0,
        "success@3": 1.0,
        "last/success": 1.0,
        "last/steps": 1.0,
    }
    assert record[-1][2]["player"] is None and record[-1][2]["phase"] == "done"
    # Every trial replayed the same task: the inner env was reset with the episode's seed each time.
    assert env.env.resets == [5, 5]
    with pytest.raises(GameOverError):
        env.step("1")


def test_an_agent_that_ignores_its_memory_fails_every_trial() -> None:
    env = ReflexionWrapper(GuessEnv(), max_trials=3)
    record = play(env, seed=5, agent=lambda obs: scripted_agent(obs, use_memory=False))
    metrics = record[-1][2]["metrics"]
    assert [metrics[f"success@{k}"] for k in (1, 2, 3)] == [0.0, 0.0, 0.0]
    assert metrics["success"] == 0.0 and metrics["trials"] == 3.0
    # Reflexion asks for no reflection after the last trial: nothing would read it.
    assert metrics["reflections"] == 2.0
    assert "no trials are left" in record[-1][0]
    assert len(record) == 1 + 3 + 2


def test_memory_shows_only_the_last_three_reflections() -> None:
    lessons = iter(f"lesson {k}" for k in range(1, 10))

    def agent(observation: str) -> str:
        return next(lessons) if REFLECT_MARK in observation else "0"

    env = ReflexionWrapper(GuessEnv(), max_trials=5, memory_size=3)
    record = play(env, seed=1, agent=agent)
    starts = [obs for obs, _, info in record if info["phase"] == "act" and "Trial" in obs]
    last_start = starts[-1]
    assert "Trial 5 of 5." in last_start
    assert "Trial 1: lesson 1" not in last_start
    assert all(f"Trial {k}: lesson {k}" in last_start for k in (2, 3, 4))
    assert "Trial 2: lesson 2" in starts[1] and "Trial 1: lesson 1" in starts[1]
    assert record[-1][2]["metrics"]["reflections"] == 4.0


def test_success_on_the_first_trial_ends_the_episode() -> None:
    env = ReflexionWrapper(GuessEnv(), max_trials=4)
    env.reset(seed=3)
    _, reward, terminated, truncated, info = env.step(str(env.env.secret))
    assert (reward, terminated, truncated) == (1.0, True, False)
    metrics = info["metrics"]
    assert metrics["trials"] == 1.0 and metrics["reflections"] == 0.0
    assert [metrics[f"success@{k}"] for k in range(1, 5)] == [1.0] * 4


def test_inner_truncation_and_the_step_cap_end_a_trial_as_failure() -> None:
    env = ReflexionWrapper(GuessEnv(patience=2), max_trials=2)
    env.reset(seed=0)
    env.step("wait")
    observation, _, terminated, truncated, info = env.step("wait")
    assert not terminated and not truncated and info["phase"] == "reflect"
    assert "ran out of steps" in observation and REFLECT_MARK in observation

    capped = ReflexionWrapper(GuessEnv(patience=100), max_trials=2, max_trial_steps=3)
    capped.reset(seed=0)
    for _ in range(2):
        assert capped.step("wait")[4]["phase"] == "act"
    observation, _, _, _, info = capped.step("wait")
    assert info["phase"] == "reflect" and "limit of 3 steps" in observation
    assert capped.trial_results[0].cut_short and not capped.trial_results[0].success


def test_an_empty_reflection_is_stored_but_invalid_and_long_ones_are_clipped() -> None:
    env = ReflexionWrapper(GuessEnv(), max_trials=3, reflection_max_chars=10)
    env.reset(seed=2)
    env.step("0")
    observation, _, _, _, info = env.step("   ")
    assert info["invalid_action"] and info["invalid_reason"] == "The reflection is empty."
    assert info["phase"] == "act" and "Trial 1: (no reflection given)" in observation
    env.step("0")
    env.step("garbage " * 50)
    assert env.reflections == ["", "garbage ga"]
    *_, info = env.step("0")
    assert info["metrics"]["invalid_reflections"] == 1.0 and info["metrics"]["reflections"] == 2.0


def test_hostile_reflections_reach_the_store_and_bad_templates_fail_early() -> None:
    with ReflectionStore() as store:
        env = ReflexionWrapper(GuessEnv(), store=store, max_trials=6)
        env.reset(seed=2)
        for hostile in ("\ud800\udfff x", b"\xff\x00bytes", None, 12, "\x00" * 3):
            env.step("0")
            assert env.phase == "reflect"
            env.step(hostile)
        texts = [record.reflection for record in store.reflections()]
        assert texts == ["?? x", "\ufffd\x00bytes", "", "12", "\x00\x00\x00"]
    with pytest.raises(ValueError, match="template"):
        ReflexionWrapper(GuessEnv(), reflection_prompt="Trial {number} failed.")


def test_reward_modes() -> None:
    per_trial = play(ReflexionWrapper(GuessEnv(wrong_reward=-0.5)), seed=4)
    assert [reward for _, reward, _ in per_trial[1:]] == [-0.5, 0.0, 1.0]
    assert per_trial[-1][2]["metrics"]["return"] == 0.5
    final = play(ReflexionWrapper(GuessEnv(wrong_reward=-0.5), reward="final"), seed=4)
    assert [reward for _, reward, _ in final[1:]] == [0.0, 0.0, 1.0]
    assert final[-1][2]["metrics"]["return"] == 1.0
    failing = play(
        ReflexionWrapper(GuessEnv(wrong_reward=-0.5), reward="final", max_trials=2),
        seed=4,
        agent=lambda obs: scripted_agent(obs, use_memory=False),
    )
    assert [reward for _, reward, _ in failing[1:]] == [0.0, 0.0, -0.5]


# -- gymnasium contract --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reflexion", "constitution", "both"])
def test_passes_check_env(mode: str) -> None:
    curate = None if mode == "reflexion" else 1
    env = ReflexionWrapper(GuessEnv(), mode=mode, curate_every=curate, constitution=["Be brief."])
    check_env(env, skip_render_check=True)


def test_same_seed_same_episode_and_unseeded_resets_replay_after_a_seeded_one() -> None:
    def transcript(seed: int | None, env: ReflexionWrapper | None = None) -> str:
        env = env or ReflexionWrapper(GuessEnv(), max_trials=3)
        return json.dumps(play(env, seed=seed, agent=lambda o: scripted_agent(o, use_memory=False)))

    assert transcript(7) == transcript(7)
    assert len({transcript(seed) for seed in range(8)}) > 1
    first, second = ReflexionWrapper(GuessEnv()), ReflexionWrapper(GuessEnv())
    first.reset(seed=11)
    second.reset(seed=11)
    assert transcript(None, first) == transcript(None, second)
    assert first.env.resets[-1] == first.env.resets[-2] == first.env.resets[-3] is not None


# -- the store --------------------------------------------------------------------------------------


def test_store_logs_reflections_per_task_across_instances_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "reflections.db"
    first = ReflexionWrapper(GuessEnv(), store=str(path))
    second = ReflexionWrapper(GuessEnv(), store=str(path), max_trials=2)
    play(first, seed=5)  # solved on trial 2
    play(second, seed=6, agent=lambda obs: scripted_agent(obs, use_memory=False))
    first.close()
    second.close()
    with ReflectionStore(path) as store:
        records = store.reflections()
        assert [(r.task_key, r.trial, r.success) for r in records] == [
            ("GuessEnv/seed=5", 1, True),  # the trial after it solved the task
            ("GuessEnv/seed=6", 1, False),
        ]
        assert records[0].reflection.startswith("I guessed wrong")
        assert [r.task_key for r in store.reflections("GuessEnv/seed=6")] == ["GuessEnv/seed=6"]
        assert store.episode_count() == 2
        assert store.reflections(scope="other") == []
        assert [r.id for r in store.reflections(limit=1)] == [records[1].id]
        journal = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
        assert journal == "wal"


def test_store_survives_two_threads_writing_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    shared = ReflectionStore(path)
    errors: list[BaseException] = []

    def writer(name: str, own_connection: bool) -> None:
        try:
            store = ReflectionStore(path, timeout_s=10) if own_connection else shared
            for index in range(100):
                store.add_reflection(f"{name}-{index % 5}", index, f"{name} {index}")
                store.add_episode(name, success=index % 2 == 0, trials=1)
            if own_connection:
                store.close()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=writer, args=("a", True)),
        threading.Thread(target=writer, args=("b", True)),
        threading.Thread(target=writer, args=("c", False)),
        threading.Thread(target=writer, args=("d", False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(shared.reflections()) == 400
    assert shared.episode_count() == 400
    shared.close()
    with pytest.raises(sqlite3.ProgrammingError):
        shared.reflections()


def test_store_survives_two_processes_writing_at_once(tmp_path: Path) -> None:
    path = tmp_path / "procs.db"
    code = (
        "import sys\nfrom rlvr.envs.reflection.store import ReflectionStore\n"
        "store = ReflectionStore(sys.argv[1])\n"
        "for i in range(100):\n"
        "    store.add_reflection('t', i, sys.argv[2])\n"
        "    store.save_constitution([f'{sys.argv[2]} {i}'], source='advisor')\n"
    )
    processes = [subprocess.Popen([sys.executable, "-c", code, str(path), name]) for name in ("x", "y")]
    assert [process.wait(timeout=60) for process in processes] == [0, 0]
    with ReflectionStore(path) as store:
        assert len(store.reflections("t")) == 200
        versions = store.constitutions()
        assert [c.version for c in versions] == list(range(1, 201))
        assert store.latest_constitution() == versions[-1]
        assert {c.source for c in versions} == {"advisor"}


def test_store_rejects_bad_constitutions() -> None:
    with ReflectionStore() as store:
        with pytest.raises(ValueError):
            store.save_constitution([], source="self")
        with pytest.raises(ValueError):
            store.save_constitution(["x"], source="oracle")
        assert store.latest_constitution() is None


# -- constitutions ----------------------------------------------------------------------------------


def test_constitution_is_shown_at_the_start_of_every_task_without_memory() -> None:
    store = ReflectionStore()
    store.save_constitution(["Old rule."], source="manual")
    saved = store.save_constitution(["Answer the digit you learned.", "Read the feedback."], source="advisor")
    env = ConstitutionWrapper(GuessEnv(), store=store, max_trials=2, reflect_on_final_failure=False)
    observation, info = env.reset(seed=5)
    assert observation.startswith("Your constitution")
    assert "1. Answer the digit you learned.\n2. Read the feedback." in observation
    assert "Old rule." not in observation
    assert observation.endswith("Guess the secret digit (1-9).")
    assert info["constitution_version"] == saved.version
    assert "constitution" not in info["instructions"].lower().split("reply with")[0]
    # Constitution mode retries without memory and asks for no reflection.
    observation, *_ = env.step("0")
    assert "Your memory" not in observation and "Trial 2 of 2." in observation
    *_, info = env.step("0")
    assert info["metrics"]["reflections"] == 0.0 and info["metrics"]["constitution_version"] == saved.version

    in_instructions = ConstitutionWrapper(GuessEnv(), store=store, constitution_in="instructions")
    observation, info = in_instructions.reset(seed=5)
    assert observation == "Guess the secret digit (1-9)."
    assert info["instructions"].endswith("2. Read the feedback.")

    fallback = ReflexionWrapper(GuessEnv(), mode="both", constitution=["Start here."])
    observation, _ = fallback.reset(seed=1)
    assert "1. Start here." in observation


def test_self_curation_every_two_tasks_is_shared_through_the_store(tmp_path: Path) -> None:
    path = str(tmp_path / "c.db")
    kwargs: dict[str, Any] = {"mode": "both", "curate_every": 2, "store": path, "max_trials": 2}
    first, second = ReflexionWrapper(GuessEnv(), **kwargs), ReflexionWrapper(GuessEnv(), **kwargs)
    # Task 1 (first env): solved on trial 2; no curation yet.
    record = play(first, seed=5)
    assert record[-1][2]["metrics"]["curated"] == 0.0
    assert not any(CURATE_MARK in obs for obs, _, _ in record)
    # Task 2 (second env): the second task in the store, so it ends with a curation turn; the
    # final failed trial is reflected on too, since curation feeds on reflections.
    record = play(second, seed=6, agent=lambda obs: scripted_agent(obs, use_memory=False))
    phases = [info["phase"] for _, _, info in record]
    assert phases == ["act", "reflect", "act", "reflect", "curate", "done"]
    curation = record[-2][0]
    assert "You have no constitution yet." in curation and "at most 10 principles" in curation
    assert curation.count("- I guessed wrong") == 3
    metrics = record[-1][2]["metrics"]
    assert metrics["curated"] == 1.0 and metrics["reflections"] == 2.0
    assert record[-1][0].startswith("Constitution saved as version 1")
    # The new version reaches both envs at their next reset.
    for env in (first, second):
        observation, info = env.reset(seed=9)
        assert "1. Read your memory first.\n2. Answer the digit you learned." in observation
        assert info["constitution_version"] == 1
    with ReflectionStore(path) as store:
        (version,) = store.constitutions()
        assert version.source == "self" and len(version.principles) == 2
    first.close()
    second.close()


def test_a_curation_reply_without_a_list_keeps_the_old_constitution() -> None:
    env = ReflexionWrapper(GuessEnv(), mode="both", curate_every=1, constitution=["Keep me."], max_trials=2)
    env.reset(seed=3)
    env.step("0")
    env.step("I think the secret was high.")
    env.step("0")
    observation, _, terminated, _, info = env.step("lesson")  # the final reflection
    assert info["phase"] == "curate" and "Your current constitution:\n1. Keep me." in observation
    observation, reward, terminated, _, info = env.step("No changes needed.")
    assert terminated and reward == 0.0 and info["invalid_action"]
    assert info["metrics"]["curated"] == 0.0
    assert env.store is not None and env.store.latest_constitution() is None
    assert "Keep me." in env.reset(seed=3)[0]


def test_curation_is_skipped_when_there_is_nothing_to_curate_from() -> None:
    env = ReflexionWrapper(GuessEnv(), mode="constitution", curate_every=1)
    env.reset(seed=3)
    *_, terminated, _, info = env.step(str(env.env.secret))
    assert terminated and info["phase"] == "done"


# -- building and registering --------------------------------------------------------------------------


def test_entry_points_subclasses_and_the_gymnasium_registry() -> None:
    from rlvr.envs.reflection import make_reflexion_env

    env = make_reflexion_env(GUESS, patience=7, max_trials=4)
    assert isinstance(env.env, GuessEnv) and env.env.patience == 7 and env.max_trials == 4
    sub = GuessReflexionEnv(patience=2, memory_size=1)
    assert sub.env.patience == 2 and sub.memory_size == 1
    with pytest.raises(TypeError):
        ReflexionWrapper(GuessEnv(), patience=3)
    with pytest.raises(ValueError):
        ReflexionWrapper(GuessEnv(), curate_every=2)  # reflexion mode has no constitution
    register_env(
        EnvEntry(
            id="rlvr-test/GuessReflexionFactory-v0",
            entry_point="rlvr.envs.reflection:make_reflexion_env",
            description="guess a digit, with reflections (test env)",
            kwargs={"env": GUESS, "max_trials": 2},
        )
    )
    made = gymnasium.make("rlvr-test/GuessReflexionFactory-v0", patience=5)
    assert isinstance(made.unwrapped, ReflexionWrapper) and made.unwrapped.env.patience == 5
    observation, _ = made.reset(seed=0)
    assert observation == "Guess the secret digit (1-9)."
    made.close()
