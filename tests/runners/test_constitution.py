"""The OmniReflect advisor (``build_constitution``) and both reflection modes driven by the runner."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from rlvr.agents import CallablePolicy, Completion, Policy, PolicyError, SamplingParams
from rlvr.core.records import Message
from rlvr.core.registry import EnvEntry, register_env
from rlvr.envs.reflection import ConstitutionWrapper, ReflectionStore, ReflexionWrapper
from rlvr.runners.constitution import advisor_messages, build_constitution
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.rollout import rollout
from tests.envs.test_reflection import GuessEnv, GuessReflexionEnv, scripted_agent

RUNNER_ENV = "rlvr-test/GuessReflexion-v0"
register_env(
    EnvEntry(
        id=RUNNER_ENV,
        entry_point="tests.envs.test_reflection:GuessReflexionEnv",
        description="guess a digit over several trials, with reflections (test env)",
        tags=("test",),
    )
)

ADVICE = "Principles:\n1. Read the feedback of the last trial.\n2. Answer the digit it revealed.\n"


class Advisor(Policy):
    """A scripted advisor: a fixed reply, and the chats it was asked."""

    blocking = False

    def __init__(self, reply: str = ADVICE, error: str | None = None) -> None:
        self.reply = reply
        self.error = error
        self.asked: list[list[Message]] = []

    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        self.asked.extend(batch)
        return [Completion(text=self.reply, error=self.error) for _ in batch]


def test_advisor_builds_a_constitution_that_envs_then_read() -> None:
    store = ReflectionStore()
    advisor = Advisor()
    principles = build_constitution(
        advisor, ["Look at the reveal.", "  ", "I should\nanswer 3."], store=store
    )
    assert principles == ["Read the feedback of the last trial.", "Answer the digit it revealed."]
    (messages,) = advisor.asked
    assert messages[0]["role"] == "system"
    assert "1) Look at the reveal.\n2) I should answer 3." in messages[1]["content"]
    saved = store.latest_constitution()
    assert saved is not None and saved.source == "advisor" and saved.principles == tuple(principles)
    # The env only reads: no curation turn, the advisor's version at every reset.
    env = ConstitutionWrapper(GuessEnv(), store=store)
    observation, info = env.reset(seed=0)
    assert "1. Read the feedback of the last trial." in observation
    assert info["constitution_version"] == saved.version


def test_advisor_reads_its_calibration_set_from_the_store() -> None:
    store = ReflectionStore()
    store.add_reflection("a", 1, "helped", success=True)
    store.add_reflection("b", 1, "did not help", success=False)
    store.add_reflection("c", 1, "other scope", scope="elsewhere")
    advisor = Advisor()
    build_constitution(advisor, store, only_successful=True, max_principles=1, current=["Old."])
    prompt = advisor.asked[0][1]["content"]
    assert "helped" in prompt and "did not help" not in prompt and "other scope" not in prompt
    assert "The current constitution, to revise:\n1. Old." in prompt and "at most 1 principles" in prompt
    assert store.latest_constitution().principles == ("Read the feedback of the last trial.",)


def test_a_useless_advisor_reply_saves_nothing() -> None:
    store = ReflectionStore()
    with pytest.raises(ValueError, match="no numbered or bulleted"):
        build_constitution(Advisor("I cannot help with that."), ["x"], store=store)
    with pytest.raises(PolicyError):
        build_constitution(Advisor(error="timeout"), ["x"], store=store)
    with pytest.raises(ValueError, match="no reflections"):
        build_constitution(Advisor(), store)
    assert store.latest_constitution() is None
    assert advisor_messages(["a"], max_principles=3)[1]["content"].count("at most 3") == 1


def _policy() -> CallablePolicy:
    def reply(messages: list[Message]) -> str:
        return scripted_agent(messages[-1]["content"])

    return CallablePolicy(reply, blocking=False)


def test_reflexion_mode_through_the_runner() -> None:
    specs = [EpisodeSpec(RUNNER_ENV, seed, {"agent": "p"}, {"max_trials": 3}) for seed in range(4)]
    trajectories = rollout(specs, {"p": _policy()}, max_episodes=4)
    for trajectory in trajectories:
        assert trajectory.error is None and trajectory.terminated
        metrics = trajectory.metrics["agent"]
        assert metrics["success"] == 1.0 and metrics["success@1"] == 0.0 and metrics["success@2"] == 1.0
        assert [turn.info["phase"] for turn in trajectory.turns] == ["act", "reflect", "act"]
        assert trajectory.returns == {"agent": 1.0}
        # The reflection turn sees the failed trial; trial 2 starts a fresh chat (``new_context``), as
        # in Reflexion: the rules, then the memory and the task again, nothing of trial 1.
        reflect_prompt = trajectory.turns[1].prompt
        assert [m["role"] for m in reflect_prompt] == ["system", "user", "assistant", "user"]
        last_prompt = trajectory.turns[-1].prompt
        assert [m["role"] for m in last_prompt] == ["system", "user"]
        assert "up to 3 times" in last_prompt[0]["content"]
        assert last_prompt[-1]["content"].startswith("Your memory")
        assert "Next time answer" in last_prompt[-1]["content"]  # the reflection, via the memory


def test_self_curating_constitution_mode_through_the_runner(tmp_path: Path) -> None:
    path = str(tmp_path / "runner.db")
    kwargs = {"mode": "both", "curate_every": 2, "store": path, "max_trials": 2}
    specs = [EpisodeSpec(RUNNER_ENV, seed, {"agent": "p"}, kwargs) for seed in range(6)]
    trajectories = rollout(specs, {"p": _policy()}, max_episodes=3)
    assert all(t.error is None and t.terminated for t in trajectories)
    curated = [t for t in trajectories if t.metrics["agent"]["curated"] == 1.0]
    curation_turns = [turn for t in trajectories for turn in t.turns if turn.info["phase"] == "curate"]
    assert len(curated) == len(curation_turns) == 3  # every second of six tasks, across env instances
    with ReflectionStore(path) as store:
        assert store.episode_count() == 6
        versions = store.constitutions()
        assert len(versions) == 3 and {v.source for v in versions} == {"self"}
        assert len(store.reflections()) == 6
    # Episodes that started after a curation show the constitution in their first observation.
    later = [t for t in trajectories if t.turns[0].info["constitution_version"] > 0]
    assert later
    for trajectory in later:
        assert trajectory.turns[0].observation.startswith("Your constitution")


def test_advisor_constitution_mode_through_the_runner(tmp_path: Path) -> None:
    path = str(tmp_path / "advisor.db")
    with ReflectionStore(path) as store:
        build_constitution(Advisor(), ["reflect on the reveal"], store=store)
    kwargs = {"mode": "constitution", "store": path, "max_trials": 1}
    specs = [EpisodeSpec(RUNNER_ENV, seed, {"agent": "p"}, kwargs) for seed in range(3)]
    trajectories = rollout(specs, {"p": _policy()}, max_episodes=3)
    for trajectory in trajectories:
        assert trajectory.error is None
        assert [turn.info["phase"] for turn in trajectory.turns] == ["act"]
        assert "2. Answer the digit it revealed." in trajectory.turns[0].observation
        assert trajectory.metrics["agent"]["constitution_version"] == 1.0


def test_registry_subclass_is_a_reflexion_wrapper() -> None:
    env = GuessReflexionEnv()
    assert isinstance(env, ReflexionWrapper) and isinstance(env.env, GuessEnv)
